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
};

using Routing = std::variant<HttpReply, Admission>;

// `target` is the request-target (path and query); `upgrade` the Upgrade header, if present.
Routing route(std::string_view target, std::optional<std::string_view> upgrade);

// String.prototype.trim(): strips ASCII and Unicode white space and line terminators (UTF-8).
std::string_view js_trim(std::string_view s);

}  // namespace relay::core
