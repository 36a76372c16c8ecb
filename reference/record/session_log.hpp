// What the recorder keeps of one session while it lasts: its sockets and, in the order the relay saw
// them, what happened to each. Plain data copied out of trace events, which live only for the call.
#pragma once

#include "core/protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace relay::record {

struct RecordedSocket {
    std::string name;           // unique in the session: control, data-c1, client-c1, client-c1-2, server, ...
    std::string role;           // as the trace names it: server, client (v1); control, data, client (v2)
    std::string connection_id;  // v2 data and client sockets (the relay's own id for a client that brought none)
};

enum class What {
    open,         // the socket was admitted
    send,         // a message arrived from the socket's peer
    deliver,      // the relay sent the socket a message (forwarded, or a control's own)
    relay_close,  // the relay sent the socket a close frame
    peer_close,   // the peer's close frame arrived
    peer_drop,    // the connection ended without a close frame from the peer
    watchdog,     // the watchdog acted on a connection id; its sync or 1011 closes follow
};

// What became of a message a socket sent, when nothing was delivered for it.
enum class Effect { delivered, buffered, dropped, ignored };

struct Payload {
    bool binary = false;
    std::size_t size = 0;
    std::shared_ptr<std::string const> bytes;  // the relay's own copy, kept only when the file shows it
};

struct Observation {
    What what = What::open;
    std::size_t socket = 0;  // index into SessionLog::sockets; unused for the watchdog
    double t_ms = 0;         // since the relay started
    Payload payload{};       // send, deliver
    bool control = false;    // deliver: a control socket's own message (sync, connected, disconnected, pong)
    bool nudge = false;      // deliver: the watchdog's sync
    Effect effect = Effect::delivered;  // send
    std::uint16_t code = 0;  // relay_close, peer_close (1005: the frame had no code)
    std::string reason{};    // relay_close, peer_close
    std::string about{};     // relay_close: the id whose watchdog closed it; watchdog: the id it watched
    bool reset = false;      // watchdog: the 1011 stage rather than the nudge
};

struct SessionLog {
    core::Version version = core::Version::v1;
    std::string server_id;
    std::vector<RecordedSocket> sockets;
    std::vector<Observation> observations;
};

}  // namespace relay::record
