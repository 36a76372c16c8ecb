// reference-relay --record (docs/daemon-development.md, "Record") over real loopback sockets: a
// daemon's and an app's conversation, and a v1 pair, are recorded as scenario files, which both runners
// then replay green, several times over, against a fresh relay; payloads are redacted unless
// --record-payloads. The relay's JSON trace is followed so that every step waits (bounded) for what it
// caused before the next.
#include "relay_process.hpp"
#include "file_follower.hpp"
#include "test_support.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>


namespace relay::testing::record {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path const repository = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();


std::string read_text(fs::path const& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<fs::path> json_files(fs::path const& dir) {
    std::vector<fs::path> files;
    for (auto const& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

// A recording relay whose JSON trace the test follows.
struct RecordingRelay {
    TempDir dir{"relay-record"};
    fs::path trace_file = dir.path / "trace.jsonl";
    RelayProcess relay;
    TraceFollower trace;

    explicit RecordingRelay(std::vector<std::string> extra = {})
        : relay(flags(std::move(extra))), trace(trace_file.string()) {}

    std::vector<std::string> flags(std::vector<std::string> extra) const {
        extra.insert(extra.begin(), {"--record", (dir.path / "recorded").string(), "--trace-json", trace_file.string()});
        return extra;
    }

    void wait_for(json const& fields) {
        EXPECT_FALSE(trace.next(fields).is_null()) << "no trace event with " << fields.dump() << ";\nlog:\n" << relay.log();
    }

    fs::path recorded() const { return dir.path / "recorded"; }
};

// Replays a folder of `count` scenarios against a fresh reference relay with both runners, each
// scenario `times` times.
void expect_replays_green(fs::path const& scenarios, int count, int times, std::vector<std::string> relay_flags = {},
                          std::string const& time_scale = "1") {
    RelayProcess relay(std::move(relay_flags));
    auto const dir = scenarios.string();
    auto const [status, output] = run_command(std::string(RELAY_CONFORMANCE_BINARY) + " run --scenarios " + dir +
                                                  " --url " + relay.url() + " --time-scale " + time_scale +
                                                  " --repeat " + std::to_string(times),
                                              240);
    EXPECT_EQ(status, 0) << output;
    EXPECT_NE(output.find("\n" + std::to_string(count) + " passed, 0 failed"), std::string::npos) << output;
    auto const [py_status, py_output] = run_command(
        "env PYTHONPATH=" + (repository / "pyharness").string() +
            " /usr/bin/python3 -m pytest -p relay_harness.plugin -p no:cacheprovider -q --rootdir " + dir +
            " --scenarios " + dir + " --relay-url " + relay.url() + " --relay-time-scale " + time_scale +
            " --relay-repeat " + std::to_string(times) + " " + dir,
        240);
    EXPECT_EQ(py_status, 0) << py_output;
    EXPECT_NE(py_output.find("\n" + std::to_string(count) + " passed in "), std::string::npos) << py_output;
}

// The conversation a daemon and an app have (issue 13), with payloads a test can look for.
std::string const secret_hello = R"({"secret":"hello ${not a variable}"})";
std::string const secret_bytes("\x00SECRET-BYTES\xfe", 14);
std::string const secret_reply = "SECRET-REPLY-" + std::string(100, 'r');

// Spaces in a serverId are percent-encoded in the query.
std::string v2_query(std::string const& sid) {
    std::string encoded;
    for (char c : sid) encoded += c == ' ' ? std::string("%20") : std::string(1, c);
    return "v=2&serverId=" + encoded + "&role=";
}

// The control socket is the caller's: a daemon's stays open after its app has left.
void v2_conversation(RecordingRelay& r, std::string const& sid, WsClient& control) {
    auto const q = v2_query(sid);
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");
    control.send_text(R"({"type":"ping"})");
    EXPECT_EQ(control.next_text().rfind(R"({"type":"pong","ts":)", 0), 0u);

    WsClient client(r.relay.port(), q + "client&connectionId=app-1");
    EXPECT_EQ(control.next_text(), R"({"type":"connected","connectionId":"app-1"})");
    client.send_text(secret_hello);
    r.wait_for({{"event", "buffered"}, {"server_id", sid}, {"kept", 1}});
    client.send_binary(secret_bytes);
    r.wait_for({{"event", "buffered"}, {"server_id", sid}, {"kept", 2}});

    WsClient data(r.relay.port(), q + "server&connectionId=app-1");
    EXPECT_EQ(data.next_text(), secret_hello);
    EXPECT_EQ(data.next().payload, secret_bytes);
    data.send_text(secret_reply);
    EXPECT_EQ(client.next_text(), secret_reply);
    client.send_text("SECRET-LIVE");
    EXPECT_EQ(data.next_text(), "SECRET-LIVE");
    data.send_binary("SECRET-DOWN");
    EXPECT_EQ(client.next().payload, "SECRET-DOWN");

    client.close(1000);
    EXPECT_EQ(client.next().kind, Event::Kind::closed);
    auto const closed = data.next();
    EXPECT_EQ(closed.code, 1001) << closed;
    EXPECT_EQ(control.next_text(), R"({"type":"disconnected","connectionId":"app-1"})");
    r.wait_for({{"event", "close_received"}, {"server_id", sid}, {"role", "data"}});
}

void v2_conversation_to_the_end(RecordingRelay& r, std::string const& sid) {
    WsClient control(r.relay.port(), v2_query(sid) + "server");
    v2_conversation(r, sid, control);
    control.close(1000);
    EXPECT_EQ(control.next().kind, Event::Kind::closed);
    r.wait_for({{"event", "close_received"}, {"server_id", sid}, {"role", "control"}});
}

void v1_pair(RecordingRelay& r, std::string const& sid) {
    auto const q = "serverId=" + sid + "&role=";
    WsClient server(r.relay.port(), q + "server");
    WsClient client(r.relay.port(), q + "client");
    client.send_text("SECRET-V1-UP");
    EXPECT_EQ(server.next_text(), "SECRET-V1-UP");
    server.send_binary("SECRET-V1-DOWN");
    EXPECT_EQ(client.next().payload, "SECRET-V1-DOWN");
    client.close(1000);
    EXPECT_EQ(client.next().kind, Event::Kind::closed);
    r.wait_for({{"event", "close_received"}, {"server_id", sid}, {"role", "client"}});
    server.close(1000);
    EXPECT_EQ(server.next().kind, Event::Kind::closed);
    r.wait_for({{"event", "close_received"}, {"server_id", sid}, {"role", "server"}});
}

json steps_of(fs::path const& file) {
    auto const scenario = json::parse(read_text(file)).at("scenarios").at(0);
    auto steps = scenario.at("steps");
    steps[0].erase("note");  // says when it was recorded
    return steps;
}

}  // namespace

// What a recording holds, step by step, and that payloads stay out of it.
TEST(Record, RedactedSessionsAsScenarioFiles) {
    RecordingRelay r;
    auto const daemon = unique_id("My Daemon");
    auto const pair = unique_id("pair");
    WsClient control(r.relay.port(), v2_query(daemon) + "server");
    v2_conversation(r, daemon, control);
    v1_pair(r, pair);
    auto exit_code = std::async(std::launch::async, [&] { return r.relay.terminate(); });
    EXPECT_EQ(control.next().code, 1001);
    EXPECT_EQ(exit_code.get(), 0);

    auto const files = json_files(r.recorded());
    ASSERT_EQ(files.size(), 2u);
    // The v1 pair's file was written when its last socket ended; the daemon's at shutdown, its control still open.
    auto const v2_file = r.recorded() / ("my-daemon-" + daemon.substr(std::string("My Daemon-").size()) + "-1.json");
    auto const v1_file = r.recorded() / (pair + "-1.json");
    ASSERT_TRUE(fs::exists(v2_file)) << files[0] << " " << files[1];
    ASSERT_TRUE(fs::exists(v1_file)) << files[0] << " " << files[1];
    for (auto const& file : files) {
        auto const text = read_text(file);
        EXPECT_EQ(text.find("SECRET"), std::string::npos) << text;
        EXPECT_EQ(text.find("secret"), std::string::npos) << text;
    }

    auto const v2 = json::parse(read_text(v2_file)).at("scenarios").at(0);
    EXPECT_EQ(v2.at("id"), "recorded-" + v2_file.stem().string());
    EXPECT_EQ(v2.at("tags"), json::parse(R"(["recorded", "v2"])"));
    EXPECT_EQ(v2.at("sockets"), json::parse(R"({
        "control": {"v": "2", "role": "server"},
        "client-app-1": {"v": "2", "role": "client", "connectionId": "app-1"},
        "data-app-1": {"v": "2", "role": "server", "connectionId": "app-1"}})"));
    EXPECT_EQ(v2.at("requirements"), json::parse(R"(["V2-CTRL-1", "V2-CTRL-5", "V2-CTRL-3", "V2-BUF-1", "V2-FWD-1",
        "V2-CLOSE-1", "V2-CTRL-4"])"));
    EXPECT_NE(v2.at("steps")[0].at("note").get<std::string>().find("payloads redacted"), std::string::npos);
    EXPECT_EQ(steps_of(v2_file), json::parse(R"([
        {"open": "control"},
        {"expect": "control", "frame": {"json": {"type": "sync", "connectionIds": []}}, "requirement": "V2-CTRL-1"},
        {"send": "control", "text": "{\"type\":\"ping\"}"},
        {"expect": "control", "frame": {"json": {"type": "pong", "ts": {"$integer": true}}}, "requirement": "V2-CTRL-5"},
        {"open": "client-app-1"},
        {"expect": "control", "frame": {"json": {"type": "connected", "connectionId": "app-1"}}, "requirement": "V2-CTRL-3"},
        {"send": "client-app-1", "fill": {"type": "text", "size": 36}},
        {"send": "client-app-1", "fill": {"type": "binary", "size": 14}},
        {"open": "data-app-1"},
        {"expect": "data-app-1", "frame": {"type": "text", "size": 36}, "requirement": "V2-BUF-1"},
        {"expect": "data-app-1", "frame": {"type": "binary", "size": 14}, "requirement": "V2-BUF-1"},
        {"send": "data-app-1", "fill": {"type": "text", "size": 113}},
        {"expect": "client-app-1", "frame": {"type": "text", "size": 113}, "requirement": "V2-FWD-1"},
        {"send": "client-app-1", "fill": {"type": "text", "size": 11}},
        {"expect": "data-app-1", "frame": {"type": "text", "size": 11}, "requirement": "V2-FWD-1"},
        {"send": "data-app-1", "fill": {"type": "binary", "size": 11}},
        {"expect": "client-app-1", "frame": {"type": "binary", "size": 11}, "requirement": "V2-FWD-1"},
        {"close": "client-app-1", "code": 1000},
        {"expect": "data-app-1", "close": {"code": 1001, "reason": {"$any": true, "$strict": "Client disconnected"}}, "requirement": "V2-CLOSE-1"},
        {"expect": "control", "frame": {"json": {"type": "disconnected", "connectionId": "app-1"}}, "requirement": "V2-CTRL-4"},
        {"mark": "relay_shutdown", "note": "the relay stopped here, 1 socket(s) still open"}
    ])")) << read_text(v2_file);

    EXPECT_EQ(steps_of(v1_file), json::parse(R"([
        {"open": "server"},
        {"open": "client"},
        {"send": "client", "fill": {"type": "text", "size": 12}},
        {"expect": "server", "frame": {"type": "text", "size": 12}, "requirement": "V1-2"},
        {"send": "server", "fill": {"type": "binary", "size": 14}},
        {"expect": "client", "frame": {"type": "binary", "size": 14}, "requirement": "V1-2"},
        {"close": "client", "code": 1000},
        {"expect": "client", "one_of": [{"ended": true}, {"nothing": true}], "within_ms": 2000, "note": "the relay has taken the close in once it answers it"},
        {"close": "server", "code": 1000}
    ])")) << read_text(v1_file);

    expect_replays_green(r.recorded(), 2, 3);
}

// --record-payloads: the payloads as they were, `${` kept literal; the session is written when its last
// socket ends, and a second recording of the same serverId gets the next number.
TEST(Record, PayloadsKeptVerbatimWhenAsked) {
    RecordingRelay r({"--record-payloads"});
    auto const daemon = unique_id("daemon");
    v2_conversation_to_the_end(r, daemon);
    v2_conversation_to_the_end(r, daemon);
    auto const first = r.recorded() / (daemon + "-1.json");
    auto const second = r.recorded() / (daemon + "-2.json");
    EXPECT_TRUE(fs::exists(first));  // before the relay stops
    EXPECT_TRUE(fs::exists(second));
    EXPECT_EQ(r.relay.terminate(), 0);
    ASSERT_EQ(json_files(r.recorded()).size(), 2u);

    auto const steps = steps_of(first);
    EXPECT_EQ(steps[6], json::parse(R"({"send": "client-app-1", "text": "{\"secret\":\"hello $${not a variable}\"}"})")) << steps;
    EXPECT_EQ(steps[7], json::parse(R"({"send": "client-app-1", "binary_hex": "005345435245542d4259544553fe"})")) << steps;
    EXPECT_EQ(steps[9], json::parse(R"({"expect": "data-app-1", "frame": {"text": "{\"secret\":\"hello $${not a variable}\"}"}, "requirement": "V2-BUF-1"})")) << steps;
    EXPECT_EQ(steps.back(), json::parse(R"({"close": "control", "code": 1000})")) << steps;
    EXPECT_NE(read_text(first).find("SECRET-REPLY-rrrr"), std::string::npos);

    expect_replays_green(r.recorded(), 2, 2);
}

// A frame that reaches nobody leaves nothing on the wire: the replay waits before the next socket acts,
// so the frame cannot overtake the server's arrival and be delivered (V1-4).
TEST(Record, DroppedFrameIsSettledBeforeTheNextSocketActs) {
    RecordingRelay r;
    auto const sid = unique_id("early");
    auto const q = "serverId=" + sid + "&role=";
    auto client = std::make_unique<WsClient>(r.relay.port(), q + "client");
    client->send_text("nobody hears this");
    r.wait_for({{"event", "dropped"}, {"server_id", sid}});
    {
        WsClient server(r.relay.port(), q + "server");
        client->send_text("marker");
        EXPECT_EQ(server.next_text(), "marker");
    }
    r.wait_for({{"event", "end"}, {"server_id", sid}, {"role", "server"}});
    client.reset();
    r.wait_for({{"event", "end"}, {"server_id", sid}, {"role", "client"}});
    EXPECT_EQ(r.relay.terminate(), 0);
    auto const steps = steps_of(r.recorded() / (sid + "-1.json"));
    EXPECT_EQ(steps[2], json::parse(R"({"expect": "client", "nothing": true, "within_ms": 500, "requirement": "V1-4",
        "note": "nothing on the wire shows the relay has read that frame; sockets are not ordered"})")) << steps;
    expect_replays_green(r.recorded(), 1, 3);
}

// The watchdog's sync and 1011 are timed from the open of the lonely client; a recording made with fast
// timers replays against such a relay at the matching time scale.
TEST(Record, WatchdogRecordedWithItsWindows) {
    std::vector<std::string> const fast{"--watchdog-nudge-ms", "1000", "--watchdog-reset-ms", "500"};
    RecordingRelay r(fast);
    auto const sid = unique_id("lonely");
    auto const q = "v=2&serverId=" + sid + "&role=";
    {
        WsClient control(r.relay.port(), q + "server");
        control.next();
        WsClient client(r.relay.port(), q + "client&connectionId=c1");
        control.next();
        EXPECT_EQ(control.next_text(3s), R"({"type":"sync","connectionIds":["c1"]})");
        EXPECT_EQ(control.next(3s).code, 1011);
    }
    r.wait_for({{"event", "end"}, {"server_id", sid}, {"role", "client"}});
    EXPECT_EQ(r.relay.terminate(), 0);
    auto const file = r.recorded() / (sid + "-1.json");
    auto const scenario = json::parse(read_text(file)).at("scenarios").at(0);
    EXPECT_EQ(scenario.at("tags"), json::parse(R"(["recorded", "v2", "slow"])"));
    EXPECT_NE(scenario.at("steps")[0].at("note").get<std::string>().find("--time-scale 0.1"), std::string::npos);
    auto const steps = steps_of(file);
    EXPECT_EQ(steps[2], json::parse(R"({"open": "client-c1", "mark": "watchdog_1"})")) << steps;
    EXPECT_EQ(steps[4], json::parse(R"({"expect": "control", "frame": {"json": {"type": "sync", "connectionIds": ["c1"]}},
        "window": {"after": "watchdog_1", "min_ms": 9000, "max_ms": 12500}, "requirement": "V2-WD-1"})")) << steps;
    EXPECT_EQ(steps[5], json::parse(R"({"expect": "control", "close": {"code": 1011, "reason": {"$any": true,
        "$strict": "Control unresponsive"}}, "window": {"after": "watchdog_1", "min_ms": 14000, "max_ms": 18000},
        "requirement": "V2-WD-2"})")) << steps;
    expect_replays_green(r.recorded(), 1, 2, fast, "0.1");
}

TEST(Record, UsageErrorsExitTwoWithOneLine) {
    auto const relay = std::string(REFERENCE_RELAY_BINARY) + " --port 0";
    auto [status, output] = run_command(relay + " --record-payloads", 10);
    EXPECT_EQ(status, 2);
    EXPECT_EQ(output, "reference-relay: --record-payloads keeps the payloads of a recording; add --record DIR\n");
    std::tie(status, output) = run_command(relay + " --record /proc/recorded", 10);
    EXPECT_EQ(status, 2);
    EXPECT_EQ(output.rfind("reference-relay: cannot record into /proc/recorded: ", 0), 0u) << output;
    EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
}

}  // namespace relay::testing::record
