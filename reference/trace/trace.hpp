// The relay's frame-level trace: the hub reports what happened and the core's answer to it; the
// trace turns that into protocol events and hands each to its sinks (the --trace/--trace-json writer,
// the --record recorder). Nothing here changes what the relay does.
#pragma once

#include "core/relay.hpp"
#include "trace_event.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace relay::trace {

class Trace {
public:
    // Every event goes to every sink, in order; the sinks outlive the trace.
    Trace(core::Relay const& relay, std::vector<Sink*> sinks);
    Trace(Trace const&) = delete;
    Trace& operator=(Trace const&) = delete;

    // Each takes the core's answer to the event, before the hub carries it out.
    void opened(core::SocketId id, core::Actions const& actions);
    void received(core::SocketId id, core::Frame const& frame, core::Actions const& actions);
    void timer_fired(core::TimerToken const& token, core::Actions const& actions);
    // What a socket's end made the core do.
    void cascaded(core::Actions const& actions);

    // A close the hub sends on its own: 1009 for an oversized message, 1001 at shutdown.
    void closing(core::SocketId id, std::uint16_t code, std::string_view reason);
    // How a socket ended; it is forgotten afterwards.
    void close_received(core::SocketId id, std::uint16_t code, std::string_view reason);
    void ended_without_close(core::SocketId id, std::string_view error);

private:
    Subject const* subject_of(core::SocketId id) const;
    // `watchdog_id`: the connection id whose watchdog caused the actions, if it did.
    void carry(core::Actions const& actions, std::string const* watchdog_id);
    void ended(core::SocketId id, Event event);
    void emit(Event const& event);

    core::Relay const& relay_;
    std::vector<Sink*> sinks_;
    std::chrono::steady_clock::time_point const start_ = std::chrono::steady_clock::now();
    // Every traced socket from its open to its end: the core forgets a socket dropped for a message over
    // the cap before its closing handshake ends.
    std::unordered_map<core::SocketId, Subject> sockets_;
};

}  // namespace relay::trace
