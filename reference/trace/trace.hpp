// The relay's frame-level trace (--trace, --trace-json): every protocol event as a readable line on
// stderr and/or a JSON line in a file. The hub reports what happened and the core's answer to it; the
// trace turns that into events, filters them and writes them. Nothing here changes what the relay does.
#pragma once

#include "core/relay.hpp"
#include "trace_event.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>

namespace relay::trace {

struct TraceOptions {
    bool text = false;           // readable lines on stderr (stdout's first line is the URL, read by tools)
    std::string json_path;       // JSON lines to this file
    std::string server_id;       // only this serverId's events; empty: every session
    std::string connection_id;   // only events of or about this connection id; empty: all

    bool enabled() const { return text || !json_path.empty(); }
};

class Trace {
public:
    // Throws std::runtime_error naming the file if the JSON file cannot be opened.
    Trace(core::Relay const& relay, TraceOptions options);
    ~Trace();
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
    bool shown(Event const& event) const;
    void emit(Event const& event);

    core::Relay const& relay_;
    TraceOptions options_;
    std::FILE* json_ = nullptr;
    std::chrono::steady_clock::time_point const start_ = std::chrono::steady_clock::now();
    // Every traced socket from its open to its end: the core forgets a socket dropped for a message over
    // the cap before its closing handshake ends.
    std::unordered_map<core::SocketId, Subject> sockets_;
};

}  // namespace relay::trace
