#include "frame_limit.hpp"

#include <algorithm>

namespace relay::transport {

namespace {
constexpr unsigned char fin_bit = 0x80;
constexpr unsigned char control_bit = 0x08;  // opcodes 8 to 15: close, ping, pong
constexpr unsigned char mask_bit = 0x80;
}  // namespace

bool FrameLimit::consume(std::string_view bytes) {
    if (crossing_) return false;  // the socket is being closed: nothing later matters
    while (!bytes.empty() && !crossing_) {
        if (payload_left_ > 0) {
            auto const skipped = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, bytes.size()));
            payload_left_ -= skipped;
            bytes.remove_prefix(skipped);
            continue;
        }
        header_[header_size_++] = static_cast<unsigned char>(bytes.front());
        bytes.remove_prefix(1);
        if (header_size_ == header_bytes()) on_header();
    }
    return crossing_.has_value();
}

std::size_t FrameLimit::header_bytes() const {
    if (header_size_ < 2) return 2;
    auto const length_code = header_[1] & 0x7F;
    std::size_t const extended = length_code == 126 ? 2 : length_code == 127 ? 8 : 0;
    return 2 + extended + ((header_[1] & mask_bit) ? 4 : 0);
}

void FrameLimit::on_header() {
    std::uint64_t length = header_[1] & 0x7F;
    if (length >= 126) {
        std::size_t const extended = length == 126 ? 2 : 8;
        length = 0;
        for (std::size_t i = 0; i < extended; ++i) length = (length << 8) | header_[2 + i];
    }
    header_size_ = 0;
    payload_left_ = length;
    if (header_[0] & control_bit) return;  // control frames may come between fragments; not part of a message
    // The cap may have been lowered below what the message already has (fault injection).
    auto const room = max_ - std::min(max_, message_bytes_);
    if (length > room) {
        crossing_ = Crossing{message_, length, room};
        return;
    }
    message_bytes_ += length;
    if (header_[0] & fin_bit) {
        ++message_;
        message_bytes_ = 0;
    }
}

std::string too_large_reason(std::optional<FrameLimit::Crossing> const& crossing) {
    if (!crossing) return "Message is too large";
    return "Message is too large: " + std::to_string(crossing->frame_bytes) + " > " + std::to_string(crossing->room);
}

}  // namespace relay::transport
