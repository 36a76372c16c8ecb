// Value patterns (docs/scenario-format.md, "Patterns"): literal JSON with $-matchers, captures and
// ${variables}. Shared by frame, close and HTTP matching.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace conformance::matcher {

using Json = nlohmann::json;
using Variables = std::map<std::string, Json>;  // captured and generated values

// A ${name} with no value: a fault of the scenario, not of the relay.
class UnknownVariable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Replaces ${name} with the variable's value (strings as they are, other JSON as compact text) and
// $${ with ${. Throws UnknownVariable.
std::string substitute(std::string const& text, Variables const& vars);

// The same inside every string of a JSON value (keys included), for `json` sends.
Json substitute_json(Json const& value, Variables const& vars);

struct MatchResult {
    bool matched = false;
    Variables captures;  // only meaningful when matched
    std::string why;     // when not matched: one line, e.g. `at /ts: expected an integer, got "12"`
    std::vector<std::string> nonstrict;  // when matched: each $strict pattern that did not hold, as a why
};

MatchResult match(Json const& pattern, Json const& value, bool subset, Variables const& vars);

// Named string values (HTTP headers, query parameters) against a pattern per name: `{"$absent": true}`
// holds when the name is missing, any other pattern needs it present and matching. Mismatches read
// `WHAT NAME missing`, `WHAT NAME should be absent, is "v"` or `WHAT NAME: why`.
MatchResult match_fields(std::map<std::string, Json> const& patterns, std::map<std::string, std::string> const& values,
                         std::string const& what, Variables const& vars);

// A pattern rendered for a person ("any integer", "string matching /conn_[0-9a-f]{16}/", or the JSON).
std::string describe(Json const& pattern);

}  // namespace conformance::matcher
