// WebSocket framing for the bench's data path. Beast writes one message per system call, which caps
// a client near 100k frames/s; the bench must outrun the relays it measures, so it frames by hand and
// writes whole batches at once. Client frames are masked with the all-zero key (valid per RFC 6455
// 5.3: the key is any 32-bit value), which leaves payloads as they are and needs no copy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace conformance::bench {

enum class Opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Appends one complete, masked client frame to `out`.
void append_client_frame(std::string& out, Opcode opcode, std::string_view payload);
// Appends the header of a masked client frame whose payload, `payload_size` bytes, the caller sends next.
void append_client_frame_header(std::string& out, Opcode opcode, std::size_t payload_size);

struct DecodedFrame {
    Opcode opcode;
    bool fin;
    std::string_view payload;  // points into the buffer given to decode_server_frame
    std::size_t size;          // bytes the whole frame took
};

// Decodes one unmasked server frame from the front of `buffer`; nullopt if it is not all there yet.
// Throws std::runtime_error on a frame a server must not send (masked, reserved bits without an
// extension, oversized length field).
std::optional<DecodedFrame> decode_server_frame(std::string_view buffer);

}  // namespace conformance::bench
