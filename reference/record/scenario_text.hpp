// Spells a scenario file as the library's files read: one socket and one step per line, `key: value`
// with a space after colons and commas, so a recording reads (and diffs) like the scenarios beside it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace relay::record {

// `{"section": ..., "scenarios": [scenario]}` with a trailing newline.
std::string scenario_file_text(std::string const& section, nlohmann::ordered_json const& scenario);

}  // namespace relay::record
