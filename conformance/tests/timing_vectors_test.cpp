// Every vector in scenarios/timing-vectors.json: the Python harness runs the same file, so both
// interpreters bound and judge time identically.
#include "interpreter/timing.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <fstream>

using namespace conformance::interpreter;
using Json = nlohmann::json;

namespace {

Json vectors(char const* kind) {
    std::ifstream in(std::string(SCENARIOS_DIR) + "/timing-vectors.json");
    return Json::parse(in).at(kind);
}

char const* name(Arrival a) { return a == Arrival::early ? "early" : a == Arrival::late ? "late" : "in"; }

}  // namespace

TEST(TimingVectors, Allowance) {
    for (auto const& v : vectors("allowance"))
        EXPECT_DOUBLE_EQ(allowance_ms(v.at("calibrated_ms"), v.at("longest_step_ms")), v.at("allowance_ms").get<double>())
            << v.at("name");
}

TEST(TimingVectors, Quiet) {
    for (auto const& v : vectors("quiet"))
        EXPECT_DOUBLE_EQ(quiet_ms(v.at("within_ms"), v.at("time_scale"), v.at("allowance_ms")), v.at("quiet_ms").get<double>())
            << v.at("name");
}

TEST(TimingVectors, Window) {
    for (auto const& v : vectors("window")) {
        MarkInterval const mark{v.at("mark").at("start"), v.at("mark").at("finish")};
        auto const bounds = window_bounds(mark, v.at("min_ms"), v.at("max_ms"), v.at("time_scale"), v.at("allowance_ms"));
        EXPECT_DOUBLE_EQ(bounds.earliest, v.at("earliest").get<double>()) << v.at("name");
        EXPECT_DOUBLE_EQ(bounds.latest, v.at("latest").get<double>()) << v.at("name");
        EXPECT_STREQ(name(judge_time(v.at("at"), bounds)), v.at("judgement").get<std::string>().c_str()) << v.at("name");
    }
}
