// SESS-* and V1-*: the legacy protocol and session isolation. Test names carry the requirement id.
#include "relay_fixture.hpp"

using namespace relay::core;
using namespace relay::core::fixture;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST_F(RelayTest, V1_1_NewSocketReplacesOlderOfSameRole) {
    v1(1, Role::server);
    v1(2, Role::client);
    auto second_server = v1(3, Role::server);
    EXPECT_THAT(second_server.closed, ElementsAre(Closed{1, 1008, "Replaced by new connection"}));
    auto second_client = v1(4, Role::client);
    EXPECT_THAT(second_client.closed, ElementsAre(Closed{2, 1008, "Replaced by new connection"}));
}

TEST_F(RelayTest, V1_1_ReplacedSocketGetsNoMoreFrames) {
    v1(1, Role::server);
    v1(2, Role::server);
    v1(3, Role::client);
    EXPECT_THAT(text(3, "hi").sent, ElementsAre(Sent{2, "hi", false}));
}

TEST_F(RelayTest, V1_2_FramesCrossRoles) {
    v1(1, Role::server);
    v1(2, Role::client);
    EXPECT_THAT(text(1, "to client").sent, ElementsAre(Sent{2, "to client", false}));
    EXPECT_THAT(text(2, "to server").sent, ElementsAre(Sent{1, "to server", false}));
}

TEST_F(RelayTest, V1_3_TextStaysTextBinaryStaysBinary) {
    v1(1, Role::server);
    v1(2, Role::client);
    EXPECT_THAT(binary(2, std::string("\x00\xff", 2)).sent, ElementsAre(Sent{1, std::string("\x00\xff", 2), true}));
    EXPECT_THAT(text(1, "").sent, ElementsAre(Sent{2, "", false}));
    EXPECT_THAT(binary(1, "").sent, ElementsAre(Sent{2, "", true}));
}

TEST_F(RelayTest, V1_4_NothingIsBuffered) {
    v1(1, Role::client);
    EXPECT_TRUE(text(1, "early").empty());
    EXPECT_TRUE(v1(2, Role::server).empty());
}

TEST_F(RelayTest, V1_5_ClosingHasNoConsequences) {
    v1(1, Role::server);
    v1(2, Role::client);
    EXPECT_TRUE(close(1).empty());
    EXPECT_TRUE(close(2).empty());
    EXPECT_EQ(relay.session_count(), 0u);
}

TEST_F(RelayTest, SESS_1_VersionsAndServerIdsAreSeparateSessions) {
    v1(1, Role::server, "a");
    v1(2, Role::client, "b");
    open(3, Version::v2, Role::client, "a", "c1");
    EXPECT_THAT(text(2, "x").sent, IsEmpty());
    EXPECT_THAT(text(1, "x").sent, IsEmpty());
    // A v2 control on the same serverId does not replace, and is not replaced by, a v1 server.
    auto ctl = control(4, "a");
    EXPECT_THAT(ctl.closed, IsEmpty());
    EXPECT_THAT(ctl.sent, ElementsAre(Sent{4, R"({"type":"sync","connectionIds":["c1"]})", false}));
    EXPECT_THAT(v1(5, Role::server, "a").closed, ElementsAre(Closed{1, 1008, "Replaced by new connection"}));
    EXPECT_EQ(relay.session_count(), 3u);
}
