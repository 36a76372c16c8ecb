// GET /metrics and GET /ready on the admin port, and the drain before a shutdown (--drain-seconds), over
// real loopback sockets: the exposition parses, deterministic traffic makes the counters add up exactly,
// scrapes during a whole scenario run, and what sockets see while and after the relay drains.
#include "file_follower.hpp"
#include "relay_process.hpp"
#include "test_support.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <future>
#include <map>
#include <regex>
#include <set>
#include <thread>

namespace relay::testing::metrics {

using Kind = Event::Kind;
using Clock = std::chrono::steady_clock;

namespace {

// One scrape, checked line by line against the text format 0.0.4; `problems` says what broke it.
struct Scrape {
    std::map<std::string, double> samples;      // "name" or "name{labels as sent}" -> value
    std::map<std::string, std::string> types;   // family name -> counter, gauge
    std::vector<std::string> problems;

    // The sample's value; -1 if there is none, which no metric here can be.
    double at(std::string const& name, std::string const& labels = {}) const {
        auto it = samples.find(labels.empty() ? name : name + "{" + labels + "}");
        return it == samples.end() ? -1 : it->second;
    }
    // The sum of a family's samples.
    double sum(std::string const& name) const {
        double total = 0;
        for (auto const& [key, value] : samples)
            if (key == name || key.starts_with(name + "{")) total += value;
        return total;
    }
};

std::regex const metric_name{"[a-zA-Z_:][a-zA-Z0-9_:]*"};
std::regex const sample_line{R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+))"};
std::regex const label_pair{R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)")re"};

bool valid_labels(std::string const& labels) {
    std::set<std::string> names;
    auto rest = labels;
    for (std::smatch m; !rest.empty();) {
        if (!std::regex_search(rest, m, label_pair, std::regex_constants::match_continuous)) return false;
        if (!names.insert(m[1]).second) return false;
        rest = m.suffix();
        if (!rest.empty() && rest.front() != ',') return false;
        if (!rest.empty()) rest.erase(0, 1);
    }
    return true;
}

bool valid_value(std::string const& text) {
    if (text == "+Inf" || text == "-Inf" || text == "NaN") return true;
    char* end = nullptr;
    std::strtod(text.c_str(), &end);
    return !text.empty() && end == text.c_str() + text.size();
}

Scrape parse(std::string const& text) {
    Scrape out;
    std::set<std::string> helped;
    std::size_t start = 0;
    auto problem = [&](std::string const& line, std::string const& what) { out.problems.push_back(what + ": " + line); };
    while (start < text.size()) {
        auto const end = text.find('\n', start);
        if (end == std::string::npos) {
            problem(text.substr(start), "no newline after the last line");
            break;
        }
        auto const line = text.substr(start, end - start);
        start = end + 1;
        std::smatch m;
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            auto const rest = line.substr(7);
            auto const name = rest.substr(0, rest.find(' '));
            auto const what = rest.find(' ') == std::string::npos ? "" : rest.substr(rest.find(' ') + 1);
            if (!std::regex_match(name, metric_name) || what.empty()) problem(line, "malformed comment");
            if (line[2] == 'H' && !helped.insert(name).second) problem(line, "second HELP");
            if (line[2] == 'T') {
                if (what != "counter" && what != "gauge") problem(line, "unexpected type");
                if (!out.types.emplace(name, what).second) problem(line, "second TYPE");
                if (what == "counter" && !name.ends_with("_total")) problem(line, "counter not named *_total");
            }
        } else if (std::regex_match(line, m, sample_line)) {
            std::string const name = m[1], labels = m[3], value = m[4];
            if (!helped.count(name) || !out.types.count(name)) problem(line, "sample before its HELP and TYPE");
            if (!valid_labels(labels)) problem(line, "bad labels");
            if (!valid_value(value)) problem(line, "bad value");
            auto const key = m[2].matched ? name + "{" + labels + "}" : name;
            if (!out.samples.emplace(key, std::strtod(value.c_str(), nullptr)).second) problem(line, "repeated sample");
        } else {
            problem(line, "neither a comment nor a sample");
        }
    }
    return out;
}

// A reference relay with its admin port; `flags` come after --admin-port 0.
struct MetricsRelay {
    RelayProcess relay;
    unsigned short admin_port = 0;

    explicit MetricsRelay(std::vector<std::string> flags = {})
        : relay(with_admin(std::move(flags)), REFERENCE_RELAY_BINARY, 2) {
        auto const& url = relay.stdout_line(1);
        admin_port = static_cast<unsigned short>(std::stoi(url.substr(url.rfind(':') + 1)));
    }
    static std::vector<std::string> with_admin(std::vector<std::string> flags) {
        flags.insert(flags.begin(), {"--admin-port", "0"});
        return flags;
    }

    unsigned short port() const { return relay.port(); }

    Scrape scrape() const {
        auto const answer = http_request(admin_port, "GET", "/metrics");
        if (answer.status != 200) throw std::runtime_error("GET /metrics answered " + std::to_string(answer.status));
        auto parsed = parse(answer.body);
        EXPECT_TRUE(parsed.problems.empty()) << ::testing::PrintToString(parsed.problems) << "\n" << answer.body;
        return parsed;
    }
    // Scrapes again every 20 ms until `holds` or the deadline (the relay learns of ends on its own time);
    // the last scrape either way.
    Scrape wait_for(std::function<bool(Scrape const&)> const& holds, std::chrono::milliseconds deadline = 10s) const {
        auto const until = Clock::now() + deadline;
        for (;;) {
            auto s = scrape();
            if (holds(s) || Clock::now() >= until) return s;
            std::this_thread::sleep_for(20ms);  // the poll interval: /metrics has no event to wait on
        }
    }
};

bool holds_nothing(Scrape const& s) {
    return s.sum("relay_sockets") == 0 && s.at("relay_sessions") == 0 && s.at("relay_connections") == 0 &&
           s.at("relay_pending_frames") == 0;
}

std::string const v1_server = R"(version="v1",role="server")", v1_client = R"(version="v1",role="client")";
std::string const v2_control = R"(version="v2",role="control")", v2_data = R"(version="v2",role="data")",
                  v2_client = R"(version="v2",role="client")";

void expect_closed(WsClient& ws, std::uint16_t code, std::string const& reason, std::chrono::milliseconds deadline = 5s) {
    auto e = ws.next(deadline);
    while (e.kind == Kind::message) e = ws.next(deadline);  // frames still on their way before the close
    EXPECT_EQ(e.kind, Kind::closed) << e;
    EXPECT_EQ(e.code, code) << e;
    EXPECT_EQ(e.reason, reason) << e;
}

// Info lines of the relay's log whose message starts with `start` ("opened ", "closed ").
std::size_t lines_starting(LineFollower& log, std::string const& start) {
    auto const wanted = "Z info  " + start;
    auto const& lines = log.lines();
    return static_cast<std::size_t>(
        std::count_if(lines.begin(), lines.end(), [&](auto const& line) { return line.find(wanted) != std::string::npos; }));
}

}  // namespace

// Every metric the deployment guide names is there with its type, the text parses, the process's own
// figures are plausible, and the relay's own port knows nothing of it.
TEST(Metrics, ExpositionParsesWithEveryMetricNamed) {
    MetricsRelay relay;
    auto const answer = http_request(relay.admin_port, "GET", "/metrics");
    EXPECT_EQ(answer.status, 200u);
    EXPECT_EQ(answer.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    auto const s = relay.scrape();
    std::map<std::string, std::string> const expected{
        {"relay_sockets", "gauge"}, {"relay_sessions", "gauge"}, {"relay_connections", "gauge"},
        {"relay_pending_frames", "gauge"}, {"relay_sockets_opened_total", "counter"},
        {"relay_frames_received_total", "counter"}, {"relay_bytes_received_total", "counter"},
        {"relay_frames_forwarded_total", "counter"}, {"relay_bytes_forwarded_total", "counter"},
        {"relay_control_messages_total", "counter"}, {"relay_frames_buffered_total", "counter"},
        {"relay_frames_dropped_total", "counter"}, {"relay_closes_sent_total", "counter"},
        {"relay_messages_too_big_total", "counter"}, {"relay_watchdog_total", "counter"},
        {"relay_accept_errors_total", "counter"}, {"relay_upgrades_refused_total", "counter"}, {"relay_ready", "gauge"},
        {"process_cpu_seconds_total", "counter"}, {"process_resident_memory_bytes", "gauge"},
        {"process_open_fds", "gauge"}, {"process_max_fds", "gauge"}, {"process_start_time_seconds", "gauge"}};
    EXPECT_EQ(s.types, expected);
    for (auto const& labels : {v1_server, v1_client, v2_control, v2_data, v2_client}) {
        EXPECT_EQ(s.at("relay_sockets", labels), 0) << labels;
        EXPECT_EQ(s.at("relay_sockets_opened_total", labels), 0) << labels;
    }
    for (auto const* type : {"sync", "connected", "disconnected", "pong"})
        EXPECT_EQ(s.at("relay_control_messages_total", std::string("type=\"") + type + "\""), 0) << type;
    EXPECT_EQ(s.at("relay_frames_dropped_total", R"(reason="cap")"), 0);
    EXPECT_EQ(s.at("relay_frames_dropped_total", R"(reason="no_peer")"), 0);
    EXPECT_EQ(s.at("relay_watchdog_total", R"(action="nudge")"), 0);
    EXPECT_EQ(s.at("relay_watchdog_total", R"(action="reset")"), 0);
    EXPECT_EQ(s.sum("relay_closes_sent_total"), 0);
    EXPECT_EQ(s.at("relay_ready"), 1);

    EXPECT_GT(s.at("process_resident_memory_bytes"), 0);
    EXPECT_GT(s.at("process_open_fds"), 0);
    EXPECT_GE(s.at("process_max_fds"), s.at("process_open_fds"));
    EXPECT_GE(s.at("process_cpu_seconds_total"), 0);
    auto const now = static_cast<double>(std::time(nullptr));
    EXPECT_GT(s.at("process_start_time_seconds"), now - 600);  // started by this test, moments ago
    EXPECT_LT(s.at("process_start_time_seconds"), now + 5);

    auto const ready = http_request(relay.admin_port, "GET", "/ready");
    EXPECT_EQ(ready.status, 200u);
    EXPECT_EQ(ready.body, "{\"ready\":true}\n");
    EXPECT_EQ(http_request(relay.admin_port, "POST", "/metrics").status, 405u);
    EXPECT_EQ(http_request(relay.port(), "GET", "/metrics").status, 404u);
    EXPECT_EQ(http_request(relay.port(), "GET", "/ready").status, 404u);
}

// v2: K frames each way between a client and its data socket, a ping from the control, then the client
// leaves: every counter says exactly that, and every gauge is back at 0 once all have closed.
TEST(Metrics, V2TrafficAddsUp) {
    MetricsRelay relay({"--watchdog-nudge-ms", "600000"});
    auto const v2 = "v=2&serverId=" + unique_id("metrics-v2") + "&role=";
    int const k = 25;
    std::size_t up_bytes = 0, down_bytes = 0;
    {
        WsClient control(relay.port(), v2 + "server");
        EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");
        WsClient client(relay.port(), v2 + "client&connectionId=c1");
        EXPECT_EQ(control.next_text(), R"({"type":"connected","connectionId":"c1"})");
        WsClient data(relay.port(), v2 + "server&connectionId=c1");
        for (int i = 0; i < k; ++i) {
            auto const up = "up " + std::to_string(i), down = "down frame " + std::to_string(i);
            client.send_text(up);
            data.send_binary(down);
            up_bytes += up.size();
            down_bytes += down.size();
            EXPECT_EQ(data.next_text(), up);
            auto const e = client.next();
            EXPECT_EQ(e.payload, down) << e;
        }
        control.send_text(R"({"type":"ping"})");
        EXPECT_NE(control.next_text().find(R"("type":"pong")"), std::string::npos);

        auto const s = relay.scrape();
        EXPECT_EQ(s.at("relay_sockets", v2_control), 1);
        EXPECT_EQ(s.at("relay_sockets", v2_data), 1);
        EXPECT_EQ(s.at("relay_sockets", v2_client), 1);
        EXPECT_EQ(s.at("relay_sessions"), 1);
        EXPECT_EQ(s.at("relay_connections"), 1);
        EXPECT_EQ(s.at("relay_frames_received_total"), 2 * k + 1);
        EXPECT_EQ(s.at("relay_bytes_received_total"), up_bytes + down_bytes + 15);  // and the ping
        EXPECT_EQ(s.at("relay_frames_forwarded_total"), 2 * k);
        EXPECT_EQ(s.at("relay_bytes_forwarded_total"), up_bytes + down_bytes);
        EXPECT_EQ(s.at("relay_control_messages_total", R"(type="sync")"), 1);
        EXPECT_EQ(s.at("relay_control_messages_total", R"(type="connected")"), 1);
        EXPECT_EQ(s.at("relay_control_messages_total", R"(type="pong")"), 1);
        EXPECT_EQ(s.sum("relay_frames_dropped_total"), 0);
        EXPECT_EQ(s.at("relay_frames_buffered_total"), 0);

        client.close();
        expect_closed(data, 1001, "Client disconnected");
        EXPECT_EQ(control.next_text(), R"({"type":"disconnected","connectionId":"c1"})");
    }
    auto const s = relay.wait_for(holds_nothing);
    EXPECT_TRUE(holds_nothing(s));
    EXPECT_EQ(s.at("relay_control_messages_total", R"(type="disconnected")"), 1);
    EXPECT_EQ(s.at("relay_closes_sent_total", R"(code="1001")"), 1);
    EXPECT_EQ(s.sum("relay_closes_sent_total"), 1);
    for (auto const& labels : {v2_control, v2_data, v2_client}) EXPECT_EQ(s.at("relay_sockets_opened_total", labels), 1);
    EXPECT_EQ(s.sum("relay_sockets_opened_total"), 3);
}

// v1: K frames each way, a frame with nobody to reach, a server replaced (1008), and all gone after.
TEST(Metrics, V1TrafficAddsUp) {
    MetricsRelay relay;
    auto const v1 = "serverId=" + unique_id("metrics-v1") + "&role=";
    int const k = 20;
    {
        WsClient lonely(relay.port(), v1 + "server");
        lonely.send_text("nobody hears this");
        relay.wait_for([](Scrape const& s) { return s.at("relay_frames_received_total") == 1; });
        WsClient server(relay.port(), v1 + "server");
        expect_closed(lonely, 1008, "Replaced by new connection");
        WsClient client(relay.port(), v1 + "client");
        for (int i = 0; i < k; ++i) {
            client.send_text("to server " + std::to_string(i));
            server.send_text("to client " + std::to_string(i));
            EXPECT_EQ(server.next_text(), "to server " + std::to_string(i));
            EXPECT_EQ(client.next_text(), "to client " + std::to_string(i));
        }
        auto const s = relay.scrape();
        EXPECT_EQ(s.at("relay_sockets", v1_server), 1);
        EXPECT_EQ(s.at("relay_sockets", v1_client), 1);
        EXPECT_EQ(s.at("relay_frames_received_total"), 2 * k + 1);
        EXPECT_EQ(s.at("relay_frames_forwarded_total"), 2 * k);
        EXPECT_EQ(s.at("relay_frames_dropped_total", R"(reason="no_peer")"), 1);
        EXPECT_EQ(s.at("relay_closes_sent_total", R"(code="1008")"), 1);
        EXPECT_EQ(s.at("relay_sockets_opened_total", v1_server), 2);
        EXPECT_EQ(s.at("relay_sockets_opened_total", v1_client), 1);
        EXPECT_EQ(s.sum("relay_control_messages_total"), 0);
    }
    EXPECT_TRUE(holds_nothing(relay.wait_for(holds_nothing)));
}

// 205 frames for a connection id without a data socket: 205 kept, the 5 oldest pushed out by the cap,
// 200 forwarded once a data socket opens; frames kept for an id whose client leaves reach nobody.
TEST(Metrics, KeptFramesCountedAndCapped) {
    MetricsRelay relay({"--watchdog-nudge-ms", "600000"});
    auto const v2 = "v=2&serverId=" + unique_id("metrics-kept") + "&role=";
    WsClient client(relay.port(), v2 + "client&connectionId=c1");
    for (int i = 0; i < 205; ++i) client.send_text("kept " + std::to_string(i));
    auto s = relay.wait_for([](Scrape const& s) { return s.at("relay_frames_received_total") == 205; });
    EXPECT_EQ(s.at("relay_frames_buffered_total"), 205);
    EXPECT_EQ(s.at("relay_frames_dropped_total", R"(reason="cap")"), 5);
    EXPECT_EQ(s.at("relay_pending_frames"), 200);
    EXPECT_EQ(s.at("relay_frames_forwarded_total"), 0);

    WsClient data(relay.port(), v2 + "server&connectionId=c1");
    for (int i = 5; i < 205; ++i) EXPECT_EQ(data.next_text(), "kept " + std::to_string(i));
    s = relay.scrape();
    EXPECT_EQ(s.at("relay_frames_forwarded_total"), 200);
    EXPECT_EQ(s.at("relay_pending_frames"), 0);

    {
        WsClient leaving(relay.port(), v2 + "client&connectionId=c2");
        for (int i = 0; i < 3; ++i) leaving.send_text("never delivered");
        relay.wait_for([](Scrape const& s) { return s.at("relay_pending_frames") == 3; });
        leaving.close();
        EXPECT_EQ(leaving.next().kind, Kind::closed);
    }
    s = relay.wait_for([](Scrape const& s) { return s.at("relay_pending_frames") == 0; });
    EXPECT_EQ(s.at("relay_frames_buffered_total"), 208);
    EXPECT_EQ(s.at("relay_frames_dropped_total", R"(reason="no_peer")"), 3);
    EXPECT_EQ(s.at("relay_frames_dropped_total", R"(reason="cap")"), 5);
}

// The watchdog's nudge (a fresh sync) and reset (1011 to the control), each counted once.
TEST(Metrics, WatchdogNudgeAndResetCounted) {
    MetricsRelay relay({"--watchdog-nudge-ms", "200", "--watchdog-reset-ms", "200"});
    auto const v2 = "v=2&serverId=" + unique_id("metrics-wd") + "&role=";
    WsClient control(relay.port(), v2 + "server");
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");
    WsClient client(relay.port(), v2 + "client&connectionId=w");
    EXPECT_EQ(control.next_text(), R"({"type":"connected","connectionId":"w"})");
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":["w"]})");
    expect_closed(control, 1011, "Control unresponsive");
    auto const s = relay.wait_for([](Scrape const& s) { return s.at("relay_sockets", v2_control) == 0; });
    EXPECT_EQ(s.at("relay_watchdog_total", R"(action="nudge")"), 1);
    EXPECT_EQ(s.at("relay_watchdog_total", R"(action="reset")"), 1);
    EXPECT_EQ(s.at("relay_closes_sent_total", R"(code="1011")"), 1);
    EXPECT_EQ(s.at("relay_control_messages_total", R"(type="sync")"), 2);
}

// A message over --max-message-bytes: counted once, and its sender's 1009 among the closes sent.
TEST(Metrics, OversizedMessageCounted) {
    MetricsRelay relay({"--max-message-bytes", "64"});
    auto const v1 = "serverId=" + unique_id("metrics-big") + "&role=";
    WsClient server(relay.port(), v1 + "server");
    WsClient client(relay.port(), v1 + "client");
    client.send_text(std::string(100, 'x'));
    auto const e = client.next_close_frame();
    EXPECT_EQ(e.code, 1009) << e;
    auto const s = relay.wait_for([](Scrape const& s) { return s.at("relay_messages_too_big_total") == 1; });
    EXPECT_EQ(s.at("relay_messages_too_big_total"), 1);
    EXPECT_EQ(s.at("relay_closes_sent_total", R"(code="1009")"), 1);
    EXPECT_EQ(s.sum("relay_closes_sent_total"), 1);
    EXPECT_EQ(s.at("relay_frames_received_total"), 0);  // the message never reached the protocol
}

// Beast's own closes for frames that break RFC 6455 are counted too: 1007 for invalid UTF-8, else 1002.
TEST(Metrics, ClosesForBrokenFramesCounted) {
    MetricsRelay relay;
    auto const v1 = "serverId=" + unique_id("metrics-rfc") + "&role=";
    {
        WsClient bad_text(relay.port(), v1 + "server");
        WsClient bad_opcode(relay.port(), v1 + "client");
        bad_text.send_frames({RawFrame{1, "ab\xff"}});
        bad_opcode.send_frames({RawFrame{3, "x"}});
        EXPECT_EQ(bad_text.next_close_frame().code, 1007);
        EXPECT_EQ(bad_opcode.next_close_frame().code, 1002);
    }
    // Counted once each connection has ended, which the clients' going away brings about.
    auto const s = relay.wait_for([](Scrape const& s) { return s.sum("relay_closes_sent_total") == 2; });
    EXPECT_EQ(s.at("relay_closes_sent_total", R"(code="1007")"), 1);
    EXPECT_EQ(s.at("relay_closes_sent_total", R"(code="1002")"), 1);
    EXPECT_EQ(s.at("relay_frames_received_total"), 0);
    EXPECT_TRUE(holds_nothing(s));
}

// Scrapes while the whole scenario library runs against the relay: each parses and no counter goes
// back; after the run every gauge is 0, and the sockets opened are exactly those the log saw open and end.
TEST(Metrics, ScrapesDuringAScenarioRunAddUp) {
    MetricsRelay relay({"--watchdog-nudge-ms", "1000", "--watchdog-reset-ms", "500"});
    auto run = std::async(std::launch::async, [&] {
        return run_command(std::string(RELAY_CONFORMANCE_BINARY) + " run --url " + relay.relay.url() + " --time-scale 0.1", 300);
    });
    std::size_t scrapes = 0;
    Scrape last;
    while (run.wait_for(100ms) != std::future_status::ready) {
        auto s = relay.scrape();
        ++scrapes;
        for (auto const& [key, value] : s.samples) {
            if (key.find("_total") != std::string::npos && last.samples.count(key)) {
                EXPECT_GE(value, last.samples.at(key)) << key << " went back";
            }
        }
        last = std::move(s);
    }
    auto const [status, output] = run.get();
    EXPECT_EQ(status, 0) << output;
    EXPECT_NE(output.find(" passed, 0 failed"), std::string::npos) << output;
    EXPECT_GE(scrapes, 3u);

    auto const after = relay.wait_for(holds_nothing);
    EXPECT_TRUE(holds_nothing(after));
    EXPECT_GT(after.at("relay_frames_forwarded_total"), 0);
    EXPECT_GT(after.at("relay_watchdog_total", R"(action="reset")"), 0);
    LineFollower log(relay.relay.log_path());
    auto const opened = lines_starting(log, "opened ");
    EXPECT_GT(opened, 0u);
    EXPECT_EQ(after.sum("relay_sockets_opened_total"), opened);
    EXPECT_EQ(lines_starting(log, "closed "), opened);
    // Every close the relay sent is a "closing ...: CODE reason" line (the library breaks no RFC 6455 rule).
    std::map<std::string, double> closing;
    std::regex const code{R"(Z info  closing .*: (\d{4}) )"};
    for (auto const& line : log.lines())
        if (std::smatch m; std::regex_search(line, m, code)) ++closing["code=\"" + m[1].str() + "\""];
    for (auto const& [labels, count] : closing) EXPECT_EQ(after.at("relay_closes_sent_total", labels), count) << labels;
    EXPECT_EQ(after.sum("relay_closes_sent_total"), lines_starting(log, "closing "));
}

//---------------------------------------------------------------------------------------------------
// The drain: /ready says 503 at once, sockets old and new keep forwarding, then all get 1001.

namespace {

// Waits for the log line that says the drain began.
bool drain_began(RelayProcess const& relay, unsigned seconds) {
    LineFollower log(relay.log_path());
    auto const text = "draining for " + std::to_string(seconds) + " s: /ready answers 503; SIGTERM again to stop at once";
    return log.next([&](std::string const& line) { return line.find(text) != std::string::npos; }, 10s).has_value();
}

}  // namespace

TEST(Drain, ReadyAnswers503WhileSocketsStillForwardThen1001) {
    unsigned const drain_seconds = 3;
    MetricsRelay relay({"--drain-seconds", std::to_string(drain_seconds)});
    auto const v1 = "serverId=" + unique_id("drain") + "&role=";
    WsClient server(relay.port(), v1 + "server");
    WsClient client(relay.port(), v1 + "client");
    EXPECT_EQ(http_request(relay.admin_port, "GET", "/ready").status, 200u);

    auto const signalled = Clock::now();
    ASSERT_EQ(kill(relay.relay.pid(), SIGTERM), 0);
    ASSERT_TRUE(drain_began(relay.relay, drain_seconds)) << relay.relay.log();
    auto const ready = http_request(relay.admin_port, "GET", "/ready");
    EXPECT_EQ(ready.status, 503u);
    EXPECT_EQ(ready.body, "{\"ready\":false}\n");
    EXPECT_EQ(relay.scrape().at("relay_ready"), 0);
    // Old sockets forward, and new ones are admitted and forward too.
    server.send_text("during the drain");
    EXPECT_EQ(client.next_text(), "during the drain");
    auto const late_v1 = "serverId=" + unique_id("drain-late") + "&role=";
    WsClient late_server(relay.port(), late_v1 + "server");
    WsClient late_client(relay.port(), late_v1 + "client");
    late_client.send_text("from a late one");
    EXPECT_EQ(late_server.next_text(), "from a late one");
    client.send_text("still both ways");
    EXPECT_EQ(server.next_text(), "still both ways");

    auto const deadline = std::chrono::seconds(drain_seconds + 5);
    for (auto* ws : {&server, &client, &late_server, &late_client}) expect_closed(*ws, 1001, "Relay shutting down", deadline);
    EXPECT_GE(Clock::now() - signalled, std::chrono::seconds(drain_seconds));
    EXPECT_EQ(relay.relay.terminate(5s), 0);
}

TEST(Drain, SecondSignalEndsTheDrainAtOnce) {
    MetricsRelay relay({"--drain-seconds", "60"});
    WsClient control(relay.port(), "v=2&role=server&serverId=" + unique_id("drain-again"));
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");
    ASSERT_EQ(kill(relay.relay.pid(), SIGTERM), 0);
    ASSERT_TRUE(drain_began(relay.relay, 60)) << relay.relay.log();
    auto const again = Clock::now();
    ASSERT_EQ(kill(relay.relay.pid(), SIGTERM), 0);
    expect_closed(control, 1001, "Relay shutting down", 3s);
    EXPECT_EQ(relay.relay.terminate(3s), 0);
    EXPECT_LT(Clock::now() - again, 2s);
}

// Without --drain-seconds the first signal closes every socket at once, as before.
TEST(Drain, WithoutDrainSecondsShutdownIsImmediate) {
    MetricsRelay relay;
    WsClient control(relay.port(), "v=2&role=server&serverId=" + unique_id("no-drain"));
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");
    auto const signalled = Clock::now();
    ASSERT_EQ(kill(relay.relay.pid(), SIGTERM), 0);
    expect_closed(control, 1001, "Relay shutting down", 3s);
    EXPECT_EQ(relay.relay.terminate(3s), 0);
    EXPECT_LT(Clock::now() - signalled, 2s);
    EXPECT_EQ(relay.relay.log().find("draining"), std::string::npos);
}

// --admin-read-only, for a relay in production: the watching endpoints answer, fault injection is off
// (403 for its endpoints, whatever the method) and the relay forwards as ever.
TEST(AdminReadOnly, ServesMetricsReadyAndStatsButNoFaultInjection) {
    MetricsRelay relay({"--admin-read-only"});
    for (auto const* path : {"/metrics", "/ready", "/stats"})
        EXPECT_EQ(http_request(relay.admin_port, "GET", path).status, 200) << path;
    for (auto const* path : {"/faults", "/sockets"}) EXPECT_EQ(http_request(relay.admin_port, "GET", path).status, 403) << path;
    auto const refused = http_request(relay.admin_port, "POST", "/faults/close-control");
    EXPECT_EQ(refused.status, 403);
    EXPECT_NE(refused.body.find("--admin-read-only"), std::string::npos) << refused.body;
    EXPECT_EQ(http_request(relay.admin_port, "DELETE", "/faults").status, 403);
    EXPECT_EQ(http_request(relay.admin_port, "GET", "/nowhere").status, 404);

    auto const id = unique_id("read-only");
    WsClient server(relay.port(), "serverId=" + id + "&role=server");
    WsClient client(relay.port(), "serverId=" + id + "&role=client");
    client.send_text("hello");
    EXPECT_EQ(server.next_text(), "hello");
    auto const s = relay.wait_for([](Scrape const& s) { return s.at("relay_frames_forwarded_total") == 1; });
    EXPECT_EQ(s.at("relay_frames_forwarded_total"), 1);
}

}  // namespace relay::testing::metrics
