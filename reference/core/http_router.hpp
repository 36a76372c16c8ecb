// Decides what an HTTP request to the relay gets: a plain HTTP reply, or admission as a WebSocket.
// Pure function of the request line and one header, so every status and body is unit-testable.
#pragma once

#include "protocol.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace relay::core {

struct HttpReply {
    unsigned status;
    std::string content_type;
    std::string body;
    bool close_connection = false;
};

// The request headers routing depends on; absent ones are nullopt.
struct HandshakeHeaders {
    std::optional<std::string_view> upgrade;
    std::optional<std::string_view> sec_websocket_version;
    std::optional<std::string_view> sec_websocket_key;
};

using Routing = std::variant<HttpReply, Admission>;

// `target` is the request-target (path and query) as received.
Routing route(std::string_view target, HandshakeHeaders const& headers);

// String.prototype.trim(): strips ASCII and Unicode white space and line terminators (UTF-8).
std::string_view js_trim(std::string_view s);

}  // namespace relay::core
