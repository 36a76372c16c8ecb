// V2-*: control, data and client sockets, buffering, close cascades and the watchdog.
#include "relay_fixture.hpp"

using namespace relay::core;
using namespace relay::core::fixture;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

namespace {

std::string sync(std::string const& ids) { return R"({"type":"sync","connectionIds":[)" + ids + "]}"; }
std::string connected(std::string const& id) { return R"({"type":"connected","connectionId":")" + id + "\"}"; }
std::string disconnected(std::string const& id) { return R"({"type":"disconnected","connectionId":")" + id + "\"}"; }

}  // namespace

TEST_F(RelayTest, V2_CTRL_1_ControlGetsSyncOfDistinctClientIdsInOpeningOrder) {
    EXPECT_THAT(control(1).sent, ElementsAre(Sent{1, sync(""), false}));
    client(2, "b");
    client(3, "a");
    client(4, "b");
    EXPECT_THAT(control(5).sent, ElementsAre(Sent{5, sync(R"("b","a")"), false}));
}

TEST_F(RelayTest, V2_CTRL_2_NewControlReplacesOlder) {
    control(1);
    auto second = control(2);
    EXPECT_THAT(second.closed, ElementsAre(Closed{1, 1008, "Replaced by new connection"}));
    EXPECT_THAT(client(3, "c").sent, ElementsAre(Sent{2, connected("c"), false}));
}

TEST_F(RelayTest, V2_CTRL_3_ControlsHearOfEveryClientOpening) {
    control(1);
    EXPECT_THAT(client(2, "c").sent, ElementsAre(Sent{1, connected("c"), false}));
    EXPECT_THAT(client(3, "c").sent, ElementsAre(Sent{1, connected("c"), false}));
}

TEST_F(RelayTest, V2_CTRL_4_ControlsHearWhenTheLastClientOfAnIdLeaves) {
    control(1);
    client(2, "c");
    client(3, "c");
    EXPECT_TRUE(close(2).empty());
    EXPECT_THAT(close(3).sent, ElementsAre(Sent{1, disconnected("c"), false}));
}

TEST_F(RelayTest, V2_CTRL_5_PingIsAnsweredWithPongToThatSocketOnly) {
    control(1);
    std::string const pong = R"({"type":"pong","ts":1700000000123})";
    EXPECT_THAT(text(1, R"({"type":"ping"})").sent, ElementsAre(Sent{1, pong, false}));
    EXPECT_THAT(text(1, R"( {"ts":5,"type":"ping","x":[1]} )").sent, ElementsAre(Sent{1, pong, false}));
    EXPECT_THAT(text(1, R"({"type":"other","type":"ping"})").sent, ElementsAre(Sent{1, pong, false}));
}

TEST_F(RelayTest, V2_CTRL_6_OtherControlInputIsIgnored) {
    control(1);
    client(2, "c");
    for (auto input : {R"({"type":"pong"})", R"({"type":"PING"})", "ping", R"("ping")", R"(["ping"])", "{", "",
                       R"({"type":["ping"]})"})
        EXPECT_TRUE(text(1, input).empty()) << input;
    EXPECT_TRUE(binary(1, R"({"type":"ping"})").empty());
}

TEST_F(RelayTest, V2_CLIENT_1_ClientWithoutIdIsAssignedOne) {
    control(1);
    auto opened = client(2, "");
    EXPECT_THAT(opened.sent, ElementsAre(Sent{1, connected("conn_1"), false}));
    EXPECT_EQ(relay.info(2)->admission.connection_id, "conn_1");
}

TEST(ConnectionId, V2_CLIENT_1_AssignedIdsLookLikeTheOfficialOnes) {
    for (int i = 0; i < 100; ++i) {
        auto id = random_connection_id();
        ASSERT_EQ(id.size(), 21u);
        EXPECT_EQ(id.substr(0, 5), "conn_");
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef", 5), std::string::npos) << id;
        EXPECT_EQ(id[17], '4') << id;  // the UUID version digit
    }
    EXPECT_NE(random_connection_id(), random_connection_id());
}

TEST_F(RelayTest, V2_CLIENT_2_ClientsShareAnIdWithoutReplacement) {
    data(1, "c");
    EXPECT_TRUE(client(2, "c").closed.empty());
    EXPECT_TRUE(client(3, "c").closed.empty());
    EXPECT_THAT(text(1, "hello").sent, ElementsAre(Sent{2, "hello", false}, Sent{3, "hello", false}));
}

TEST_F(RelayTest, V2_DATA_1_NewDataSocketReplacesOlderForThatId) {
    data(1, "c");
    data(2, "d");
    EXPECT_THAT(data(3, "c").closed, ElementsAre(Closed{1, 1008, "Replaced by new connection"}));
    client(4, "c");
    EXPECT_THAT(text(4, "up").sent, ElementsAre(Sent{3, "up", false}));
}

TEST_F(RelayTest, V2_FWD_1_FramesFlowBetweenClientsAndTheirDataSocketOnly) {
    control(1);
    data(2, "c");
    data(3, "d");
    client(4, "c");
    client(5, "d");
    EXPECT_THAT(binary(4, "up").sent, ElementsAre(Sent{2, "up", true}));
    EXPECT_THAT(text(3, "down").sent, ElementsAre(Sent{5, "down", false}));
}

TEST_F(RelayTest, V2_FWD_2_DataFramesWithoutClientsAreDropped) {
    data(1, "c");
    EXPECT_TRUE(text(1, "nobody").empty());
    EXPECT_TRUE(client(2, "c").sent.empty());
}

TEST_F(RelayTest, V2_BUF_1_ClientFramesWaitForTheDataSocketInOrder) {
    client(1, "c");
    EXPECT_TRUE(text(1, "one").empty());
    EXPECT_TRUE(binary(1, "two").empty());
    EXPECT_THAT(data(2, "c").sent, ElementsAre(Sent{2, "one", false}, Sent{2, "two", true}));
    EXPECT_TRUE(data(3, "c").sent.empty()) << "a flushed buffer is empty";
}

TEST_F(RelayTest, V2_BUF_2_OnlyTheNewest200AreKept) {
    client(1, "c");
    for (int i = 0; i < 205; ++i) text(1, std::to_string(i));
    auto flushed = data(2, "c").sent;
    ASSERT_EQ(flushed.size(), 200u);
    EXPECT_EQ(flushed.front().payload, "5");
    EXPECT_EQ(flushed.back().payload, "204");
}

TEST_F(RelayTest, V2_BUF_3_BufferIsDroppedWhenTheLastClientLeaves) {
    control(9);
    client(1, "c");
    client(2, "c");
    text(1, "kept");
    close(1);
    client(3, "c");
    text(3, "also kept");
    close(2);
    close(3);
    client(4, "c");
    EXPECT_TRUE(data(5, "c").sent.empty());
}

TEST_F(RelayTest, V2_CLOSE_1_LastClientLeavingClosesTheDataSocket) {
    control(1);
    data(2, "c");
    client(3, "c");
    auto left = close(3);
    EXPECT_THAT(left.closed, ElementsAre(Closed{2, 1001, "Client disconnected"}));
    EXPECT_THAT(left.sent, ElementsAre(Sent{1, disconnected("c"), false}));
}

TEST_F(RelayTest, V2_CLOSE_2_DataSocketClosingClosesEveryClient) {
    control(1);
    data(2, "c");
    client(3, "c");
    client(4, "c");
    auto gone = close(2);
    EXPECT_THAT(gone.closed, ElementsAre(Closed{3, 1012, "Server disconnected"}, Closed{4, 1012, "Server disconnected"}));
    EXPECT_TRUE(gone.sent.empty());
    EXPECT_TRUE(close(3).empty());
    EXPECT_THAT(close(4).sent, ElementsAre(Sent{1, disconnected("c"), false}));
}

TEST_F(RelayTest, V2_CLOSE_3_ReplacingTheDataSocketCascades) {
    control(1);
    data(2, "c");
    client(3, "c");
    EXPECT_THAT(data(4, "c").closed, ElementsAre(Closed{2, 1008, "Replaced by new connection"}));
    EXPECT_THAT(close(2).closed, ElementsAre(Closed{3, 1012, "Server disconnected"}));
    auto last = close(3);
    EXPECT_THAT(last.closed, ElementsAre(Closed{4, 1001, "Client disconnected"}));
    EXPECT_THAT(last.sent, ElementsAre(Sent{1, disconnected("c"), false}));
}

TEST_F(RelayTest, V2_CLOSE_4_ControlClosingHasNoConsequences) {
    control(1);
    data(2, "c");
    client(3, "c");
    EXPECT_TRUE(close(1).empty());
    EXPECT_THAT(text(3, "still").sent, ElementsAre(Sent{2, "still", false}));
}

TEST_F(RelayTest, V2_CLOSE_5_SocketsBeingClosedGetNoMoreFrames) {
    control(1);
    data(2, "c");
    client(3, "c");
    data(4, "c");
    EXPECT_THAT(text(3, "x").sent, ElementsAre(Sent{4, "x", false}));
}

TEST_F(RelayTest, V2_WD_1_SyncAgainAfterTenSecondsWithoutDataSocket) {
    control(1);
    auto opened = client(2, "c");
    ASSERT_EQ(opened.timers.size(), 1u);
    EXPECT_EQ(opened.timers[0].delay, 10s);
    auto nudge = fire(opened.timers[0].token);
    EXPECT_THAT(nudge.sent, ElementsAre(Sent{1, sync(R"("c")"), false}));
    ASSERT_EQ(nudge.timers.size(), 1u);
    EXPECT_EQ(nudge.timers[0].delay, 5s);
}

TEST_F(RelayTest, V2_WD_2_ControlsClosedFiveSecondsLater) {
    control(1);
    auto nudge = fire(client(2, "c").timers.at(0).token);
    auto reset = fire(nudge.timers.at(0).token);
    EXPECT_THAT(reset.closed, ElementsAre(Closed{1, 1011, "Control unresponsive"}));
    EXPECT_TRUE(reset.timers.empty());
}

TEST_F(RelayTest, V2_WD_3_WatchdogStandsDownWhenDataArrivesOrClientsLeave) {
    control(1);
    auto first = client(2, "c").timers.at(0).token;
    data(3, "c");
    EXPECT_TRUE(fire(first).empty());

    auto second = client(4, "d").timers.at(0).token;
    auto nudge = fire(second);
    close(4);
    EXPECT_TRUE(fire(nudge.timers.at(0).token).empty());

    auto third = client(5, "e").timers.at(0).token;
    close(5);
    EXPECT_TRUE(fire(third).empty());
}

TEST_F(RelayTest, V2_WD_3_WatchdogWatchesTheIdNotTheSocket) {
    control(1);
    auto token = client(2, "c").timers.at(0).token;
    close(2);
    client(3, "c");
    EXPECT_THAT(fire(token).sent, ElementsAre(Sent{1, sync(R"("c")"), false}));
}

// The reference relay's --watchdog-nudge-ms and --watchdog-reset-ms: the same watchdog on other delays.
TEST(RelayOptionsTest, V2_WD_1_And_2_WatchdogRunsOnTheConfiguredDelays) {
    Relay relay{RelayOptions{.watchdog_nudge = 1000ms, .watchdog_reset = 500ms}, [] { return "conn_x"; },
                [] { return std::int64_t{0}; }};
    relay.opened(1, Admission{Version::v2, Role::server, "srv", ""});
    auto opened = Outcome(relay.opened(2, Admission{Version::v2, Role::client, "srv", "c"}));
    ASSERT_EQ(opened.timers.size(), 1u);
    EXPECT_EQ(opened.timers[0].delay, 1000ms);
    auto nudge = Outcome(relay.timer_fired(opened.timers[0].token));
    EXPECT_THAT(nudge.sent, ElementsAre(Sent{1, sync(R"("c")"), false}));
    ASSERT_EQ(nudge.timers.size(), 1u);
    EXPECT_EQ(nudge.timers[0].delay, 500ms);
    auto reset = Outcome(relay.timer_fired(nudge.timers[0].token));
    EXPECT_THAT(reset.closed, ElementsAre(Closed{1, 1011, "Control unresponsive"}));
    EXPECT_TRUE(reset.timers.empty());
}

TEST_F(RelayTest, LIMIT_1_DroppedSocketLeavesWithoutConsequences) {
    control(1);
    data(2, "c");
    client(3, "c");
    EXPECT_TRUE(Outcome(relay.dropped(3)).empty());
    EXPECT_TRUE(Outcome(relay.dropped(2)).empty());
}

TEST_F(RelayTest, SessionsAreForgottenWhenTheirLastSocketLeaves) {
    control(1);
    client(2, "c");
    text(2, "buffered");
    close(2);
    close(1);
    EXPECT_EQ(relay.session_count(), 0u);
}
