// The core's counters (GET /metrics): each read off the actions an event returned, so each test drives
// events and checks the counts against what the relay was seen to do.
#include "relay_fixture.hpp"

using namespace relay::core;
using namespace relay::core::fixture;
using namespace std::chrono_literals;

namespace {

std::uint64_t opened(Relay const& relay, SocketKind kind) { return relay.counters().sockets_opened[std::size_t(kind)]; }
std::uint64_t control_sent(Relay const& relay, ControlMessage type) { return relay.counters().control[std::size_t(type)]; }

}  // namespace

TEST_F(RelayTest, Counters_ForwardedFramesOncePerSocketAndControlMessagesApart) {
    control(1);
    client(2, "c");
    client(3, "c");
    data(4, "c");
    EXPECT_EQ(text(4, "four").sent.size(), 2u);  // to both clients
    EXPECT_EQ(text(2, "to data").sent.size(), 1u);
    text(1, R"({"type":"ping"})");
    auto const& c = relay.counters();
    EXPECT_EQ(c.frames_received, 3u);
    EXPECT_EQ(c.bytes_received, 4u + 7u + 15u);
    EXPECT_EQ(c.frames_forwarded, 3u);
    EXPECT_EQ(c.bytes_forwarded, 2 * 4u + 7u);
    EXPECT_EQ(control_sent(relay, ControlMessage::sync), 1u);
    EXPECT_EQ(control_sent(relay, ControlMessage::connected), 2u);
    EXPECT_EQ(control_sent(relay, ControlMessage::pong), 1u);
    EXPECT_EQ(opened(relay, SocketKind::control), 1u);
    EXPECT_EQ(opened(relay, SocketKind::client), 2u);
    EXPECT_EQ(opened(relay, SocketKind::data), 1u);
    close(2);
    close(3);  // the last client: data closed with 1001, controls hear it
    EXPECT_EQ(c.closes, (std::map<std::uint16_t, std::uint64_t>{{1001, 1}}));
    EXPECT_EQ(control_sent(relay, ControlMessage::disconnected), 1u);
}

TEST_F(RelayTest, Counters_KeptFramesBufferedCappedFlushedOrThrownAway) {
    client(1, "c");
    for (int i = 0; i < 205; ++i) text(1, "f");
    auto const& c = relay.counters();
    EXPECT_EQ(c.frames_buffered, 205u);
    EXPECT_EQ(c.dropped_cap, 5u);
    EXPECT_EQ(data(2, "c").sent.size(), 200u);
    EXPECT_EQ(c.frames_forwarded, 200u);
    client(3, "d");
    text(3, "kept");
    text(3, "kept");
    close(3);  // the last client of d: what was kept for it reaches nobody
    EXPECT_EQ(c.dropped_no_peer, 2u);
    v1(4, Role::server);
    text(4, "nobody");  // no v1 client
    EXPECT_EQ(c.dropped_no_peer, 3u);
    control(5);
    text(5, R"({"type":"other"})");  // ignored control input reaches nobody
    EXPECT_EQ(c.dropped_no_peer, 4u);
}

TEST_F(RelayTest, Counters_KeptFramesOfAForgottenSessionAreDropped) {
    client(1, "c");
    text(1, "kept");
    relay.dropped(1);  // a 1009: no close cascade, the frame stays until the session is forgotten
    EXPECT_EQ(relay.counters().dropped_no_peer, 1u);
}

TEST_F(RelayTest, Counters_WatchdogNudgeAndResetAndTheirMessages) {
    control(1);
    auto const opened_client = client(2, "c");
    ASSERT_EQ(opened_client.timers.size(), 1u);
    auto const nudge = fire(opened_client.timers[0].token);
    ASSERT_EQ(nudge.timers.size(), 1u);
    fire(nudge.timers[0].token);
    auto const& c = relay.counters();
    EXPECT_EQ(c.watchdog_nudges, 1u);
    EXPECT_EQ(c.watchdog_resets, 1u);
    EXPECT_EQ(control_sent(relay, ControlMessage::sync), 2u);
    EXPECT_EQ(c.closes, (std::map<std::uint16_t, std::uint64_t>{{1011, 1}}));
}
