// The optional ceiling on concurrent WebSockets (--max-sockets; docs/reliability.md, "A ceiling on
// sockets"). It counts each WebSocket from its upgrade until its session is destroyed (its descriptor
// closes then, or once I/O under way on it finishes), and turns upgrades away with 503 while the count
// is at the ceiling.
#pragma once

#include "core/http_router.hpp"
#include "logger.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace relay::transport {

class WebSocketSession;

class SocketCeiling {
public:
    // `max` 0: no ceiling, and upgrades are only counted.
    SocketCeiling(std::size_t max, Logger const& log) : max_(max), log_(log) {}

    // Owns `session` and keeps it counted until it is destroyed. The count is shared with the deleter,
    // so a session that outlives the hub (a handler still queued on the io_context) stays safe.
    std::shared_ptr<WebSocketSession> track(WebSocketSession* session);

    std::size_t live() const { return *live_; }
    std::size_t max() const { return max_; }
    std::uint64_t refused() const { return refused_; }
    // The answer to give an upgrade instead of 101 while at the ceiling; none below it. Logged once
    // when refusals start, then at most every warning_interval with a count, and once when they end.
    std::optional<core::HttpReply> refusal();

private:
    static constexpr std::chrono::seconds warning_interval{10};

    std::size_t const max_;
    Logger const& log_;
    std::shared_ptr<std::size_t> live_ = std::make_shared<std::size_t>(0);
    std::uint64_t refused_ = 0;          // since the relay started
    std::uint64_t refused_in_a_row_ = 0;  // since the last upgrade admitted
    std::chrono::steady_clock::time_point last_warning_{};
};

}  // namespace relay::transport
