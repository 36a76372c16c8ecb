// LIMIT-1: the message cap judged on frame headers as the official runtime does (observed under
// wrangler: /work/official/FACTS-1009.md, summarised in docs/protocol.md).
#include "tests/support/client_frame.hpp"
#include "transport/frame_limit.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using relay::transport::FrameLimit;
using relay::transport::too_large_reason;

namespace {

constexpr unsigned char cont = 0x0, text = 0x1, binary = 0x2, ping = 0x9;

using relay::testing::client_frame_header;

std::string frame(unsigned char opcode, std::uint64_t length, bool fin = true, bool rsv1 = false) {
    return client_frame_header(opcode, length, fin, rsv1) + std::string(length, 'x');
}

// The crossing as {message, frame bytes, room}, or {} when none.
std::vector<std::uint64_t> crossing_after(std::uint64_t cap, std::string const& bytes) {
    FrameLimit limit(cap);
    limit.consume(bytes);
    auto const& c = limit.crossing();
    if (!c) return {};
    return {c->message, c->frame_bytes, c->room};
}

using Crossing = std::vector<std::uint64_t>;

}  // namespace

TEST(FrameLimit, LIMIT_1_MessagesUpToTheCapPass) {
    EXPECT_EQ(crossing_after(100, frame(text, 100)), Crossing{});
    EXPECT_EQ(crossing_after(100, frame(binary, 100) + frame(binary, 100)), Crossing{});
    EXPECT_EQ(crossing_after(100, frame(text, 60, false) + frame(cont, 40)), Crossing{});
    EXPECT_EQ(crossing_after(100, frame(text, 100, false) + frame(cont, 0)), Crossing{});
}

TEST(FrameLimit, LIMIT_1_AFrameOverTheCapCrossesOnItsHeaderAlone) {
    FrameLimit limit(100);
    EXPECT_TRUE(limit.consume(client_frame_header(binary, 101)));
    ASSERT_TRUE(limit.crossing());
    EXPECT_EQ(limit.crossing()->frame_bytes, 101u);
    EXPECT_EQ(limit.crossing()->room, 100u);
    EXPECT_EQ(crossing_after(100, client_frame_header(text, 101, false)), (Crossing{0, 101, 100}));
}

TEST(FrameLimit, LIMIT_1_AFragmentCrossesAgainstWhatIsLeftOfTheCap) {
    EXPECT_EQ(crossing_after(100, frame(text, 60, false) + frame(cont, 60)), (Crossing{0, 60, 40}));
    EXPECT_EQ(crossing_after(100, frame(text, 1, false) + frame(cont, 100)), (Crossing{0, 100, 99}));
    EXPECT_EQ(crossing_after(100, frame(text, 100, false) + frame(cont, 1)), (Crossing{0, 1, 0}));
    EXPECT_EQ(crossing_after(100, frame(text, 100, false) + frame(cont, 0, false) + frame(cont, 1)), (Crossing{0, 1, 0}));
}

TEST(FrameLimit, LIMIT_1_CompressedFramesAreJudgedByTheirLengthAsSent) {
    EXPECT_EQ(crossing_after(100, frame(text, 101, true, true)), (Crossing{0, 101, 100}));
    EXPECT_EQ(crossing_after(100, frame(binary, 70, false, true) + frame(cont, 70)), (Crossing{0, 70, 30}));
}

TEST(FrameLimit, LIMIT_1_ControlFramesBetweenFragmentsNeitherCountNorEndTheMessage) {
    EXPECT_EQ(crossing_after(100, frame(ping, 125)), Crossing{});
    EXPECT_EQ(crossing_after(100, frame(text, 50, false) + frame(ping, 125) + frame(cont, 50, false) + frame(cont, 1)),
              (Crossing{0, 1, 0}));
}

TEST(FrameLimit, LIMIT_1_NamesTheMessageThatCrossed) {
    auto const before = frame(text, 100) + frame(binary, 50, false) + frame(ping, 4) + frame(cont, 50) + frame(text, 0);
    EXPECT_EQ(crossing_after(100, before + frame(text, 101)), (Crossing{3, 101, 100}));
}

TEST(FrameLimit, LIMIT_1_HeadersAndPayloadsMaySplitAnywhere) {
    // 16- and 64-bit lengths, fed one byte at a time.
    auto const bytes = frame(binary, 60000, false) + client_frame_header(cont, std::uint64_t{1} << 40);
    FrameLimit limit(70000);
    int found = 0;
    for (char byte : bytes) found += limit.consume(std::string_view(&byte, 1));
    EXPECT_EQ(found, 1);
    ASSERT_TRUE(limit.crossing());
    EXPECT_EQ(limit.crossing()->message, 0u);
    EXPECT_EQ(limit.crossing()->frame_bytes, std::uint64_t{1} << 40);
    EXPECT_EQ(limit.crossing()->room, 10000u);
}

TEST(FrameLimit, LIMIT_1_OnlyTheFirstCrossingCounts) {
    FrameLimit limit(100);
    EXPECT_TRUE(limit.consume(frame(text, 60, false) + client_frame_header(cont, 60)));
    EXPECT_FALSE(limit.consume(std::string(60, 'x') + client_frame_header(text, 500)));
    EXPECT_EQ(limit.crossing()->frame_bytes, 60u);
}

TEST(FrameLimit, LIMIT_1_ReasonNamesTheCrossingFrameOrNoSizes) {
    EXPECT_EQ(too_large_reason(FrameLimit::Crossing{0, 20971520, 12582912}), "Message is too large: 20971520 > 12582912");
    EXPECT_EQ(too_large_reason(std::nullopt), "Message is too large");
}
