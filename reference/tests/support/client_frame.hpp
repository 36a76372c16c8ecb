// A client frame's header exactly as it goes on the wire (RFC 6455 5.2), for tests that write frames a
// WebSocket library will not: any opcode, FIN and RSV bits, any announced length, no mask.
#pragma once

#include <cstdint>
#include <string>

namespace relay::testing {

// Any first byte (FIN, RSV1-3 and opcode, as on the wire), masked with the all-zero key, so the
// payload that follows is sent as it is, or not masked at all, as RFC 6455 5.3 forbids a client.
inline std::string frame_header(unsigned char first_byte, std::uint64_t length, bool masked = true) {
    unsigned char const mask_bit = masked ? 0x80 : 0;
    std::string h(1, static_cast<char>(first_byte));
    if (length < 126) {
        h += static_cast<char>(mask_bit | length);
    } else if (length <= 0xFFFF) {
        h += static_cast<char>(mask_bit | 126);
        for (int shift : {8, 0}) h += static_cast<char>(length >> shift);
    } else {
        h += static_cast<char>(mask_bit | 127);
        for (int shift = 56; shift >= 0; shift -= 8) h += static_cast<char>(length >> shift);
    }
    return masked ? h + std::string(4, '\0') : h;
}

inline std::string client_frame_header(unsigned char opcode, std::uint64_t length, bool fin = true, bool rsv1 = false) {
    return frame_header(static_cast<unsigned char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode), length);
}

}  // namespace relay::testing
