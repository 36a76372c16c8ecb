#include "requirements.hpp"

#include <fstream>
#include <regex>

namespace conformance {

std::vector<Requirement> read_requirements(std::filesystem::path const& protocol_md, std::string const& id_pattern) {
    static std::regex const line_form(R"(^- \*\*([A-Z0-9]+(?:-[A-Z0-9]+)*-[0-9]+)\*\* \((MUST|SHOULD)\) (.*)$)");
    std::vector<Requirement> out;
    std::ifstream in(protocol_md);
    std::string line;
    std::smatch m;
    while (std::getline(in, line))
        if (std::regex_match(line, m, line_form) && (id_pattern.empty() || std::regex_search(m[1].str(), std::regex(id_pattern))))
            out.push_back({m[1], m[2], m[3]});
    return out;
}

Requirement const* find_requirement(std::vector<Requirement> const& all, std::string const& id) {
    for (auto const& r : all)
        if (r.id == id) return &r;
    return nullptr;
}

}  // namespace conformance
