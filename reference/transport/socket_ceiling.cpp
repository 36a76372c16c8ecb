#include "socket_ceiling.hpp"

#include "websocket_session.hpp"

namespace relay::transport {

std::shared_ptr<WebSocketSession> SocketCeiling::track(WebSocketSession* session) {
    ++*live_;
    return std::shared_ptr<WebSocketSession>(session, [live = live_](WebSocketSession* ended) {
        delete ended;
        --*live;
    });
}

std::optional<core::HttpReply> SocketCeiling::refusal() {
    if (max_ == 0) return std::nullopt;
    if (*live_ < max_) {
        if (refused_in_a_row_ > 0)
            log_.log(LogLevel::warn, "admitting WebSocket upgrades again after " + std::to_string(refused_in_a_row_) +
                                         " refused at the --max-sockets limit");
        refused_in_a_row_ = 0;
        return std::nullopt;
    }
    ++refused_;
    auto const now = std::chrono::steady_clock::now();
    if (refused_in_a_row_++ == 0 || now - last_warning_ >= warning_interval) {
        last_warning_ = now;
        log_.log(LogLevel::warn, "refusing WebSocket upgrades with 503: " + std::to_string(max_) +
                                     " sockets open, the --max-sockets limit (" + std::to_string(refused_in_a_row_) +
                                     " refused so far); said again at most every " +
                                     std::to_string(warning_interval.count()) + " s");
    }
    // The connection ends with the answer: the ceiling is there to bound descriptors.
    return core::HttpReply{503, "text/plain", "Relay at its limit of open sockets; try again later", true};
}

}  // namespace relay::transport
