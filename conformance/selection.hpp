// Which scenarios a run takes (selectors and exclusions), and the expectations file of known
// deviations of one relay.
#pragma once

#include "interpreter/result.hpp"
#include "scenario/model.hpp"

#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace conformance {

struct Selectors {
    std::vector<std::string> ids;           // globs
    std::vector<std::string> tags;
    std::vector<std::string> required_tags;  // each must be there (check-client --kind)
    std::vector<std::string> requirements;
    std::vector<std::string> excludes;      // id glob, tag:T or req:R
    bool include_long = false;
};

// OR within a kind of selector, AND across kinds. Scenarios tagged `long` are left out unless
// asked for by --include-long, by id, or by tag.
std::vector<scenario::Scenario const*> select(std::vector<scenario::Scenario> const& all, Selectors const& selectors);

class ExpectationsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Expectations {
    std::string relay;
    std::map<std::string, std::string> expected_failures;  // scenario id -> why (fail or blocked)
    std::map<std::string, std::string> known_flaky;        // scenario id -> why (flaky with --repeat)
};

Expectations read_expectations(std::filesystem::path const& file);  // throws ExpectationsError
// Throws ExpectationsError when the file cannot be written.
void write_expectations(std::filesystem::path const& file, std::string const& relay,
                        std::vector<interpreter::ScenarioResult> const& results);

bool glob_match(std::string const& pattern, std::string const& text);

}  // namespace conformance
