// The relay protocol as a state machine: events in (a socket opened, a message arrived, a socket
// closed, a timer fired), actions out (send, close, start a timer). It knows nothing of sockets,
// threads or clocks beyond what it is given, so every requirement in docs/protocol.md is testable here.
#pragma once

#include "counters.hpp"
#include "protocol.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace relay::core {

struct RelayOptions {
    std::size_t pending_frames_per_connection = 200;
    // The watchdog (docs/protocol.md V2-WD): the official relay's delays unless a test wants them shorter.
    std::chrono::milliseconds watchdog_nudge{10'000};  // a client opening without a data socket -> sync
    std::chrono::milliseconds watchdog_reset{5'000};   // that sync -> controls closed with 1011
};

// What the core holds at one moment, for the admin port's GET /stats: every count is 0 once no socket is open.
struct Census {
    std::size_t sockets = 0;
    std::size_t v1_servers = 0, v1_clients = 0, controls = 0, data = 0, clients = 0;  // the sockets by role
    std::size_t sessions = 0;        // (version, serverId) pairs with a socket
    std::size_t connections = 0;     // v2 connection ids within them
    std::size_t pending_frames = 0;  // kept for connection ids without a data socket (V2-BUF-1)
    std::size_t pending_bytes = 0;
};

// What the relay knows about one socket, for the transport's log lines.
struct SocketInfo {
    Admission admission;  // connection_id is the resolved one (assigned for v2 clients without one)
    bool closing = false; // the relay has asked the transport to close it
};

class Relay {
public:
    using IdGenerator = std::function<std::string()>;  // ids for v2 clients that bring none
    using Clock = std::function<std::int64_t()>;       // milliseconds since the Unix epoch

    Relay(RelayOptions options, IdGenerator new_connection_id, Clock now_ms);

    // Each call returns the actions to carry out, in order; valid until the next call.
    Actions const& opened(SocketId id, Admission admission);
    Actions const& received(SocketId id, Frame frame);
    Actions const& closed(SocketId id);
    // Removes a socket without any of the consequences of a close (the runtime's 1009 cap does this).
    Actions const& dropped(SocketId id);
    Actions const& timer_fired(TimerToken const& token);

    SocketInfo const* info(SocketId id) const;
    // Frames kept for a v2 client's connection id until a data socket opens (V2-BUF-1); 0 for other sockets.
    std::size_t kept_frames(SocketId client) const;
    std::size_t session_count() const { return sessions_.size(); }
    Census census() const;  // a walk over every socket and session
    Counters const& counters() const { return counters_; }

private:
    // One v2 connection id within a session: its data socket(s), its clients and what waits for a data socket.
    struct Channel {
        std::vector<SocketId> data;
        std::vector<SocketId> clients;
        std::vector<Frame> pending;  // not a deque: libstdc++'s allocates 576 bytes even when empty
    };
    // Everything that shares one (version, serverId). Vectors keep opening order, which sync reports.
    struct Session {
        std::vector<SocketId> v1_servers;
        std::vector<SocketId> v1_clients;
        std::vector<SocketId> controls;
        std::vector<SocketId> clients;  // every v2 client, across connection ids
        std::unordered_map<std::string, Channel> channels;
        std::size_t sockets = 0;
    };
    struct Socket {
        SocketInfo info;
        std::string session_key;
        Session* session;
    };

    Actions const& begin();
    void open_v1(SocketId id, Socket& socket);
    void open_v2(SocketId id, Socket& socket);
    void receive_v1(Socket const& socket, Frame const& frame);
    void receive_v2(SocketId id, Socket const& socket, Frame const& frame);
    void close_v2(SocketId id, Socket const& socket);
    void remove(SocketId id, Socket const& socket);

    void send(SocketId to, Frame const& frame);
    void send_to_all(std::vector<SocketId> const& to, Frame const& frame);
    void close(SocketId id, std::uint16_t code, std::string reason);
    void close_all(std::vector<SocketId> const& ids, std::uint16_t code, std::string const& reason);
    void notify_controls(Session const& session, std::string text);
    std::string sync_message(Session const& session) const;
    static bool has_clients(Session const& session, std::string const& connection_id);
    static bool has_data(Session const& session, std::string const& connection_id);
    void forget_channel_if_unused(Session& session, std::string const& connection_id);
    // Counts the actions of one call: closes by code, and each send as a forwarded frame if
    // `forwarded(frame)` says so, else as the relay's own `control` message.
    template <class IsForwarded>
    void tally(ControlMessage control, IsForwarded forwarded);
    // Frames kept for the session's connection ids; counted as dropped when the session is forgotten.
    static std::size_t kept_in(Session const& session);

    RelayOptions options_;
    IdGenerator new_connection_id_;
    Clock now_ms_;
    std::unordered_map<SocketId, Socket> sockets_;
    std::unordered_map<std::string, Session> sessions_;
    Actions actions_;
    Counters counters_;
};

// conn_ followed by 16 lowercase hex digits, drawn as the official relay does from a v4 UUID
// (so the thirteenth digit is always 4).
std::string random_connection_id();

}  // namespace relay::core
