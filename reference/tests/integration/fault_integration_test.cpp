// Fault injection (docs/daemon-development.md, "Fault injection") over real loopback sockets: the
// admin port and its CLI, what each fault puts on the wire and what the core does after, the fault
// profiles' replay by seed, and that an admin port with no fault active changes nothing. Every wait has
// a deadline and waits for an event: a frame, a close, a trace event or a log line.
#include "file_follower.hpp"
#include "relay_process.hpp"
#include "test_support.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <map>
#include <regex>


namespace relay::testing::faults {

using json = nlohmann::json;
using Kind = Event::Kind;
using Clock = std::chrono::steady_clock;

namespace {


// The next line of a relay's log that contains `text`; empty if none came in time.
std::string next_containing(LineFollower& log, std::string const& text, std::chrono::milliseconds deadline = 5s) {
    return log.next([&](std::string const& line) { return line.find(text) != std::string::npos; }, deadline).value_or("");
}

// One HTTP request with a body, as a tool would send it to the admin port.
HttpResult http_call(unsigned short port, std::string const& method, std::string const& target, std::string const& body = {}) {
    namespace net = boost::asio;
    namespace beast = boost::beast;
    namespace http = beast::http;
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(5s);
    stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> request{http::string_to_verb(method), target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.body() = body;
    request.prepare_payload();
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    bool done = false;
    beast::error_code result;
    http::async_read(stream, buffer, response, [&](beast::error_code ec, std::size_t) {
        result = ec;
        done = true;
    });
    ioc.run_for(5s);
    if (!done || result) throw std::runtime_error("no answer from the admin port to " + method + " " + target);
    return {response.result_int(), {}, response.body()};
}


// A reference relay with its admin port, tracing to a JSON file the test follows.
struct FaultRelay {
    TempFile trace_file{"relay-faults"};
    RelayProcess relay;
    TraceFollower trace;
    unsigned short admin_port = 0;

    explicit FaultRelay(std::vector<std::string> extra = {})
        : relay(with_flags(trace_file.path, std::move(extra)), REFERENCE_RELAY_BINARY, 2), trace(trace_file.path) {
        admin_port = static_cast<unsigned short>(std::stoi(admin_url().substr(admin_url().rfind(':') + 1)));
    }
    static std::vector<std::string> with_flags(std::string const& path, std::vector<std::string> extra) {
        extra.insert(extra.begin(), {"--admin-port", "0", "--trace-json", path});
        return extra;
    }

    std::string const& admin_url() const { return relay.stdout_line(1); }

    // `reference-relay fault --admin URL args`: its exit status and output.
    std::pair<int, std::string> fault(std::string const& args) {
        return run_command(std::string(REFERENCE_RELAY_BINARY) + " fault --admin " + admin_url() + " " + args);
    }
    // The same, expected to succeed; the relay's JSON answer.
    json fault_ok(std::string const& args) {
        auto [status, output] = fault(args);
        EXPECT_EQ(status, 0) << args << ": " << output;
        return status == 0 ? json::parse(output) : json();
    }
    json faults() { return json::parse(http_call(admin_port, "GET", "/faults").body); }

    json expect(json const& fields) {
        auto event = trace.next(fields);
        EXPECT_FALSE(event.is_null()) << "no trace event with " << fields.dump() << ";\nlog:\n" << relay.log();
        return event;
    }

    WsClient v2(std::string const& sid, std::string const& role, std::string const& cid = {}) {
        auto q = "v=2&serverId=" + sid + "&role=" + role;
        return WsClient(relay.port(), cid.empty() ? q : q + "&connectionId=" + cid);
    }
};

void expect_closed(WsClient& ws, std::uint16_t code, std::string const& reason, std::chrono::milliseconds deadline = 5s) {
    auto e = ws.next(deadline);
    EXPECT_EQ(e.kind, Kind::closed) << e;
    EXPECT_EQ(e.code, code) << e;
    EXPECT_EQ(e.reason, reason) << e;
}

// A control, a client and a data socket for connection id c1, past their opening messages.
struct Session {
    std::string sid;
    WsClient control, client, data;

    Session(FaultRelay& r, std::string_view prefix)
        : sid(unique_id(prefix)), control(r.v2(sid, "server")), client(r.v2(sid, "client", "c1")), data(r.v2(sid, "server", "c1")) {
        EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");
        EXPECT_EQ(control.next_text(), R"({"type":"connected","connectionId":"c1"})");
    }
};

}  // namespace

TEST(AdminPort, PrintsItsUrlSecondAndIsNotTheRelaysPort) {
    FaultRelay r;
    EXPECT_EQ(r.relay.url(), "ws://127.0.0.1:" + std::to_string(r.relay.port()));
    EXPECT_TRUE(std::regex_match(r.admin_url(), std::regex(R"(http://127\.0\.0\.1:[0-9]+)"))) << r.admin_url();
    EXPECT_NE(r.admin_port, r.relay.port());
    EXPECT_EQ(r.faults(), json::parse(R"({"delays":[],"max_message_bytes":null,"refuse_upgrades":null,"profile":null})"));
    // The relay's own port answers as the official relay does: /faults is just another path there.
    auto on_relay = http_request(r.relay.port(), "GET", "/faults");
    EXPECT_EQ(on_relay.status, 404u);
    EXPECT_EQ(on_relay.body, "Not found");

    auto const sid = unique_id("listed");
    auto control = r.v2(sid, "server");
    control.next();
    auto const sockets = r.fault_ok("sockets");
    EXPECT_EQ(sockets, json::parse(R"({"sockets":[{"socket":1,"version":"v2","server_id":")" + sid +
                                   R"(","role":"control"}]})"));
}

TEST(AdminPort, ErrorsAreOneLine) {
    auto const relay = std::string(REFERENCE_RELAY_BINARY) + " --port 0";
    auto [status, output] = run_command(relay + " --admin-port 0 --admin-host 0.0.0.0");
    EXPECT_EQ(status, 2);
    EXPECT_EQ(output, "reference-relay: --admin-host 0.0.0.0 is not a loopback address; whoever reaches the admin port "
                      "can close any socket, so it listens on 127.0.0.1 or ::1 only\n");
    std::tie(status, output) = run_command(relay + " --fault-seed 3");
    EXPECT_EQ(status, 2);
    EXPECT_EQ(output, "reference-relay: --fault-seed and --fault-interval-scale tune a fault profile; add --fault-profile NAME\n");
    std::tie(status, output) = run_command(relay + " --fault-profile sometimes");
    EXPECT_EQ(status, 2) << output;
    std::tie(status, output) = run_command(std::string(REFERENCE_RELAY_BINARY) + " fault --admin http://127.0.0.1:1 list");
    EXPECT_EQ(status, 1);
    EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
    EXPECT_EQ(output.rfind("reference-relay fault: cannot reach the admin port at http://127.0.0.1:1: ", 0), 0u) << output;

    FaultRelay r;
    auto const bad_json = http_call(r.admin_port, "POST", "/faults/drop", "{");
    EXPECT_EQ(bad_json.status, 400u);
    EXPECT_EQ(bad_json.body, "{\"error\":\"the body is not JSON\"}\n");
    EXPECT_EQ(http_call(r.admin_port, "POST", "/faults/explode", "{}").status, 404u);
    EXPECT_EQ(http_call(r.admin_port, "PUT", "/faults", "{}").status, 405u);
    std::tie(status, output) = r.fault("close --role client --code 1005");
    EXPECT_EQ(status, 1);
    EXPECT_EQ(output, "reference-relay fault: close: code 1005 cannot be sent in a close frame; use 1000-1003, "
                      "1007-1014 or 3000-4999 (HTTP 400)\n");
    std::tie(status, output) = r.fault("drop --server-id nobody");
    EXPECT_EQ(status, 1);
    EXPECT_EQ(output, "reference-relay fault: no open socket matches; GET /sockets lists them (HTTP 404)\n");
    std::tie(status, output) = r.fault("drop");
    EXPECT_EQ(status, 1) << output;
}

// Fault 1: what the watchdog's reset does (V2-WD-2), without the wait; a control's close cascades nowhere (V2-CLOSE-4).
TEST(Faults, CloseControlClosesTheControlsWith1011) {
    FaultRelay r;
    Session s(r, "close-control");
    auto const answer = r.fault_ok("close-control --server-id " + s.sid);
    EXPECT_EQ(answer["sockets"].size(), 1u) << answer;
    expect_closed(s.control, 1011, "Control unresponsive");
    r.expect({{"event", "close_sent"}, {"socket", 1}, {"code", 1011}, {"reason", "Control unresponsive"}});
    r.expect({{"event", "close_received"}, {"socket", 1}});
    // The client and data socket are untouched: a frame still crosses, and a new control is synced with c1.
    s.client.send_text("still here");
    EXPECT_EQ(s.data.next_text(), "still here");
    auto control = r.v2(s.sid, "server");
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":["c1"]})");
}

// Fault 2, close: the chosen code and reason; the core's cascade follows the end of the closing handshake.
TEST(Faults, CloseSendsTheCodeAndReasonAndTheCoreCascadesAfter) {
    FaultRelay r;
    Session s(r, "close");
    r.fault_ok("close --server-id " + s.sid + " --role client --connection-id c1 --code 4000 --reason bye");
    expect_closed(s.client, 4000, "bye");
    expect_closed(s.data, 1001, "Client disconnected");
    EXPECT_EQ(s.control.next_text(), R"({"type":"disconnected","connectionId":"c1"})");
    r.expect({{"event", "close_sent"}, {"role", "client"}, {"code", 4000}, {"reason", "bye"}});
    r.expect({{"event", "close_received"}, {"role", "client"}});
    r.expect({{"event", "close_sent"}, {"role", "data"}, {"code", 1001}, {"reason", "Client disconnected"}});
}

// Faults 2 and 3, drop: a TCP reset without a close frame; the data socket's end cascades as V2-CLOSE-2 says.
TEST(Faults, DropResetsTheDataSocketAndItsClientsGet1012) {
    FaultRelay r;
    Session s(r, "drop");
    auto const answer = r.fault_ok("drop --server-id " + s.sid + " --role data --connection-id c1");
    EXPECT_EQ(answer["sockets"][0]["role"], "data") << answer;
    auto const dropped = s.data.next();
    EXPECT_EQ(dropped.kind, Kind::closed) << dropped;
    EXPECT_EQ(dropped.code, 1006) << dropped;  // no close frame
    EXPECT_EQ(s.data.next_close_frame(0ms).kind, Kind::timeout);
    expect_closed(s.client, 1012, "Server disconnected");
    // The client's end is the id's last: controls are told.
    EXPECT_EQ(s.control.next_text(), R"({"type":"disconnected","connectionId":"c1"})");
    r.expect({{"event", "end"}, {"role", "data"}, {"error", "reset by fault injection"}});
    r.expect({{"event", "close_sent"}, {"role", "client"}, {"code", 1012}, {"reason", "Server disconnected"}});
}

// Fault 4: every socket closed 1001 as at a relay's shutdown, and nothing cascades: the new relay knows nothing.
TEST(Faults, RestartClosesEverySocketWith1001AndNothingCascades) {
    FaultRelay r;
    Session s(r, "restart");
    auto const v1_sid = unique_id("restart-v1");
    WsClient v1_server(r.relay.port(), "serverId=" + v1_sid + "&role=server");
    WsClient v1_client(r.relay.port(), "serverId=" + v1_sid + "&role=client");
    auto const answer = r.fault_ok("restart");
    EXPECT_EQ(answer["sockets"].size(), 5u) << answer;
    for (auto* ws : {&s.control, &s.client, &s.data, &v1_server, &v1_client}) expect_closed(*ws, 1001, "Relay shutting down");
    for (int socket = 1; socket <= 5; ++socket)
        r.expect({{"event", "close_sent"}, {"socket", socket}, {"code", 1001}, {"reason", "Relay shutting down"}});
    auto control = r.v2(s.sid, "server");
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");
}

TEST(Faults, RestartWithResetDropsEveryConnection) {
    FaultRelay r;
    Session s(r, "restart-reset");
    r.fault_ok("restart --reset");
    for (auto* ws : {&s.control, &s.client, &s.data}) {
        auto const e = ws->next();
        EXPECT_EQ(e.kind, Kind::closed) << e;
        EXPECT_EQ(e.code, 1006) << e;
    }
    for (int socket = 1; socket <= 3; ++socket)
        r.expect({{"event", "end"}, {"socket", socket}, {"error", "reset by fault injection"}});
    auto control = r.v2(s.sid, "server");
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");
}

// Fault 5, delay: every frame to the session arrives, in order, no sooner than the delay after it was sent.
TEST(Faults, DelayKeepsOrderAndAddsAtLeastTheDelay) {
    FaultRelay r;
    Session s(r, "delay");
    auto const delay = 300ms;
    auto const answer = r.fault_ok("delay --server-id " + s.sid + " --ms 300");
    EXPECT_EQ(answer, json::parse(R"({"id":"delay-1"})"));
    auto const sent = Clock::now();
    for (auto const* text : {"one", "two", "three"}) s.client.send_text(text);
    s.control.send_text(R"({"type":"ping"})");
    for (auto const* text : {"one", "two", "three"}) {
        EXPECT_EQ(s.data.next_text(), text);
        EXPECT_GE(Clock::now() - sent, delay) << text;
    }
    EXPECT_EQ(json::parse(s.control.next_text())["type"], "pong");
    EXPECT_GE(Clock::now() - sent, delay);
    r.fault_ok("resume");
    s.client.send_text("after");
    EXPECT_EQ(s.data.next_text(), "after");
}

// Fault 5, pause: frames wait, in order, until resumed.
TEST(Faults, PauseHoldsFramesUntilResumedThenDeliversThemInOrder) {
    FaultRelay r;
    Session s(r, "pause");
    r.fault_ok("pause --server-id " + s.sid + " --role data");
    for (auto const* text : {"one", "two", "three"}) s.client.send_text(text);
    r.expect({{"event", "frame_out"}, {"role", "data"}, {"preview", "three"}});  // the relay has decided to send all three
    auto const listed = r.faults()["delays"];
    ASSERT_EQ(listed.size(), 1u) << listed;
    EXPECT_EQ(listed[0]["held"], 3) << listed;
    EXPECT_EQ(listed[0]["paused"], true) << listed;
    EXPECT_EQ(s.data.next(0ms).kind, Kind::timeout);
    r.fault_ok("resume --id delay-1");
    for (auto const* text : {"one", "two", "three"}) EXPECT_EQ(s.data.next_text(), text);
    EXPECT_EQ(r.faults()["delays"], json::array());
}

// Fault 6: a lowered cap closes with 1009 as LIMIT-1 says (no cascade); clearing restores the startup cap.
TEST(Faults, LoweredMessageCapCloses1009UntilCleared) {
    FaultRelay r;
    Session s(r, "cap");
    r.fault_ok("max-message-bytes 16");
    EXPECT_EQ(r.faults()["max_message_bytes"], json::parse(R"({"id":"max-message-bytes","bytes":16,"startup_bytes":33554432})"));
    s.client.send_text(std::string(16, 'a'));
    EXPECT_EQ(s.data.next_text(), std::string(16, 'a'));
    s.client.send_text(std::string(17, 'b'));
    expect_closed(s.client, 1009, "Message is too large: 17 > 16");
    r.expect({{"event", "close_sent"}, {"role", "client"}, {"code", 1009}, {"reason", "Message is too large: 17 > 16"}});
    r.fault_ok("clear --id max-message-bytes");
    EXPECT_EQ(r.faults()["max_message_bytes"], nullptr);
    // Nothing cascaded from the 1009 (the data socket is still open), and it has the startup cap back.
    auto client = r.v2(s.sid, "client", "c1");
    EXPECT_EQ(s.control.next_text(), R"({"type":"connected","connectionId":"c1"})");
    s.data.send_text(std::string(100, 'c'));
    EXPECT_EQ(client.next_text(), std::string(100, 'c'));
    client.send_text(std::string(100, 'd'));
    EXPECT_EQ(s.data.next_text(), std::string(100, 'd'));
}

// Fault 7: upgrades get the chosen status; /health and every other answer stay the router's.
TEST(Faults, RefusedUpgradesGetTheChosenStatusAndHealthStaysOk) {
    FaultRelay r;
    auto const sid = unique_id("refuse");
    r.fault_ok("refuse-upgrades --status 503 --body 'down for a test'");
    EXPECT_THROW(
        {
            try {
                r.v2(sid, "server");
            } catch (std::runtime_error const& e) {
                EXPECT_NE(std::string(e.what()).find("HTTP 503"), std::string::npos) << e.what();
                throw;
            }
        },
        std::runtime_error);
    std::string const upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    auto refused = http_request(r.relay.port(), "GET", "/ws?v=2&role=server&serverId=" + sid, upgrade);
    EXPECT_EQ(refused.status, 503u);
    EXPECT_EQ(refused.body, "down for a test");
    EXPECT_EQ(refused.headers["content-type"], "text/plain");
    EXPECT_EQ(http_request(r.relay.port(), "GET", "/health").status, 200u);
    EXPECT_EQ(http_request(r.relay.port(), "GET", "/ws?role=server", upgrade).status, 400u);
    r.fault_ok("clear --id refuse-upgrades");
    auto control = r.v2(sid, "server");
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");

    // For a while: refused at once, admitted again no sooner than that.
    auto const refused_at = Clock::now();
    r.fault_ok("refuse-upgrades --for-ms 300");
    EXPECT_THROW(r.v2(sid, "client"), std::runtime_error);
    auto const until = refused_at + 5s;
    std::optional<WsClient> admitted;
    while (!admitted && Clock::now() < until) {
        try {
            admitted.emplace(r.relay.port(), "v=2&role=client&serverId=" + sid);
        } catch (std::runtime_error const&) {
        }
    }
    ASSERT_TRUE(admitted.has_value());
    EXPECT_GE(Clock::now() - refused_at, 300ms);
}

TEST(Faults, ListShowsStandingFaultsAndClearEndsThem) {
    FaultRelay r;
    r.fault_ok("delay --server-id a --ms 50 --for-ms 60000");
    r.fault_ok("pause --role client");
    r.fault_ok("max-message-bytes 1000");
    r.fault_ok("refuse-upgrades --status 502");
    auto listed = r.faults();
    ASSERT_EQ(listed["delays"].size(), 2u) << listed;
    EXPECT_EQ(listed["delays"][0]["id"], "delay-1");
    EXPECT_EQ(listed["delays"][0]["ms"], 50);
    EXPECT_EQ(listed["delays"][0]["sockets"], json::parse(R"({"server_id":"a"})"));
    EXPECT_GT(listed["delays"][0]["remaining_ms"].get<int>(), 0);
    EXPECT_LE(listed["delays"][0]["remaining_ms"].get<int>(), 60000);
    EXPECT_EQ(listed["delays"][1], json::parse(R"({"id":"delay-2","sockets":{"role":"client"},"paused":true,"held":0})"));
    EXPECT_EQ(listed["max_message_bytes"]["bytes"], 1000);
    EXPECT_EQ(listed["refuse_upgrades"], json::parse(R"j({"id":"refuse-upgrades","status":502,"body":"Relay unavailable (fault injection)"})j"));

    r.fault_ok("clear --id delay-1");
    EXPECT_EQ(r.faults()["delays"].size(), 1u);
    auto [status, output] = r.fault("clear --id delay-1");
    EXPECT_EQ(status, 1);
    EXPECT_EQ(output, "reference-relay fault: no standing fault delay-1; GET /faults lists them (HTTP 404)\n");
    EXPECT_EQ(r.fault_ok("clear"), json::parse(R"({"delays":[],"max_message_bytes":null,"refuse_upgrades":null,"profile":null})"));
    auto control = r.v2(unique_id("cleared"), "server");
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");
}

namespace {

// Runs the data-drops profile against the same traffic: four data sockets, each opened again as soon
// as a fault drops it. Returns the fault lines of the log, from "fault (" on.
std::vector<std::string> data_drops(std::string const& seed, std::size_t faults) {
    // At 0.02 the first fault comes 400 ms or more after the start: time enough to open the sockets.
    RelayProcess relay({"--fault-profile", "data-drops", "--fault-seed", seed, "--fault-interval-scale", "0.02"});
    LineFollower log(relay.log_path());
    auto const open = [&](std::string const& cid) {
        return std::make_unique<WsClient>(relay.port(), "v=2&role=server&serverId=soak&connectionId=" + cid);
    };
    std::map<std::string, std::unique_ptr<WsClient>> data;
    for (auto const* cid : {"c0", "c1", "c2", "c3"}) data[cid] = open(cid);
    std::vector<std::string> lines;
    static std::regex const dropped_id(R"(connectionId=(c[0-3]) )");
    for (std::size_t n = 1; n <= faults; ++n) {
        auto const line = next_containing(log, "fault (profile data-drops seed " + seed + " #" + std::to_string(n) + ")");
        EXPECT_FALSE(line.empty()) << "fault #" << n << " was not logged;\n" << relay.log();
        lines.push_back(line.substr(line.find("fault (")));
        std::smatch match;
        if (!std::regex_search(line, match, dropped_id)) continue;
        auto& dropped = data[match[1]];
        EXPECT_EQ(dropped->next().code, 1006) << line;
        dropped = open(match[1]);
    }
    return lines;
}

}  // namespace

TEST(FaultProfile, TheSameSeedInjectsTheSameSequence) {
    auto const first = data_drops("7", 4);
    auto const second = data_drops("7", 4);
    EXPECT_EQ(first, second);
    ASSERT_EQ(first.size(), 4u);
    for (auto const& line : first) EXPECT_NE(line.find("drop version=v2 serverId=soak role=data connectionId=c"), std::string::npos) << line;
}

TEST(FaultProfile, ControlResetsAndSlowDeliveryInject) {
    RelayProcess resets({"--fault-profile", "control-resets", "--fault-seed", "1", "--fault-interval-scale", "0.01"});
    WsClient control(resets.port(), "v=2&role=server&serverId=" + unique_id("resets"));
    control.next();
    expect_closed(control, 1011, "Control unresponsive", 5s);
    LineFollower resets_log(resets.log_path());
    EXPECT_NE(next_containing(resets_log, "fault profile control-resets seed 1 interval scale 0.01 (replay with").size(), 0u);

    RelayProcess slow({"--fault-profile", "slow-delivery", "--fault-seed", "1", "--fault-interval-scale", "0.01"});
    auto const sid = unique_id("slow");
    WsClient slowed(slow.port(), "v=2&role=server&serverId=" + sid);
    LineFollower slow_log(slow.log_path());
    auto const line = next_containing(slow_log, "): delay ");  // a fault before the socket opened is skipped
    EXPECT_NE(line.find("ms to version=v2 serverId=" + sid + " for "), std::string::npos) << line;
}

// With the admin port on and no fault active the relay is the reference relay: the whole library passes.
TEST(Faults, ScenarioLibraryPassesWithTheAdminPortOn) {
    TempFile trace_file{"relay-faults"};
    RelayProcess relay({"--watchdog-nudge-ms", "1000", "--watchdog-reset-ms", "500", "--trace", "--trace-json", trace_file.path,
                        "--admin-port", "0"},
                       REFERENCE_RELAY_BINARY, 2);
    auto const [status, output] =
        run_command(std::string(RELAY_CONFORMANCE_BINARY) + " run --url " + relay.url() + " --time-scale 0.1", 300);
    EXPECT_EQ(status, 0) << output;
    EXPECT_NE(output.find(" passed, 0 failed"), std::string::npos) << output;
    auto const admin = relay.stdout_line(1);
    auto const listed = http_call(static_cast<unsigned short>(std::stoi(admin.substr(admin.rfind(':') + 1))), "GET", "/faults");
    EXPECT_EQ(json::parse(listed.body), json::parse(R"({"delays":[],"max_message_bytes":null,"refuse_upgrades":null,"profile":null})"));
    EXPECT_EQ(relay.terminate(), 0);
}

}  // namespace relay::testing::faults
