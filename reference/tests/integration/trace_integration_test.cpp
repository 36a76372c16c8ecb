// The relay's frame-level trace (--trace, --trace-json, docs/daemon-development.md "Trace") over real
// loopback sockets: what each event says, in order, in both outputs; the filters; and that a traced
// relay still passes the whole scenario library. The JSON trace is followed as the relay writes it, so
// every step waits (bounded) for the event it caused before the next step.
#include "relay_process.hpp"
#include "file_follower.hpp"
#include "test_support.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <future>
#include <regex>
#include <set>
#include <sstream>


using namespace relay::testing;
using json = nlohmann::json;
using Kind = Event::Kind;

namespace {

// The readable trace lines in a relay's stderr, without their time.
std::vector<std::string> trace_lines(std::string const& log) {
    static std::regex const traced(R"(^ *[0-9]+\.[0-9]{3} (.*)$)");
    std::vector<std::string> found;
    std::istringstream lines(log);
    std::smatch match;
    for (std::string line; std::getline(lines, line);)
        if (std::regex_match(line, match, traced)) found.push_back(match[1]);
    return found;
}

// A reference relay tracing to stderr (its log) and to a JSON file that the test follows.
struct TracedRelay {
    TempFile file{"relay-trace"};
    RelayProcess relay;
    TraceFollower trace;

    explicit TracedRelay(std::vector<std::string> extra = {})
        : relay(with_trace_flags(file.path, std::move(extra))), trace(file.path) {}

    static std::vector<std::string> with_trace_flags(std::string const& path, std::vector<std::string> extra) {
        extra.insert(extra.begin(), {"--trace", "--trace-json", path});
        return extra;
    }

    // The next event with these fields; fails the test (and says what was written) if none comes.
    json expect(json const& fields) {
        auto event = trace.next(fields);
        EXPECT_FALSE(event.is_null()) << "no trace event with " << fields.dump() << " after the last one matched;\nlog:\n"
                                      << relay.log();
        return event;
    }

    std::vector<std::string> lines() const { return trace_lines(relay.log()); }
};

std::string joined(std::vector<std::string> const& lines) {
    std::string out;
    for (auto const& line : lines) out += line + "\n";
    return out;
}


}  // namespace

// The conversation a daemon and an app have (issue 13): control, client buffers, data opens and is
// flushed, frames both ways, the client leaves.
TEST(Trace, V2ConversationInOrderInBothOutputs) {
    TracedRelay r;
    auto const sid = unique_id("trace");
    auto const q = "v=2&serverId=" + sid + "&role=";

    WsClient control(r.relay.port(), q + "server");
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");
    r.expect({{"event", "open"}, {"version", "v2"}, {"server_id", sid}, {"role", "control"}, {"socket", 1}, {"connection_id", nullptr}});
    std::string const sync = R"({"type":"sync","connectionIds":[]})";
    r.expect({{"event", "control_out"}, {"socket", 1}, {"message", "sync"}, {"nudge", false}, {"type", "text"},
              {"size", sync.size()}, {"preview", sync}, {"truncated", false}});

    control.send_text(R"({"type":"ping"})");
    control.next_text();
    r.expect({{"event", "frame_in"}, {"socket", 1}, {"type", "text"}, {"size", 15}, {"preview", R"({"type":"ping"})"}});
    r.expect({{"event", "control_out"}, {"socket", 1}, {"message", "pong"}});
    control.send_text("hello");
    r.expect({{"event", "frame_in"}, {"socket", 1}, {"preview", "hello"}});
    r.expect({{"event", "ignored"}, {"socket", 1}});

    WsClient client(r.relay.port(), q + "client&connectionId=c1");
    EXPECT_EQ(control.next_text(), R"({"type":"connected","connectionId":"c1"})");
    r.expect({{"event", "open"}, {"role", "client"}, {"socket", 2}, {"connection_id", "c1"}});
    r.expect({{"event", "control_out"}, {"socket", 1}, {"message", "connected"}, {"about", "c1"}});

    client.send_text("early 1");
    r.expect({{"event", "frame_in"}, {"socket", 2}, {"type", "text"}, {"size", 7}, {"preview", "early 1"}});
    r.expect({{"event", "buffered"}, {"socket", 2}, {"connection_id", "c1"}, {"kept", 1}});
    client.send_binary(std::string("\x00\x01\xfe", 3));
    r.expect({{"event", "frame_in"}, {"socket", 2}, {"type", "binary"}, {"size", 3}, {"preview", R"(\x00\x01\xfe)"}});
    r.expect({{"event", "buffered"}, {"socket", 2}, {"kept", 2}});

    WsClient data(r.relay.port(), q + "server&connectionId=c1");
    EXPECT_EQ(data.next_text(), "early 1");
    EXPECT_EQ(data.next().payload, std::string("\x00\x01\xfe", 3));
    r.expect({{"event", "open"}, {"role", "data"}, {"socket", 3}, {"connection_id", "c1"}});
    r.expect({{"event", "flushed"}, {"socket", 3}, {"count", 2}});
    r.expect({{"event", "frame_out"}, {"socket", 3}, {"type", "text"}, {"preview", "early 1"}});
    r.expect({{"event", "frame_out"}, {"socket", 3}, {"type", "binary"}, {"size", 3}});

    data.send_text(std::string(100, 'd'));
    EXPECT_EQ(client.next_text().size(), 100u);
    r.expect({{"event", "frame_in"}, {"socket", 3}, {"size", 100}, {"preview", std::string(64, 'd')}, {"truncated", true}});
    r.expect({{"event", "frame_out"}, {"socket", 2}, {"size", 100}});

    client.close(1000);
    EXPECT_EQ(client.next().kind, Kind::closed);
    auto const closed = data.next();
    EXPECT_EQ(closed.kind, Kind::closed) << closed;
    EXPECT_EQ(closed.code, 1001) << closed;
    EXPECT_EQ(control.next_text(), R"({"type":"disconnected","connectionId":"c1"})");
    r.expect({{"event", "close_received"}, {"socket", 2}, {"code", 1000}, {"reason", ""}});
    r.expect({{"event", "close_sent"}, {"socket", 3}, {"code", 1001}, {"reason", "Client disconnected"}});
    r.expect({{"event", "control_out"}, {"socket", 1}, {"message", "disconnected"}, {"about", "c1"}});
    r.expect({{"event", "close_received"}, {"socket", 3}, {"code", 1001}, {"reason", ""}});  // Beast answers without a reason

    // Every event, in the order it happened, once in each output.
    double last_t = 0;
    for (auto const& event : r.trace.events()) {
        EXPECT_EQ(event["server_id"], sid) << event;
        EXPECT_GE(event["t_ms"].get<double>(), last_t) << event;
        last_t = event["t_ms"].get<double>();
    }
    auto const s = "v2 " + sid + " ";
    std::vector<std::string> const expected{
        s + "control #1: open",
        s + R"(control #1: control out sync {"type":"sync","connectionIds":[]})",
        s + R"(control #1: frame in text 15 B "{"type":"ping"}")",
        s + "control #1: control out pong {\"type\":\"pong\",\"ts\":",  // the time varies: a prefix
        s + R"(control #1: frame in text 5 B "hello")",
        s + "control #1: ignored",
        s + "client c1 #2: open",
        s + R"(control #1: control out connected {"type":"connected","connectionId":"c1"})",
        s + R"(client c1 #2: frame in text 7 B "early 1")",
        s + "client c1 #2: buffered 1 kept",
        s + R"(client c1 #2: frame in binary 3 B "\x00\x01\xfe")",
        s + "client c1 #2: buffered 2 kept",
        s + "data c1 #3: open",
        s + "data c1 #3: flushed 2 frames",
        s + R"(data c1 #3: frame out text 7 B "early 1")",
        s + R"(data c1 #3: frame out binary 3 B "\x00\x01\xfe")",
        s + "data c1 #3: frame in text 100 B \"" + std::string(64, 'd') + "\"...",
        s + "client c1 #2: frame out text 100 B \"" + std::string(64, 'd') + "\"...",
        s + R"(client c1 #2: close received 1000 "")",
        s + R"(data c1 #3: close sent 1001 "Client disconnected")",
        s + R"(control #1: control out disconnected {"type":"disconnected","connectionId":"c1"})",
        s + R"(data c1 #3: close received 1001 "")",
    };
    auto const lines = r.lines();
    ASSERT_EQ(lines.size(), expected.size()) << joined(lines);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i == 3)
            EXPECT_EQ(lines[i].rfind(expected[i], 0), 0u) << lines[i];
        else
            EXPECT_EQ(lines[i], expected[i]);
    }
    EXPECT_EQ(r.trace.events().size(), lines.size());
}

TEST(Trace, WatchdogNudgeAndReset) {
    TracedRelay r({"--watchdog-nudge-ms", "300", "--watchdog-reset-ms", "200"});
    auto const q = "v=2&serverId=" + unique_id("wd") + "&role=";
    WsClient control(r.relay.port(), q + "server");
    control.next();
    WsClient client(r.relay.port(), q + "client&connectionId=lonely");
    control.next();
    EXPECT_EQ(control.next_text(3s), R"({"type":"sync","connectionIds":["lonely"]})");
    auto const e = control.next(3s);
    EXPECT_EQ(e.code, 1011) << e;
    r.expect({{"event", "watchdog"}, {"stage", "nudge"}, {"connection_id", "lonely"}, {"socket", nullptr}, {"role", nullptr}});
    r.expect({{"event", "control_out"}, {"socket", 1}, {"message", "sync"}, {"nudge", true}, {"about", "lonely"}});
    r.expect({{"event", "watchdog"}, {"stage", "reset"}, {"connection_id", "lonely"}});
    r.expect({{"event", "close_sent"}, {"socket", 1}, {"code", 1011}, {"reason", "Control unresponsive"}, {"about", "lonely"}});
    auto const lines = joined(r.lines());
    EXPECT_NE(lines.find(" watchdog lonely: nudge\n"), std::string::npos) << lines;
    EXPECT_NE(lines.find(R"(control #1: control out sync (watchdog nudge) {"type":"sync","connectionIds":["lonely"]})"),
              std::string::npos) << lines;
    EXPECT_NE(lines.find(" watchdog lonely: reset\n"), std::string::npos) << lines;
}

// Closes the relay makes on its own (1009, shutdown) and a connection that ends without a close frame.
TEST(Trace, ClosesTheHubSendsAndEndsWithoutClose) {
    TracedRelay r({"--max-message-bytes", "16"});
    auto const q = "serverId=" + unique_id("ends") + "&role=";
    {
        WsClient vanishing(r.relay.port(), q + "client");
        r.expect({{"event", "open"}, {"version", "v1"}, {"role", "client"}, {"socket", 1}});
    }
    r.expect({{"event", "end"}, {"socket", 1}, {"role", "client"}});
    WsClient big(r.relay.port(), q + "server");
    big.send_binary(std::string(17, 'x'));
    EXPECT_EQ(big.next().code, 1009);
    r.expect({{"event", "close_sent"}, {"socket", 2}, {"code", 1009}, {"reason", "Message is too large: 17 > 16"}});
    r.expect({{"event", "close_received"}, {"socket", 2}, {"code", 1009}});
    WsClient staying(r.relay.port(), q + "server");
    r.expect({{"event", "open"}, {"socket", 3}});
    auto exit_code = std::async(std::launch::async, [&] { return r.relay.terminate(); });
    EXPECT_EQ(staying.next().code, 1001);
    EXPECT_EQ(exit_code.get(), 0);
    r.expect({{"event", "close_sent"}, {"socket", 3}, {"code", 1001}, {"reason", "Relay shutting down"}});
    r.expect({{"event", "close_received"}, {"socket", 3}, {"code", 1001}});
    auto const lines = joined(r.lines());
    EXPECT_NE(lines.find("client #1: end without close"), std::string::npos) << lines;
    EXPECT_NE(lines.find(R"(server #2: close sent 1009 "Message is too large: 17 > 16")"), std::string::npos) << lines;
}

TEST(Trace, ServerIdFilterAppliesToBothOutputs) {
    auto const shown = unique_id("shown");
    auto const hidden = unique_id("hidden");
    TracedRelay r({"--trace-server-id", shown});
    WsClient other(r.relay.port(), "v=2&role=server&serverId=" + hidden);
    other.next();  // traced (if at all) before the relay sent this
    WsClient ours(r.relay.port(), "v=2&role=server&serverId=" + shown);
    ours.next();
    r.expect({{"event", "control_out"}, {"server_id", shown}, {"message", "sync"}});
    auto const& events = r.trace.events();
    EXPECT_EQ(events.size(), 2u);
    for (auto const& event : events) EXPECT_EQ(event["server_id"], shown) << event;
    auto const lines = r.lines();
    EXPECT_EQ(lines.size(), 2u) << joined(lines);
    EXPECT_EQ(joined(lines).find(hidden), std::string::npos) << joined(lines);
}

TEST(Trace, ConnectionIdFilterKeepsItsSocketsAndControlMessagesAboutIt) {
    TracedRelay r({"--trace-connection-id", "c2"});
    auto const q = "v=2&serverId=" + unique_id("cid") + "&role=";
    WsClient control(r.relay.port(), q + "server");
    control.next();
    WsClient data1(r.relay.port(), q + "server&connectionId=c1");
    WsClient client1(r.relay.port(), q + "client&connectionId=c1");
    control.next();
    client1.send_text("one");
    EXPECT_EQ(data1.next_text(), "one");  // traced (if at all) before the relay forwarded it
    WsClient client2(r.relay.port(), q + "client&connectionId=c2");
    EXPECT_EQ(control.next_text(), R"({"type":"connected","connectionId":"c2"})");
    client2.send_text("two");
    r.expect({{"event", "buffered"}, {"role", "client"}, {"connection_id", "c2"}});
    WsClient data2(r.relay.port(), q + "server&connectionId=c2");
    EXPECT_EQ(data2.next_text(), "two");
    r.expect({{"event", "frame_out"}, {"connection_id", "c2"}, {"role", "data"}});

    std::vector<std::string> kinds;
    for (auto const& event : r.trace.events()) {
        kinds.push_back(event["event"]);
        EXPECT_TRUE(event.value("connection_id", "") == "c2" || event.value("about", "") == "c2") << event;
    }
    EXPECT_EQ(kinds, (std::vector<std::string>{"open", "control_out", "frame_in", "buffered", "open", "flushed", "frame_out"}));
    EXPECT_EQ(r.lines().size(), kinds.size()) << joined(r.lines());
}

TEST(Trace, OffByDefault) {
    RelayProcess relay;
    auto const q = "v=2&serverId=" + unique_id("off") + "&role=";
    WsClient control(relay.port(), q + "server");
    control.next();
    WsClient client(relay.port(), q + "client&connectionId=x");
    control.next();
    WsClient data(relay.port(), q + "server&connectionId=x");
    client.send_text("not traced");
    EXPECT_EQ(data.next_text(), "not traced");
    EXPECT_EQ(trace_lines(relay.log()), std::vector<std::string>{});
}

TEST(Trace, UsageErrorsExitTwoWithOneLine) {
    auto const relay = std::string(REFERENCE_RELAY_BINARY) + " --port 0";
    auto [status, output] = run_command(relay + " --trace-server-id x", 10);
    EXPECT_EQ(status, 2);
    EXPECT_EQ(output, "reference-relay: --trace-server-id and --trace-connection-id filter a trace; add --trace or "
                      "--trace-json FILE\n");
    std::tie(status, output) = run_command(relay + " --trace-json /nonexistent/trace.jsonl", 10);
    EXPECT_EQ(status, 2);
    EXPECT_EQ(output, "reference-relay: cannot write the trace to /nonexistent/trace.jsonl: No such file or directory\n");
}

// Tracing only watches: the whole scenario library passes against a relay tracing everything to both
// outputs, and every event is written once to each.
TEST(Trace, ScenarioLibraryPassesWithBothOutputsOn) {
    TracedRelay r({"--watchdog-nudge-ms", "1000", "--watchdog-reset-ms", "500"});
    auto const [status, output] =
        run_command(std::string(RELAY_CONFORMANCE_BINARY) + " run --url " + r.relay.url() + " --time-scale 0.1", 300);
    EXPECT_EQ(status, 0) << output;
    EXPECT_NE(output.find(" passed, 0 failed"), std::string::npos) << output;
    EXPECT_EQ(r.relay.terminate(), 0);
    auto const& events = r.trace.events();
    EXPECT_GT(events.size(), 500u);
    EXPECT_EQ(r.lines().size(), events.size());
    std::set<std::string> kinds;
    for (auto const& event : events) kinds.insert(event["event"].get<std::string>());
    for (auto kind : {"open", "frame_in", "frame_out", "control_out", "buffered", "dropped", "ignored", "flushed",
                      "close_sent", "close_received", "end", "watchdog"})
        EXPECT_TRUE(kinds.count(kind)) << "no " << kind << " event in the whole library";
}
