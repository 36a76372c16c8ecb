#include "bench/frame_codec.hpp"

#include <stdexcept>

namespace conformance::bench {

void append_client_frame(std::string& out, Opcode opcode, std::string_view payload) {
    append_client_frame_header(out, opcode, payload.size());
    out += payload;
}

void append_client_frame_header(std::string& out, Opcode opcode, std::size_t size) {
    out += char(0x80 | std::uint8_t(opcode));
    if (size < 126) {
        out += char(0x80 | size);
    } else if (size <= 0xffff) {
        out += char(0x80 | 126);
        out += char(size >> 8);
        out += char(size & 0xff);
    } else {
        out += char(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) out += char((std::uint64_t(size) >> shift) & 0xff);
    }
    out.append(4, '\0');  // the all-zero masking key
}

std::optional<DecodedFrame> decode_server_frame(std::string_view buffer) {
    if (buffer.size() < 2) return std::nullopt;
    auto const b0 = std::uint8_t(buffer[0]);
    auto const b1 = std::uint8_t(buffer[1]);
    if (b0 & 0x70) throw std::runtime_error("server frame with reserved bits set (compression was not offered)");
    if (b1 & 0x80) throw std::runtime_error("server frame is masked");
    std::size_t header = 2;
    std::uint64_t size = b1 & 0x7f;
    if (size == 126) {
        if (buffer.size() < 4) return std::nullopt;
        size = (std::uint64_t(std::uint8_t(buffer[2])) << 8) | std::uint8_t(buffer[3]);
        header = 4;
    } else if (size == 127) {
        if (buffer.size() < 10) return std::nullopt;
        size = 0;
        for (int i = 2; i < 10; ++i) size = (size << 8) | std::uint8_t(buffer[i]);
        if (size >> 62) throw std::runtime_error("server frame length field out of range");
        header = 10;
    }
    if (buffer.size() - header < size) return std::nullopt;
    return DecodedFrame{Opcode(b0 & 0x0f), bool(b0 & 0x80), buffer.substr(header, size), header + std::size_t(size)};
}

}  // namespace conformance::bench
