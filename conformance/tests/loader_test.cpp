// The loader: the real library loads, and each kind of mistake in a file is named with the file, the
// scenario, the step and the field.
#include "scenario/loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace conformance::scenario;
namespace fs = std::filesystem;

namespace {

std::string const schema_path = std::string(SCENARIOS_DIR) + "/scenario.schema.json";

Json schema() {
    std::ifstream in(schema_path);
    return Json::parse(in);
}

fs::path const test_file = fs::temp_directory_path() / ("loader-test-" + std::to_string(::getpid()) + ".json");

// Writes `steps` as the one scenario of `test_file` and returns the loader's complaint ("" if none).
std::string complaint(std::string const& steps, std::string const& sockets = R"({"a": {"v": "2", "role": "server"}})") {
    std::ofstream(test_file) << R"({"section": "T", "scenarios": [{"id": "t-one", "title": "t", "requirements": ["T-1"],
        "level": "MUST", "tags": [], "sockets": )" << sockets << R"(, "steps": )" << steps << "}]}";
    try {
        load_file(test_file, schema());
    } catch (LoadError const& e) {
        fs::remove(test_file);
        return e.what();
    }
    fs::remove(test_file);
    return {};
}

}  // namespace

TEST(Loader, TheScenarioLibraryLoads) {
    auto scenarios = load_library(SCENARIOS_DIR, schema_path);
    EXPECT_GT(scenarios.size(), 40u);
}

TEST(Loader, AValidStepListLoads) {
    EXPECT_EQ(complaint(R"([{"open": "a"}, {"expect": "a", "frame": {"json": {"type": "sync"}, "subset": true}}])"), "");
}

TEST(Loader, UnknownStepFieldNamesFileScenarioStepAndPointer) {
    auto message = complaint(R"([{"open": "a"}, {"expect": "a", "frame": {"any": true}, "within": 5}])");
    EXPECT_NE(message.find("loader-test-"), std::string::npos);
}

TEST(Loader, ErrorsArePrecise) {
    struct Case {
        std::string steps, expected;
    };
    for (auto const& c : std::vector<Case>{
             {R"([{"open": "a"}, {"expect": "a", "frame": {"any": true}, "within": 5}])",
              R"(scenario "t-one" step 2 (/scenarios/0/steps/1/within): unknown field "within")"},
             {R"([{"open": "b"}])", R"(step 1 (/scenarios/0/steps/0/open): no socket named "b")"},
             {R"([{"frobnicate": "a"}])", "step 1 (/scenarios/0/steps/0): a step needs one of"},
             {R"([{"send": "a", "text": "x", "json": 1}])", "step 1 (/scenarios/0/steps/0): a send step needs exactly one"},
             {R"([{"expect": "a", "frame": {"json": {"t": {"$regx": "x"}}}}])", R"(unknown matcher key "$regx")"},
             {R"([{"expect": "a", "nothing": true, "window": {"after": "t0", "min_ms": 1, "max_ms": 2}}])",
              R"(no earlier step sets the mark "t0")"},
             {R"([{"send": "a", "text": "${cid}"}])", "${cid} is used before any step captures it"},
             {R"([{"expect": "a", "close": {"code": "x"}}])", "(/scenarios/0/steps/0/close/code)"},
         }) {
        auto message = complaint(c.steps);
        EXPECT_NE(message.find(c.expected), std::string::npos) << "for " << c.steps << "\ngot: " << message;
    }
}

TEST(Loader, CapturedVariablesMayBeUsedLater) {
    EXPECT_EQ(complaint(R"([{"open": "a"}, {"expect": "a", "frame": {"json": {"id": {"$capture": "cid"}}}},
                            {"send": "a", "text": "${cid}"}])"),
              "");
}

TEST(Loader, AKeyGivenTwiceNamesFileScenarioStepAndPointer) {
    EXPECT_EQ(complaint(R"([{"open": "probe-daemon"}])",
                        R"({"probe-daemon": {"v": "2", "role": "server"}, "probe-daemon": {"v": "2", "role": "server"}})"),
              test_file.string() + R"(: scenario "t-one" (/scenarios/0/sockets/probe-daemon): )"
                                   R"(key "probe-daemon" given more than once (parsers keep only the last))");
    EXPECT_EQ(complaint(R"([{"open": "a"}, {"expect": "a", "frame": {"any": true}, "within_ms": 5, "within_ms": 50}])"),
              test_file.string() + R"(: scenario "t-one" step 2 (/scenarios/0/steps/1/within_ms): )"
                                   R"(key "within_ms" given more than once (parsers keep only the last))");
    // At any depth, with array elements of every kind counted.
    EXPECT_EQ(complaint(R"([{"open": "a"}, {"expect": "a", "one_of": [{"ended": true}, {"frame": {"json": [1, {"t": 1, "t": 2}]}}]}])"),
              test_file.string() + R"(: scenario "t-one" step 2 (/scenarios/0/steps/1/one_of/1/frame/json/1/t): )"
                                   R"(key "t" given more than once (parsers keep only the last))");
}

TEST(Loader, TextHexSendsATextFrameOfExactlyThoseBytes) {
    std::ofstream(test_file) << R"({"section": "T", "scenarios": [{"id": "t-one", "title": "t", "requirements": ["T-1"],
        "level": "MUST", "tags": [], "sockets": {"a": {"v": "2", "role": "server"}},
        "steps": [{"open": "a"}, {"send": "a", "text_hex": "68c3"}]}]})";
    auto const scenarios = load_file(test_file, schema());
    fs::remove(test_file);
    auto const& send = std::get<SendStep>(scenarios.at(0).steps.at(1).action);
    EXPECT_EQ(send.type, FrameType::text);
    EXPECT_EQ(send.payload, std::string("h\xc3"));
    EXPECT_FALSE(send.substitute);
    EXPECT_NE(complaint(R"([{"open": "a"}, {"send": "a", "text_hex": "h"}])").find("(/scenarios/0/steps/1/text_hex)"), std::string::npos);
}
