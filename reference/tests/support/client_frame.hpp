// A client frame's header exactly as it goes on the wire (RFC 6455 5.2), for tests that write frames a
// WebSocket library will not: any opcode, FIN and RSV1 bits, any announced length.
#pragma once

#include <cstdint>
#include <string>

namespace relay::testing {

// Masked with the all-zero key, so the payload that follows is sent as it is.
inline std::string client_frame_header(unsigned char opcode, std::uint64_t length, bool fin = true, bool rsv1 = false) {
    std::string h(1, static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode));
    if (length < 126) {
        h += static_cast<char>(0x80 | length);
    } else if (length <= 0xFFFF) {
        h += static_cast<char>(0x80 | 126);
        for (int shift : {8, 0}) h += static_cast<char>(length >> shift);
    } else {
        h += static_cast<char>(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) h += static_cast<char>(length >> shift);
    }
    return h + std::string(4, '\0');
}

}  // namespace relay::testing
