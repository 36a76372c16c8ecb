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

Json schema(std::string const& path = schema_path) {
    std::ifstream in(path);
    return Json::parse(in);
}

std::string const client_schema_path = std::string(PROJECT_ROOT) + "/client-scenarios/client-scenario.schema.json";
std::string const control = R"({"control": {"serverId": {"$capture": "serverId"}, "role": "server", "v": "2", "connectionId": {"$absent": true}},
    "data": {"serverId": "${serverId}", "connectionId": "c1"}})";

fs::path const test_file = fs::temp_directory_path() / ("loader-test-" + std::to_string(::getpid()) + ".json");

// Writes `steps` as the one scenario of `test_file` and returns the loader's complaint ("" if none).
// `kind`: the file's "kind" member, if any; a client file is loaded as one, with the paseo profile's
// client side.
std::string complaint(std::string const& steps, std::string const& sockets = R"({"a": {"v": "2", "role": "server"}})",
                      std::string const& kind = "") {
    bool const client = kind == "client";
    std::ofstream(test_file) << "{" << (kind.empty() ? "" : R"("kind": ")" + kind + R"(", )") << R"("section": "T", "scenarios": [{"id": "t-one", "title": "t", "requirements": [")"
                             << (client ? "DAEMON-1" : "T-1") << R"("], "level": "MUST", "tags": [], "sockets": )" << sockets
                             << R"(, "steps": )" << steps << "}]}";
    try {
        if (client)
            load_file(test_file, schema(client_schema_path), client_side(Profile::paseo()), FileKind::client);
        else
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

TEST(Loader, AClientScenarioLoads) {
    EXPECT_EQ(complaint(R"([{"accept": "control", "within_ms": 35000, "mark": "open"},
                            {"expect": "control", "frame": {"json": {"type": "ping"}, "subset": true}, "window": {"after": "open", "min_ms": 0, "max_ms": 1000}},
                            {"send": "control", "json": {"type": "sync", "connectionIds": ["c1"]}},
                            {"accept": "data", "within_ms": 15000},
                            {"close": "data", "code": 1001, "mark": "closed"},
                            {"no_connection": "data", "within_ms": 3000},
                            {"close": "control", "code": 1012},
                            {"accept": "control", "refuse": {"status": 503, "body": "busy", "headers": {"retry-after": "1"}}}])",
                        control, "client"),
              "");
}

TEST(Loader, ClientAndRelayStepsStayInTheirKindOfFile) {
    EXPECT_EQ(complaint(R"([{"accept": "control"}, {"open": "control"}])", control, "client"),
              test_file.string() + R"(: scenario "t-one" step 2 (/scenarios/0/steps/1/open): "open" is not a step of a client scenario )"
                                   R"((the client under test connects: use accept))");
    EXPECT_NE(complaint(R"([{"http": {"path": "/"}, "response": {"status": 200}}])", control, "client")
                  .find(R"(step 1 (/scenarios/0/steps/0/http): "http" is not a step of a client scenario)"),
              std::string::npos);
    EXPECT_EQ(complaint(R"([{"accept": "a"}])"),
              test_file.string() + R"(: scenario "t-one" step 1 (/scenarios/0/steps/0/accept): "accept" is a step of client scenarios only )"
                                   R"((files with "kind": "client"))");
    EXPECT_NE(complaint(R"([{"no_connection": "a"}])").find(R"((/scenarios/0/steps/0/no_connection): "no_connection" is a step of client)"),
              std::string::npos);
    // A client scenario file where relay scenarios are read, and the other way round.
    std::ofstream(test_file) << R"({"kind": "client", "section": "T", "scenarios": []})";
    EXPECT_THROW(
        try { load_file(test_file, schema()); } catch (LoadError const& e) {
            EXPECT_NE(std::string(e.what()).find("(/kind): a client scenario file"), std::string::npos) << e.what();
            throw;
        },
        LoadError);
    std::ofstream(test_file) << R"({"section": "T", "scenarios": []})";
    EXPECT_THROW(load_file(test_file, schema(client_schema_path), client_side(Profile::paseo()), FileKind::client), LoadError);
    fs::remove(test_file);
}

TEST(Loader, BadSocketPatternsAreNamed) {
    struct Case {
        std::string sockets, expected;
    };
    for (auto const& c : std::vector<Case>{
             {R"({"control": {"serverId": {"$regx": "x"}}})", R"(scenario "t-one" (/scenarios/0/sockets/control/serverId): unknown matcher key "$regx")"},
             {R"({"control": {"role": {"$regex": "("}}})", R"((/scenarios/0/sockets/control/role/$regex): not a valid regular expression)"},
             {R"({"control": {"host": "x"}})", R"((/scenarios/0/sockets/control/host): unknown field "host")"},
             {R"({"control": {"headers": {"x": {"$absent": 1}}}})", R"((/scenarios/0/sockets/control/headers/x/$absent): $absent must be true)"},
             {R"({"control": {"serverId": "${serverId}"}})", R"(step 1 (/scenarios/0/steps/0): ${serverId} is used before any step captures it)"},
         }) {
        auto const message = complaint(R"([{"accept": "control"}])", c.sockets, "client");
        EXPECT_NE(message.find(c.expected), std::string::npos) << "for " << c.sockets << "\ngot: " << message;
    }
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
