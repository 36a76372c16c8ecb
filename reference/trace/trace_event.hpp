// One protocol event as the trace reports it: plain data, derived by Trace, handed to sinks.
#pragma once

#include "core/protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace relay::trace {

// Who a socket is, as the trace names it. The watchdog's events name the session and connection id only.
struct Subject {
    core::Version version = core::Version::v1;
    std::string server_id{};
    std::string role{};           // v1: server, client; v2: control, data, client; empty for the watchdog
    std::string connection_id{};  // v2 data and client sockets, and the watchdog's id; empty otherwise
    core::SocketId socket = 0;    // 0 for the watchdog

    bool is_control() const { return role == "control"; }
};

enum class EventKind {
    open,            // a WebSocket was admitted
    frame_in,        // a message arrived from the socket
    frame_out,       // a message was forwarded to the socket
    control_out,     // the relay sent the (control) socket its own message: sync, connected, disconnected, pong
    buffered,        // a v2 client's message was kept: its id has no data socket
    dropped,         // a message reached nobody: no peer, or the peer is being closed
    ignored,         // control input that is not a JSON ping
    flushed,         // a new data socket was given the messages kept for its id
    close_sent,      // the relay sent a close frame
    close_received,  // the peer's close frame arrived
    end,             // the connection ended without a close frame from the peer
    watchdog,        // the watchdog acted on a connection id: nudge (sync) or reset (1011)
};

struct Event {
    EventKind kind = EventKind::open;
    Subject const* subject = nullptr;
    core::Frame const* frame = nullptr;  // frame_in, frame_out, control_out
    std::string message{};               // control_out: the message's "type"
    std::string about{};                 // control_out, close_sent: the connection id a message names, or whose watchdog acted
    bool nudge = false;                  // control_out: a sync the watchdog sent
    std::size_t count = 0;               // buffered: frames now kept for the id; flushed: frames delivered
    std::uint16_t code = 0;              // close_sent, close_received
    std::string detail{};                // close reason; end: what ended it; watchdog: nudge or reset
};

// Where events go: the trace's text and JSON writer, the recorder. `t_ms` is milliseconds since the
// relay started; the event and what it points to live only for the call.
class Sink {
public:
    virtual ~Sink() = default;
    virtual void event(double t_ms, Event const& event) = 0;
};

}  // namespace relay::trace
