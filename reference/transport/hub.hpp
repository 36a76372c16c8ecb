// Connects the protocol core to live sockets: feeds it their events, carries out the actions it
// returns (send, close, timers) and holds back readers whose targets cannot keep up.
#pragma once

#include "coalescing_stream.hpp"
#include "core/relay.hpp"
#include "logger.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace relay::transport {

struct TransportOptions {
    std::size_t max_message_bytes = 32 * 1024 * 1024;  // the official runtime's cap
    std::size_t max_queue_bytes = 8 * 1024 * 1024;     // per socket, before its senders are paused
    std::chrono::seconds handshake_timeout{30};        // opening and closing handshakes
};

class WebSocketSession;

class Hub {
public:
    Hub(boost::asio::io_context& ioc, core::Relay& relay, Logger const& log, TransportOptions options);

    TransportOptions const& options() const { return options_; }
    Logger const& log() const { return log_; }
    core::SocketId next_id() { return ++last_id_; }
    // The I/O batched per pass of the event loop; main() ends every pass.
    PassBatcher& batcher() { return batcher_; }

    void opened(std::shared_ptr<WebSocketSession> const& session, core::Admission admission);
    void received(WebSocketSession& source, core::Frame frame);
    // Closes `source` with 1009 for a message over the cap; the reason is the official runtime's.
    void too_big(WebSocketSession& source, std::string const& reason);
    // `how` says how it ended, for the log: the peer's close code and reason, or the error.
    void closed(core::SocketId id, std::string_view how);

    // Closes every socket with 1001 and calls `done` once all are gone.
    void shutdown(std::function<void()> done);

private:
    void execute(core::Actions const& actions, WebSocketSession* source);
    void start_timer(core::StartTimerAction const& action);
    void arm_timer();
    std::string describe(core::SocketId id) const;

    core::Relay& relay_;
    Logger const& log_;
    TransportOptions options_;
    core::SocketId last_id_ = 0;
    PassBatcher batcher_;
    std::unordered_map<core::SocketId, std::shared_ptr<WebSocketSession>> sockets_;
    std::multimap<std::chrono::steady_clock::time_point, core::TimerToken> timer_queue_;
    boost::asio::steady_timer timer_;
    std::vector<WebSocketSession*> congested_;
    std::function<void()> on_shutdown_done_;
    bool stopping_ = false;
};

}  // namespace relay::transport
