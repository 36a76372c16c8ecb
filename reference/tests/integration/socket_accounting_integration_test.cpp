// What the relay holds, as GET /stats on the admin port counts it, and the ceiling on concurrent
// sockets (--max-sockets; docs/reliability.md, "A ceiling on sockets") over real loopback sockets.
#include "file_follower.hpp"
#include "relay_stats.hpp"
#include "test_support.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace relay::testing {

using json = nlohmann::json;

namespace {

std::string const upgrade_headers = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

bool contains(std::string const& text, std::string const& part) { return text.find(part) != std::string::npos; }

std::size_t lines_containing(LineFollower& log, std::string const& part) {
    auto const& lines = log.lines();
    return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](auto const& line) { return contains(line, part); }));
}

}  // namespace

// Every count comes from the structure that holds it: one socket of each role, a frame kept for a
// connection id without a data socket, the watchdog timer its client started; then nothing at all.
TEST(AdminStats, CountsWhatTheRelayHoldsThenNothing) {
    StatsRelay relay({"--watchdog-nudge-ms", "600000"});
    auto const sid = unique_id("stats");
    auto const v2 = "v=2&serverId=" + sid + "&role=";
    auto const idle = relay.stats();
    {
        WsClient server(relay.port(), "serverId=" + sid + "&role=server");
        WsClient client(relay.port(), "serverId=" + sid + "&role=client");
        WsClient control(relay.port(), v2 + "server");
        EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");
        WsClient app(relay.port(), v2 + "client&connectionId=a");
        EXPECT_EQ(control.next_text(), R"({"type":"connected","connectionId":"a"})");
        WsClient data(relay.port(), v2 + "server&connectionId=b");
        app.send_text("hello");

        auto const held = relay.wait_for_stats([](json const& s) { return s.at("pending_frames") == 1; }, 5s);
        EXPECT_EQ(held.at("sockets"), 5) << held;
        EXPECT_EQ(held.at("by_role"), json::parse(R"({"v1_server":1,"v1_client":1,"control":1,"data":1,"client":1})")) << held;
        EXPECT_EQ(held.at("sessions"), 2) << held;     // v1 and v2 are apart
        EXPECT_EQ(held.at("connections"), 2) << held;  // a and b
        EXPECT_EQ(held.at("pending_frames"), 1) << held;
        EXPECT_EQ(held.at("pending_bytes"), 5) << held;
        EXPECT_EQ(held.at("timers"), 1) << held;
        EXPECT_EQ(held.at("max_sockets"), nullptr) << held;  // no ceiling by default
        EXPECT_EQ(held.at("refused_upgrades"), 0) << held;
        EXPECT_GT(held.at("rss_bytes").get<std::size_t>(), 0u) << held;
        EXPECT_EQ(held.at("open_files").get<std::size_t>(), idle.at("open_files").get<std::size_t>() + 5) << held;
    }
    // Their ends reach the relay after the clients are gone: the watchdog's timer is still due later.
    auto const after = relay.wait_for_stats(
        [&](json const& s) { return s.at("sockets") == 0 && s.at("sessions") == 0 && s.at("open_files") == idle.at("open_files"); },
        10s);
    EXPECT_EQ(after.at("sockets"), 0) << after;
    EXPECT_EQ(after.at("by_role"), json::parse(R"({"v1_server":0,"v1_client":0,"control":0,"data":0,"client":0})")) << after;
    EXPECT_EQ(after.at("sessions"), 0) << after;
    EXPECT_EQ(after.at("connections"), 0) << after;
    EXPECT_EQ(after.at("pending_frames"), 0) << after;
    EXPECT_EQ(after.at("pending_bytes"), 0) << after;
    EXPECT_EQ(after.at("open_files"), idle.at("open_files")) << after;
}

// At the ceiling an upgrade gets 503 before it is upgraded, and the connection ends; sockets already
// open keep forwarding, /health keeps answering, and a socket's end lets the next upgrade in. Said
// once in the log while refusals last, and once when they end.
TEST(SocketCeiling, UpgradeOverTheLimitGets503UntilASocketEnds) {
    StatsRelay relay({"--max-sockets", "3"});
    LineFollower log(relay.process().log_path());
    auto const sid = unique_id("ceiling");
    WsClient server(relay.port(), "serverId=" + sid + "&role=server");
    WsClient client(relay.port(), "serverId=" + sid + "&role=client");
    std::optional<WsClient> control(std::in_place, relay.port(), "v=2&role=server&serverId=" + sid);
    EXPECT_EQ(control->next_text(), R"({"type":"sync","connectionIds":[]})");

    auto refused = http_request(relay.port(), "GET", "/ws?v=2&role=client&serverId=" + sid, upgrade_headers);
    EXPECT_EQ(refused.status, 503u);
    EXPECT_EQ(refused.body, "Relay at its limit of open sockets; try again later");
    EXPECT_EQ(refused.headers["content-type"], "text/plain");
    EXPECT_EQ(refused.headers["connection"], "close");
    EXPECT_THROW(WsClient(relay.port(), "serverId=" + unique_id("other") + "&role=server"), std::runtime_error);
    EXPECT_EQ(http_request(relay.port(), "GET", "/health").status, 200u);
    server.send_text("still forwarded");
    EXPECT_EQ(client.next_text(), "still forwarded");
    auto const full = relay.stats();
    EXPECT_EQ(full.at("sockets"), 3) << full;
    EXPECT_EQ(full.at("max_sockets"), 3) << full;
    EXPECT_EQ(full.at("refused_upgrades"), 2) << full;
    EXPECT_EQ(lines_containing(log, "refusing WebSocket upgrades with 503"), 1u) << relay.process().log();

    control->close();
    control.reset();
    relay.wait_for_stats([](json const& s) { return s.at("sockets") == 2; }, 10s);
    WsClient again(relay.port(), "v=2&role=server&serverId=" + sid);
    EXPECT_EQ(again.next_text(), R"({"type":"sync","connectionIds":[]})");
    EXPECT_EQ(lines_containing(log, "admitting WebSocket upgrades again after 2 refused"), 1u) << relay.process().log();
    client.send_text("and back");
    EXPECT_EQ(server.next_text(), "and back");
}

}  // namespace relay::testing
