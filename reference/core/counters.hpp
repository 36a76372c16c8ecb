// Cumulative counts of what the relay core decided since it started, for the admin port's GET /metrics.
// Always on: each is an increment where the core already acts, read off the actions it returns.
#pragma once

#include "protocol.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>

namespace relay::core {

// A socket's role as /metrics labels it: v1 server or client; v2 control, data or client.
enum class SocketKind { v1_server, v1_client, control, data, client };
inline constexpr std::size_t socket_kinds = 5;

inline SocketKind socket_kind(Admission const& a) {
    if (a.version == Version::v1) return a.role == Role::server ? SocketKind::v1_server : SocketKind::v1_client;
    if (a.role == Role::client) return SocketKind::client;
    return a.connection_id.empty() ? SocketKind::control : SocketKind::data;
}

// The messages the relay writes itself (docs/protocol.md, V2-CTRL-*), as opposed to the peers' frames it forwards.
enum class ControlMessage { sync, connected, disconnected, pong };
inline constexpr std::size_t control_messages = 4;

struct Counters {
    std::uint64_t frames_received = 0, bytes_received = 0;    // every message a socket handed in
    std::uint64_t frames_forwarded = 0, bytes_forwarded = 0;  // a peer's message sent to a socket, once per socket
    std::array<std::uint64_t, control_messages> control{};    // by ControlMessage, once per socket sent to
    std::uint64_t frames_buffered = 0;                        // kept for a connection id without a data socket
    std::uint64_t dropped_cap = 0;      // kept frames pushed out by the 200 cap (the oldest)
    std::uint64_t dropped_no_peer = 0;  // received frames that reached nobody, and kept frames thrown away
    std::uint64_t watchdog_nudges = 0, watchdog_resets = 0;
    std::map<std::uint16_t, std::uint64_t> closes;  // closes asked for, by code
    std::array<std::uint64_t, socket_kinds> sockets_opened{};  // by SocketKind
};

}  // namespace relay::core
