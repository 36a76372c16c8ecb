// Connects the protocol core to live sockets: feeds it their events, carries out the actions it
// returns (send, close, timers) and holds back readers whose targets cannot keep up.
#pragma once

#include "coalescing_stream.hpp"
#include "core/http_router.hpp"
#include "core/relay.hpp"
#include "held_delivery.hpp"
#include "logger.hpp"
#include "socket_ceiling.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace relay::trace {
class Trace;
}

namespace relay::transport {

struct TransportOptions {
    std::size_t max_message_bytes = 32 * 1024 * 1024;  // the official runtime's cap
    std::size_t max_queue_bytes = 8 * 1024 * 1024;     // per socket, before its senders are paused
    std::chrono::seconds handshake_timeout{30};        // opening and closing handshakes
    std::size_t max_sockets = 0;                       // concurrent WebSockets (--max-sockets); 0: no ceiling
};

// How a socket ended: the peer's close frame, or the connection ending without one.
struct SocketEnd {
    bool close_received = false;
    std::uint16_t code = 0;  // the peer's close code; 0 if its close frame carried none
    std::string reason;      // the peer's close reason, or what ended the connection
};

// What only the transport knows, for GET /metrics beside the core's Counters: closes it sends on its
// own (1009, 1001 at shutdown, Beast's 1002/1007, fault injection's), oversized messages, failed accepts.
struct TransportCounters {
    std::map<std::uint16_t, std::uint64_t> closes;  // by code
    std::uint64_t messages_too_big = 0;
    std::uint64_t accept_errors = 0;
};

class WebSocketSession;

class Hub {
public:
    // `trace` (may be null: tracing off) hears of every event and of the core's answer to it.
    Hub(boost::asio::io_context& ioc, core::Relay& relay, Logger const& log, TransportOptions options,
        trace::Trace* trace = nullptr);

    TransportOptions const& options() const { return options_; }
    Logger const& log() const { return log_; }
    core::SocketId next_id() { return ++last_id_; }
    // The I/O batched per pass of the event loop; main() ends every pass.
    PassBatcher& batcher() { return batcher_; }

    void opened(std::shared_ptr<WebSocketSession> const& session, core::Admission admission);
    void received(WebSocketSession& source, core::Frame frame);
    // Closes `source` with 1009 for a message over the cap; the reason is the official runtime's.
    void too_big(WebSocketSession& source, std::string const& reason);
    // `source` broke RFC 6455 and Beast is closing it: the core forgets it, with no cascade.
    void failed(WebSocketSession& source);
    void closed(core::SocketId id, SocketEnd const& end);

    // The drain before a shutdown: everything goes on as before, but GET /ready says not to send more.
    void drain() { draining_ = true; }
    bool ready() const { return !draining_ && !stopping_; }
    // Closes every socket with 1001 and calls `done` once all are gone.
    void shutdown(std::function<void()> done);

    TransportCounters& counters() { return counters_; }
    TransportCounters const& counters() const { return counters_; }

    // Fault injection (reference/faults; docs/daemon-development.md, "Fault injection"). Off unless
    // main() hands over the standing faults, and then every send and upgrade consults them.
    void consult(faults::StandingFaults* faults) { faults_ = faults; }
    core::Relay const& relay() const { return relay_; }
    std::vector<core::SocketId> open_sockets() const;  // every socket not yet ended, in opening order
    // Like the relay's own closes: logged, traced, and the core hears of the end when the handshake ends.
    // False if the socket is already closing.
    bool close_socket(core::SocketId id, std::uint16_t code, std::string const& reason);
    // A TCP reset without a close frame; the core hears of it as of any connection that drops.
    void reset_socket(core::SocketId id);
    // Every socket closed with 1001 (or reset) after the core forgot them all and their timers, as a
    // relay that restarts knows nothing of its sockets.
    void restart(bool reset);
    void set_max_message_bytes(std::size_t bytes);
    HeldDelivery& held() { return held_; }
    // The answer to give a WebSocket upgrade instead of 101, while a fault refuses them or the
    // socket ceiling is reached.
    std::optional<core::HttpReply> upgrade_refusal();
    // A session for an admitted upgrade, counted against the ceiling until it is destroyed.
    std::shared_ptr<WebSocketSession> make_session(Socket&& socket, core::Admission admission);
    SocketCeiling const& ceiling() const { return ceiling_; }
    std::size_t pending_timers() const { return timer_queue_.size(); }  // watchdog stages not yet due

private:
    void execute(core::Actions const& actions, WebSocketSession* source);
    // Sends or closes now; returns the socket a frame was sent to.
    WebSocketSession* carry_out(core::Action const& action);
    // Queues a send or close that a delay or pause holds back; false if none does.
    bool hold(core::Action const& action);
    void start_timer(core::StartTimerAction const& action);
    void arm_timer();
    std::string describe(core::SocketId id) const;

    core::Relay& relay_;
    Logger const& log_;
    TransportOptions options_;
    trace::Trace* trace_;
    faults::StandingFaults* faults_ = nullptr;
    HeldDelivery held_;
    core::SocketId last_id_ = 0;
    PassBatcher batcher_;
    std::unordered_map<core::SocketId, std::shared_ptr<WebSocketSession>> sockets_;
    std::multimap<std::chrono::steady_clock::time_point, core::TimerToken> timer_queue_;
    boost::asio::steady_timer timer_;
    std::vector<WebSocketSession*> congested_;
    std::function<void()> on_shutdown_done_;
    SocketCeiling ceiling_;
    TransportCounters counters_;
    bool draining_ = false;
    bool stopping_ = false;
};

}  // namespace relay::transport
