// Reads scenario files: parses each (a key that an object gives twice is an error), validates it against
// scenarios/scenario.schema.json, then builds the model.
// Errors name the file, the scenario id, the step index and the field (as a JSON pointer).
#pragma once

#include "scenario/model.hpp"
#include "scenario/profile.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace conformance::scenario {

class LoadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Relay scenarios (the runner is a client of the relay under test) or client scenarios (a file with
// "kind": "client": the runner plays the relay for the client under test). A file of the other kind
// is an error naming its kind.
enum class FileKind { relay, client };

// Every *.json under `dir` (recursively, sorted by path), except the schema and matcher vectors.
// Throws LoadError listing every problem found (one line each), including duplicate ids across files.
// Under a profile: its variables, socket fields and requirement ids are the ones a scenario may use.
std::vector<Scenario> load_library(std::filesystem::path const& dir, std::filesystem::path const& schema_file,
                                   Profile const& profile = Profile::paseo(), FileKind kind = FileKind::relay);

// One file. Throws LoadError.
std::vector<Scenario> load_file(std::filesystem::path const& file, Json const& schema, Profile const& profile = Profile::paseo(),
                                FileKind kind = FileKind::relay);

}  // namespace conformance::scenario
