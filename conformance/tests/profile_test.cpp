// Profiles (profiles/NAME/profile.json): the committed ones load and their scenario folders load under
// them; a broken profile file is named with its file and field; an unknown name lists the known ones;
// sockets expand to request targets as the profile says; scenarios are held to the profile's fields,
// variables and requirement ids.
#include "scenario/loader.hpp"
#include "scenario/profile.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace conformance::scenario;
namespace fs = std::filesystem;

namespace {

fs::path const root = PROJECT_ROOT;

// A scratch root with profiles/profile.schema.json and one profiles/x/profile.json holding `text`.
struct ScratchRoot {
    fs::path dir = fs::temp_directory_path() / ("profile-test-" + std::to_string(::getpid()));
    explicit ScratchRoot(std::string const& text) {
        fs::create_directories(dir / "profiles" / "x");
        fs::copy_file(root / "profiles" / "profile.schema.json", dir / "profiles" / "profile.schema.json",
                      fs::copy_options::overwrite_existing);
        std::ofstream(dir / "profiles" / "x" / "profile.json") << text;
    }
    ~ScratchRoot() { fs::remove_all(dir); }
    std::string complaint() const {
        try {
            find_profile(dir, "x");
        } catch (LoadError const& e) {
            return e.what();
        }
        return {};
    }
};

std::string const good = R"({"name": "x", "title": "X", "requirements": "x.md", "requirement_pattern": "^X-[0-9]+$",
    "scenarios": "x", "variables": ["a"], "sockets": {"path": "/p/${a}"}})";

SocketSpec socket(std::map<std::string, std::string> fields, std::optional<std::string> query = {},
                  std::optional<std::string> path = {}) {
    SocketSpec s;
    s.fields = std::move(fields);
    s.query = std::move(query);
    s.path = std::move(path);
    return s;
}

std::string const scenario_schema = root / "scenarios" / "scenario.schema.json";

Json schema() {
    std::ifstream in(scenario_schema);
    return Json::parse(in);
}

// Loads one scenario under `profile`; the loader's complaint, "" if none.
std::string complaint_under(Profile const& profile, std::string const& requirement, std::string const& sockets,
                            std::string const& steps) {
    auto const file = fs::temp_directory_path() / ("profile-scenario-" + std::to_string(::getpid()) + ".json");
    std::ofstream(file) << R"({"section": "T", "scenarios": [{"id": "t-one", "title": "t", "requirements": [")" << requirement
                        << R"("], "level": "MUST", "tags": [], "sockets": )" << sockets << R"(, "steps": )" << steps << "}]}";
    std::string message;
    try {
        load_file(file, schema(), profile);
    } catch (LoadError const& e) {
        message = e.what();
    }
    fs::remove(file);
    return message;
}

}  // namespace

TEST(Profile, PaseoIsTheBuiltInDefault) {
    auto const p = find_profile(root, "paseo");
    auto const builtin = Profile::paseo();
    EXPECT_EQ(p.variables, builtin.variables);
    EXPECT_EQ(p.query_fields, builtin.query_fields);
    EXPECT_EQ(p.defaults, builtin.defaults);
    EXPECT_EQ(p.socket_path, builtin.socket_path);
    EXPECT_EQ(p.requirement_pattern, builtin.requirement_pattern);
    EXPECT_EQ(p.scenarios, root / "scenarios");
    EXPECT_EQ(p.requirements, root / "docs" / "protocol.md");
}

TEST(Profile, EveryCommittedProfileLoadsWithItsScenarios) {
    auto const names = known_profiles(root);
    EXPECT_NE(std::find(names.begin(), names.end(), "paseo"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "localfirst"), names.end());
    for (auto const& name : names) {
        auto const p = find_profile(root, name);
        EXPECT_EQ(p.name, name);
        if (fs::is_directory(p.scenarios)) {
            EXPECT_NO_THROW(load_library(p.scenarios, scenario_schema, p)) << name;
        }
    }
}

TEST(Profile, UnknownNameListsTheKnownOnes) {
    try {
        find_profile(root, "nope");
        FAIL() << "no error";
    } catch (LoadError const& e) {
        EXPECT_EQ(std::string(e.what()).find("unknown profile \"nope\"; known profiles: "), 0u) << e.what();
        EXPECT_NE(std::string(e.what()).find("localfirst, paseo"), std::string::npos) << e.what();
    }
}

TEST(Profile, AGoodScratchProfileLoads) {
    ScratchRoot r(good);
    EXPECT_EQ(r.complaint(), "");
    auto const p = find_profile(r.dir, "x");
    EXPECT_EQ(p.scenarios, r.dir / "x");
    EXPECT_EQ(p.socket_path, "/p/${a}");
}

TEST(Profile, BadFileIsNamedWithFileAndField) {
    ScratchRoot missing(R"({"name": "x", "title": "X", "requirements": "x.md", "requirement_pattern": "^X$", "scenarios": "x",
        "sockets": {"path": "/"}})");
    auto message = missing.complaint();
    EXPECT_NE(message.find("profiles/x/profile.json: "), std::string::npos) << message;
    EXPECT_NE(message.find("variables"), std::string::npos) << message;

    ScratchRoot bad_path(R"({"name": "x", "title": "X", "requirements": "x.md", "requirement_pattern": "^X$", "scenarios": "x",
        "variables": ["a"], "sockets": {"path": "no-slash"}})");
    message = bad_path.complaint();
    EXPECT_NE(message.find("profile.json: /sockets/path: "), std::string::npos) << message;

    ScratchRoot stray(R"({"name": "x", "title": "X", "requirements": "x.md", "requirement_pattern": "^X$", "scenarios": "x",
        "variables": ["a"], "sockets": {"path": "/", "defaults": {"v": "2"}}})");
    message = stray.complaint();
    EXPECT_NE(message.find("profile.json: /sockets/defaults/v: not one of /sockets/query_fields"), std::string::npos) << message;

    ScratchRoot regex(R"({"name": "x", "title": "X", "requirements": "x.md", "requirement_pattern": "^X(", "scenarios": "x",
        "variables": ["a"], "sockets": {"path": "/"}})");
    message = regex.complaint();
    EXPECT_NE(message.find("profile.json: /requirement_pattern: not a valid regular expression"), std::string::npos) << message;

    ScratchRoot not_json("{");
    message = not_json.complaint();
    EXPECT_NE(message.find("profile.json: not valid JSON"), std::string::npos) << message;
}

TEST(Profile, PaseoAddressingIsTheQueryOfWs) {
    auto const p = Profile::paseo();
    conformance::matcher::Variables vars{{"serverId", "s-1"}};
    EXPECT_EQ(socket_target(socket({{"v", "2"}, {"role", "server"}}), p, vars), "/ws?serverId=s-1&v=2&role=server");
    EXPECT_EQ(socket_target(socket({{"connectionId", "c 1"}, {"serverId", "${serverId}-probe"}}), p, vars),
              "/ws?serverId=s-1-probe&connectionId=c%201");
    EXPECT_EQ(socket_target(socket({}, "serverId=${serverId}&role=%20server"), p, vars), "/ws?serverId=s-1&role=%20server");
    EXPECT_EQ(socket_target(socket({}, "", "/other"), p, vars), "/other");
}

TEST(Profile, PathTemplatesTakeVariablesAndCaptures) {
    Profile p;
    p.name = "lf";
    p.variables = {"alice", "bob", "doc"};
    p.socket_path = "/";
    conformance::matcher::Variables vars{{"alice", "a1"}, {"bob", "b1"}, {"doc", "d1"}, {"peer", "z"}};
    EXPECT_EQ(socket_target(socket({}, {}, "/connection/${alice}/${bob}/${doc}"), p, vars), "/connection/a1/b1/d1");
    EXPECT_EQ(socket_target(socket({}, "x=${peer}", "/introduction/${alice}"), p, vars), "/introduction/a1?x=z");
    EXPECT_EQ(socket_target(socket({}), p, vars), "/");
    EXPECT_THROW(socket_target(socket({}, {}, "/${nobody}"), p, vars), conformance::matcher::UnknownVariable);
}

TEST(Profile, FreshVariablesAreUniquePerRun) {
    Profile p;
    p.variables = {"alice", "bob"};
    auto const one = fresh_variables(p, "s");
    auto const two = fresh_variables(p, "s");
    EXPECT_NE(one.at("alice"), one.at("bob"));
    EXPECT_NE(one.at("alice"), two.at("alice"));
    EXPECT_EQ(one.at("alice").get<std::string>().rfind("s-", 0), 0u);
}

TEST(Profile, ScenariosAreHeldToTheProfile) {
    Profile lf;
    lf.name = "lf";
    lf.variables = {"alice"};
    lf.socket_path = "/";
    lf.requirement_pattern = "^LF(-[A-Z0-9]+)*-[0-9]+$";
    auto const steps = R"([{"open": "a"}])";
    EXPECT_EQ(complaint_under(lf, "LF-1", R"({"a": {"path": "/introduction/${alice}"}})", steps), "");
    auto message = complaint_under(lf, "LF-1", R"({"a": {"v": "2"}})", steps);
    EXPECT_NE(message.find("(/scenarios/0/sockets/a/v): not a socket field of profile lf"), std::string::npos) << message;
    message = complaint_under(lf, "V2-CTRL-1", R"({"a": {}})", steps);
    EXPECT_NE(message.find("requirement \"V2-CTRL-1\" is not an id of profile lf"), std::string::npos) << message;
    message = complaint_under(lf, "LF-1", R"({"a": {"path": "/introduction/${serverId}"}})", steps);
    EXPECT_NE(message.find("${serverId} is used before any step captures it"), std::string::npos) << message;
    EXPECT_EQ(complaint_under(Profile::paseo(), "V2-CTRL-1", R"({"a": {"path": "/x/${serverId}"}})", steps), "");
}

TEST(Profile, MsgpackStepsAndMatchersLoad) {
    auto const sockets = R"({"a": {"v": "2"}})";
    EXPECT_EQ(complaint_under(Profile::paseo(), "T-1", sockets,
                              R"([{"open": "a"}, {"send": "a", "msgpack": {"type": "Join", "documentIds": ["${serverId}"]}},
                                  {"expect": "a", "frame": {"msgpack": {"type": {"$capture": "t"}}, "subset": true}},
                                  {"send": "a", "msgpack": "${t}"}])"),
              "");
    auto message = complaint_under(Profile::paseo(), "T-1", sockets, R"([{"open": "a"}, {"send": "a", "msgpack": 1, "text": "x"}])");
    EXPECT_NE(message.find("exactly one of text, json, msgpack, binary_hex, text_hex, fill"), std::string::npos) << message;
    message = complaint_under(Profile::paseo(), "T-1", sockets, R"([{"open": "a"}, {"expect": "a", "frame": {"msgpack": 1, "type": "text"}}])");
    EXPECT_NE(message.find("msgpack implies a binary frame"), std::string::npos) << message;
    message = complaint_under(Profile::paseo(), "T-1", sockets, R"([{"open": "a"}, {"expect": "a", "frame": {"msgpack": 1, "json": 1}}])");
    EXPECT_NE(message.find("at most one of text, json, msgpack, binary_hex, any"), std::string::npos) << message;
}
