// The requirement texts of a profile's requirements document (Paseo: docs/protocol.md), for reports and coverage: each requirement is a list
// line `- **ID** (MUST|SHOULD) text`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace conformance {

struct Requirement {
    std::string id;
    std::string level;
    std::string text;
};

// Empty if the file cannot be read: reports then show ids without texts. With `id_pattern` (a profile's
// requirement_pattern), only the requirements whose id it matches.
std::vector<Requirement> read_requirements(std::filesystem::path const& protocol_md, std::string const& id_pattern = {});

Requirement const* find_requirement(std::vector<Requirement> const& all, std::string const& id);

}  // namespace conformance
