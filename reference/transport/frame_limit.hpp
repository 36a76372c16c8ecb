// The message cap as the official runtime applies it to frames (docs/protocol.md LIMIT-1): each data
// frame is judged by its header alone, its payload length as sent (compressed or not) against what the
// message's earlier frames left of the cap. Beast shows neither frame boundaries nor wire sizes, so
// this follows the frame headers in the raw bytes a client sends, before Beast parses them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relay::transport {

class FrameLimit {
public:
    // The first frame that took its message past the cap.
    struct Crossing {
        std::uint64_t message;      // index of its message among the socket's data messages, from 0
        std::uint64_t frame_bytes;  // its payload length
        std::uint64_t room;         // the cap minus the payload bytes of the message's earlier frames
    };

    explicit FrameLimit(std::uint64_t max_message_bytes) : max_(max_message_bytes) {}
    // A new cap (fault injection) for the frame headers still to come.
    void set_max(std::uint64_t max_message_bytes) { max_ = max_message_bytes; }

    // The next bytes read, in order; a header may be split across calls. True when these bytes hold
    // the header of the first crossing frame.
    bool consume(std::string_view bytes);
    std::optional<Crossing> const& crossing() const { return crossing_; }

private:
    std::size_t header_bytes() const;  // the whole header's size, as far as its first bytes tell
    void on_header();

    std::uint64_t max_;
    unsigned char header_[14] = {};  // 2 + 8 bytes of extended length + 4 of masking key
    std::size_t header_size_ = 0;
    std::uint64_t payload_left_ = 0;   // of the current frame, to skip
    std::uint64_t message_ = 0;        // index of the message the next data frame belongs to
    std::uint64_t message_bytes_ = 0;  // its payload bytes so far; over the cap only if the cap was lowered
    std::optional<Crossing> crossing_;
};

// The official runtime's 1009 reason: the crossing frame, or none for a compressed message whose
// frames all fit but that inflates past the cap.
std::string too_large_reason(std::optional<FrameLimit::Crossing> const& crossing);

}  // namespace relay::transport
