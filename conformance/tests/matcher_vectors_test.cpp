// Every vector in scenarios/matcher-vectors.json: the Python harness runs the same file, so both
// interpreters give every pattern the same verdict and captures.
#include "matcher/pattern.hpp"

#include <gtest/gtest.h>

#include <fstream>

using conformance::matcher::Json;

namespace {

struct Vector {
    std::string name;
    Json data;
};

std::vector<Vector> vectors() {
    std::ifstream in(std::string(SCENARIOS_DIR) + "/matcher-vectors.json");
    auto const doc = Json::parse(in);
    std::vector<Vector> out;
    for (auto const& v : doc.at("vectors")) out.push_back({v.at("name").get<std::string>(), v});
    return out;
}

class MatcherVector : public ::testing::TestWithParam<Vector> {};

}  // namespace

TEST_P(MatcherVector, AgreesWithTheSharedVerdict) {
    auto const& v = GetParam().data;
    conformance::matcher::Variables vars;
    auto const given = v.value("vars", Json::object());
    for (auto const& [name, value] : given.items()) vars[name] = value;
    auto result = conformance::matcher::match(v.at("pattern"), v.at("value"), v.value("subset", false), vars);
    EXPECT_EQ(result.matched, v.at("matches").get<bool>()) << result.why;
    if (!result.matched) return;
    auto const captures = v.value("captures", Json::object());
    for (auto const& [name, value] : captures.items()) EXPECT_EQ(result.captures[name], value) << name;
    EXPECT_EQ(!result.nonstrict.empty(), v.value("nonstrict", false));
}

INSTANTIATE_TEST_SUITE_P(Vectors, MatcherVector, ::testing::ValuesIn(vectors()), [](auto const& info) {
    std::string name;
    for (char c : info.param.name) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return name;
});
