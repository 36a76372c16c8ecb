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
    enum class Kind { frame, close, ended } kind;
    bool binary = false;
    std::string payload;     // frame payload
    std::uint16_t code = 0;  // close: the code in the relay's close frame
    std::string reason;      // close: its reason; ended: what ended the connection
    Clock::time_point at;
};

struct HttpResponse {
    unsigned status = 0;
    std::string reason;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

// Where the relay is: host and port (also the Host header), and for wss:// the TLS context to use.
struct Endpoint {
    std::string host;
    std::string port;
    std::shared_ptr<boost::asio::ssl::context> tls;  // null for ws://
};

}  // namespace conformance::client
