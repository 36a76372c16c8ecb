// relay-conformance check-client end to end over loopback: a small scripted client (Python,
// websockets) started by --client-cmd for every scenario of a file written here; the verdicts, the
// failure's requirement and what the report says about it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Opens its control socket, pings, opens a data socket for every id of a sync, answers pings, and
// reconnects 0.3 s after its control ends (a refused handshake included).
constexpr char const* scripted_client = R"PY(
import asyncio, json, sys
import websockets

url = sys.argv[1]
base = url + "/ws?serverId=srv%20one&role=server&v=2"

async def data(cid):
    try:
        async with websockets.connect(base + "&connectionId=" + cid, compression=None, ping_interval=None) as ws:
            async for _ in ws:
                pass
    except Exception as e:
        print("data", cid, "ended:", e, flush=True)

async def main():
    while True:
        try:
            async with websockets.connect(base, compression=None, ping_interval=None) as ws:
                print("control open", flush=True)
                await ws.send(json.dumps({"type": "ping", "ts": 1}))
                async for message in ws:
                    m = json.loads(message)
                    if m.get("type") == "sync":
                        for cid in m["connectionIds"]:
                            asyncio.ensure_future(data(cid))
                    elif m.get("type") == "ping":
                        await ws.send(json.dumps({"type": "pong", "ts": 2}))
        except Exception as e:
            print("control ended:", e, flush=True)
        await asyncio.sleep(0.3)

asyncio.run(main())
)PY";

constexpr char const* scenario_file = R"({
  "kind": "client",
  "section": "DAEMON-E2E",
  "scenarios": [
    {"id": "e2e-sync-and-close", "title": "a sync opens the data socket; a 1001 close is not reopened", "requirements": ["DAEMON-3"],
     "level": "MUST", "tags": ["daemon"], "timeout_ms": 15000,
     "sockets": {
       "control": {"serverId": {"$capture": "serverId"}, "role": "server", "v": "2", "connectionId": {"$absent": true},
                   "headers": {"sec-websocket-extensions": {"$absent": true}}},
       "data-c1": {"serverId": "${serverId}", "role": "server", "v": "2", "connectionId": "c1"}},
     "steps": [
       {"accept": "control", "within_ms": 5000, "mark": "opened"},
       {"expect": "control", "frame": {"json": {"type": "ping"}, "subset": true}, "window": {"after": "opened", "min_ms": 0, "max_ms": 1000}},
       {"send": "control", "json": {"type": "ping"}},
       {"expect": "control", "frame": {"json": {"type": "pong", "ts": {"$integer": true}}}},
       {"send": "control", "json": {"type": "sync", "connectionIds": ["c1"]}},
       {"accept": "data-c1", "within_ms": 3000},
       {"close": "data-c1", "code": 1001, "reason": "Client disconnected"},
       {"expect": "data-c1", "one_of": [{"close": {"code": 1001}}, {"ended": true}]},
       {"no_connection": "data-c1", "within_ms": 1000}
     ]},
    {"id": "e2e-refused-then-reconnects", "title": "a refused control is tried again", "requirements": ["DAEMON-8"],
     "level": "MUST", "tags": ["daemon"], "timeout_ms": 15000,
     "sockets": {"control": {"serverId": {"$regex": "srv one"}, "role": "server", "connectionId": {"$absent": true}}},
     "steps": [
       {"accept": "control", "refuse": {"status": 503, "body": "not now"}, "mark": "refused"},
       {"accept": "control", "window": {"after": "refused", "min_ms": 200, "max_ms": 3000}},
       {"expect": "control", "frame": {"json": {"type": "ping"}, "subset": true}}
     ]},
    {"id": "e2e-wrong-id", "title": "a data socket the client never opens", "requirements": ["DAEMON-4"],
     "level": "MUST", "tags": ["daemon"], "timeout_ms": 15000,
     "sockets": {
       "control": {"serverId": {"$capture": "serverId"}, "connectionId": {"$absent": true}},
       "data-c2": {"serverId": "${serverId}", "connectionId": "c2"}},
     "steps": [
       {"accept": "control", "within_ms": 5000},
       {"send": "control", "json": {"type": "sync", "connectionIds": ["c1"]}},
       {"accept": "data-c2", "within_ms": 1500}
     ]}
  ]
})";

struct Run {
    int exit_code = -1;
    std::string output;
};

Run run_runner(std::string const& args, fs::path const& dir) {
    auto const log = dir / "runner.log";
    auto const command = std::string(RELAY_CONFORMANCE_BINARY) + " " + args + " > " + log.string() + " 2>&1";
    int const status = std::system(command.c_str());
    Run run;
    if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    run.output = text.str();
    return run;
}

class CheckClient : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("check-client-test-" + std::to_string(::getpid()));
        fs::create_directories(dir_ / "scenarios");
        std::ofstream(dir_ / "client.py") << scripted_client;
        std::ofstream(dir_ / "scenarios" / "e2e.json") << scenario_file;
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path dir_;
};

}  // namespace

TEST_F(CheckClient, JudgesAScriptedClient) {
    auto const report = dir_ / "report.json";
    auto const run = run_runner("check-client --scenarios " + (dir_ / "scenarios").string() + " --jobs 2 --json " + report.string() +
                                    " --client-cmd '/usr/bin/python3 " + (dir_ / "client.py").string() + " {url}'",
                                dir_);
    EXPECT_EQ(run.exit_code, 1) << run.output;
    std::ifstream in(report);
    auto const j = Json::parse(in);
    std::map<std::string, Json> by_id;
    for (auto const& s : j.at("scenarios")) by_id[s.at("id")] = s;
    ASSERT_EQ(by_id.size(), 3u) << run.output;
    EXPECT_EQ(by_id["e2e-sync-and-close"]["verdict"], "pass") << by_id["e2e-sync-and-close"].dump(2);
    EXPECT_EQ(by_id["e2e-refused-then-reconnects"]["verdict"], "pass") << by_id["e2e-refused-then-reconnects"].dump(2);
    auto const& failed = by_id["e2e-wrong-id"];
    EXPECT_EQ(failed["verdict"], "fail") << failed.dump(2);
    EXPECT_EQ(failed["failure"]["requirement"], "DAEMON-4");
    EXPECT_EQ(failed["failure"]["step"], 3);
    // What arrived instead, and what the client said.
    EXPECT_NE(failed["failure"]["actual"].get<std::string>().find("connectionId=c1"), std::string::npos) << failed.dump(2);
    ASSERT_TRUE(failed.contains("client_output")) << failed.dump(2);
    EXPECT_EQ(failed["client_output"][0], "control open");
    EXPECT_NE(run.output.find("the client's last lines:"), std::string::npos) << run.output;
}

TEST_F(CheckClient, ListsClientScenarios) {
    auto const run = run_runner("list --client --scenarios " + (dir_ / "scenarios").string(), dir_);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("e2e-wrong-id  [DAEMON-4]"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("3 of 3 scenarios selected"), std::string::npos) << run.output;
    // Relay runs do not take client files.
    EXPECT_EQ(run_runner("list --scenarios " + (dir_ / "scenarios").string(), dir_).exit_code, 2);
}
