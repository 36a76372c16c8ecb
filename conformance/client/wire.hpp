// What a scenario sees on the wire: events that arrive on a socket, and plain HTTP exchanges.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace conformance::client {

using Clock = std::chrono::steady_clock;

struct WireEvent {
    // invalid: the relay broke RFC 6455 (a bad opcode, reserved bits, text that is not UTF-8...); a
    // client fails the connection, so it matches no expectation, not even `ended`.
    enum class Kind { frame, close, ended, invalid } kind;
    bool binary = false;
    std::string payload;     // frame payload
    std::uint16_t code = 0;  // close: the code in the relay's close frame
    std::string reason;      // close: its reason; ended, invalid: what ended the connection
    Clock::time_point at;
};

struct HttpResponse {
    unsigned status = 0;
    std::string reason;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

// How scenario sockets put messages on the wire (docs/scenario-format.md, "Transports").
enum class Transport {
    plain,       // one uncompressed frame per message
    deflate,     // permessage-deflate offered as Node's `ws` client offers it, every message compressed
    fragmented,  // every message as several frames: a first frame and continuations
};

char const* to_string(Transport t);

// Where the relay is: host and port (also the Host header), for wss:// the TLS context to use, and
// how scenario sockets speak to it.
struct Endpoint {
    std::string host;
    std::string port;
    std::shared_ptr<boost::asio::ssl::context> tls;  // null for ws://
    Transport transport = Transport::plain;
};

}  // namespace conformance::client
