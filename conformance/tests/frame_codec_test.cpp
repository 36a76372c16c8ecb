// The bench's hand-made WebSocket framing, at each length-field boundary of RFC 6455 5.2.
#include "bench/frame_codec.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace conformance::bench;

namespace {

// The same frame as a server would send it: the mask bit and the (all-zero) key taken out.
std::string unmasked(std::string frame) {
    auto const size_field = std::uint8_t(frame[1]) & 0x7f;
    auto const key_at = std::size_t(size_field == 127 ? 10 : size_field == 126 ? 4 : 2);
    EXPECT_TRUE(std::uint8_t(frame[1]) & 0x80) << "client frames are masked";
    EXPECT_EQ(frame.substr(key_at, 4), std::string(4, '\0')) << "the all-zero key";
    frame[1] = char(std::uint8_t(frame[1]) & 0x7f);
    return frame.erase(key_at, 4);
}

}  // namespace

TEST(FrameCodec, ClientFramesRoundTripAtEveryLengthBoundary) {
    for (std::size_t size : {0u, 1u, 125u, 126u, 65535u, 65536u, 1048576u}) {
        std::string frame;
        append_client_frame(frame, Opcode::binary, std::string(size, 'p'));
        auto const server_frame = unmasked(frame);
        auto decoded = decode_server_frame(server_frame);
        ASSERT_TRUE(decoded) << size;
        EXPECT_EQ(decoded->opcode, Opcode::binary);
        EXPECT_TRUE(decoded->fin);
        EXPECT_EQ(decoded->payload, std::string(size, 'p'));
        EXPECT_EQ(decoded->size, frame.size() - 4);
    }
}

TEST(FrameCodec, HeaderAloneMatchesTheWholeFrameHeader) {
    for (std::size_t size : {0u, 125u, 126u, 65535u, 65536u}) {
        std::string whole, header;
        append_client_frame(whole, Opcode::text, std::string(size, 'h'));
        append_client_frame_header(header, Opcode::text, size);
        EXPECT_EQ(header + std::string(size, 'h'), whole) << size;
    }
}

TEST(FrameCodec, IncompleteFramesWaitAndForbiddenOnesThrow) {
    std::string frame;
    append_client_frame(frame, Opcode::text, std::string(300, 't'));
    auto const server_frame = unmasked(frame);
    EXPECT_FALSE(decode_server_frame(server_frame.substr(0, 3)));
    EXPECT_FALSE(decode_server_frame(server_frame.substr(0, server_frame.size() - 1)));
    EXPECT_THROW(decode_server_frame(frame), std::runtime_error) << "a masked frame from the server";
    EXPECT_THROW(decode_server_frame(std::string("\xc1\x00", 2)), std::runtime_error) << "RSV1 without deflate";
}
