#include "relay.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>

namespace relay::core {
namespace {

std::string session_key(Admission const& a) {
    return (a.version == Version::v1 ? "1:" : "2:") + a.server_id;
}

void erase_id(std::vector<SocketId>& ids, SocketId id) {
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

// JSON.stringify output: compact, keys in insertion order; invalid UTF-8 cannot reach here from
// a JavaScript string, so it is replaced rather than thrown on.
std::string stringify(nlohmann::ordered_json const& j) {
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

char const* to_string(Version v) { return v == Version::v1 ? "v1" : "v2"; }
char const* to_string(Role r) { return r == Role::server ? "server" : "client"; }

Relay::Relay(RelayOptions options, IdGenerator new_connection_id, Clock now_ms)
    : options_(options), new_connection_id_(std::move(new_connection_id)), now_ms_(std::move(now_ms)) {}

Actions const& Relay::begin() {
    actions_.clear();
    return actions_;
}

SocketInfo const* Relay::info(SocketId id) const {
    auto it = sockets_.find(id);
    return it == sockets_.end() ? nullptr : &it->second.info;
}

std::size_t Relay::kept_frames(SocketId client) const {
    auto it = sockets_.find(client);
    if (it == sockets_.end()) return 0;
    auto const& admission = it->second.info.admission;
    if (admission.version != Version::v2 || admission.role != Role::client) return 0;
    auto const& channels = it->second.session->channels;
    auto channel = channels.find(admission.connection_id);
    return channel == channels.end() ? 0 : channel->second.pending.size();
}

Census Relay::census() const {
    Census out;
    out.sockets = sockets_.size();
    for (auto const& [id, socket] : sockets_) {
        auto const& a = socket.info.admission;
        if (a.version == Version::v1)
            ++(a.role == Role::server ? out.v1_servers : out.v1_clients);
        else if (a.role == Role::client)
            ++out.clients;
        else
            ++(a.connection_id.empty() ? out.controls : out.data);
    }
    out.sessions = sessions_.size();
    for (auto const& [key, session] : sessions_) {
        out.connections += session.channels.size();
        for (auto const& [cid, channel] : session.channels) {
            out.pending_frames += channel.pending.size();
            for (auto const& frame : channel.pending) out.pending_bytes += frame.payload->size();
        }
    }
    return out;
}

Actions const& Relay::opened(SocketId id, Admission admission) {
    auto const& out = begin();
    if (sockets_.count(id)) return out;
    auto const kind = socket_kind(admission);
    ++counters_.sockets_opened[std::size_t(kind)];
    auto key = session_key(admission);
    auto& session = sessions_[key];
    auto it = sockets_.emplace(id, Socket{SocketInfo{std::move(admission)}, std::move(key), &session}).first;
    ++session.sockets;
    if (it->second.info.admission.version == Version::v1)
        open_v1(id, it->second);
    else
        open_v2(id, it->second);
    // A data socket is sent the frames kept for it; a control its sync; a client's controls hear it connected.
    tally(kind == SocketKind::control ? ControlMessage::sync : ControlMessage::connected,
          [kind](Frame const&) { return kind == SocketKind::data; });
    return out;
}

void Relay::open_v1(SocketId id, Socket& socket) {
    auto& peers = socket.info.admission.role == Role::server ? socket.session->v1_servers : socket.session->v1_clients;
    close_all(peers, close_code::policy_violation, "Replaced by new connection");
    peers.push_back(id);
}

void Relay::open_v2(SocketId id, Socket& socket) {
    auto& admission = socket.info.admission;
    auto& session = *socket.session;
    if (admission.role == Role::client && admission.connection_id.empty())
        admission.connection_id = new_connection_id_();
    auto const& cid = admission.connection_id;

    if (admission.role == Role::server && cid.empty()) {
        close_all(session.controls, close_code::policy_violation, "Replaced by new connection");
        session.controls.push_back(id);
        send(id, Frame::text(sync_message(session)));
        return;
    }

    auto& channel = session.channels[cid];
    if (admission.role == Role::server) {
        close_all(channel.data, close_code::policy_violation, "Replaced by new connection");
        channel.data.push_back(id);
        for (auto const& frame : channel.pending) send(id, frame);
        channel.pending.clear();
        return;
    }

    channel.clients.push_back(id);
    session.clients.push_back(id);
    notify_controls(session, stringify({{"type", "connected"}, {"connectionId", cid}}));
    actions_.push_back(StartTimerAction{options_.watchdog_nudge, TimerToken{socket.session_key, cid, 0}});
}

Actions const& Relay::received(SocketId id, Frame frame) {
    auto const& out = begin();
    auto it = sockets_.find(id);
    if (it == sockets_.end()) return out;
    ++counters_.frames_received;
    counters_.bytes_received += frame.payload->size();
    auto const buffered = counters_.frames_buffered;
    if (it->second.info.admission.version == Version::v1)
        receive_v1(it->second, frame);
    else
        receive_v2(id, it->second, frame);
    // The only message of its own the relay sends in answer to one is a control's pong.
    tally(ControlMessage::pong, [&frame](Frame const& sent) { return sent.payload == frame.payload; });
    if (out.empty() && counters_.frames_buffered == buffered) ++counters_.dropped_no_peer;
    return out;
}

void Relay::receive_v1(Socket const& socket, Frame const& frame) {
    auto const& session = *socket.session;
    send_to_all(socket.info.admission.role == Role::server ? session.v1_clients : session.v1_servers, frame);
}

void Relay::receive_v2(SocketId id, Socket const& socket, Frame const& frame) {
    auto const& admission = socket.info.admission;
    auto& session = *socket.session;
    if (admission.connection_id.empty()) {
        // Control input: only a JSON text {"type":"ping"} is answered; everything else is ignored.
        if (frame.binary) return;
        auto parsed = nlohmann::json::parse(*frame.payload, nullptr, false);
        if (parsed.is_object()) {
            auto type = parsed.find("type");
            if (type != parsed.end() && *type == "ping")
                send(id, Frame::text(stringify({{"type", "pong"}, {"ts", now_ms_()}})));
        }
        return;
    }
    auto& channel = session.channels[admission.connection_id];
    if (admission.role == Role::server) {
        send_to_all(channel.clients, frame);
        return;
    }
    if (!channel.data.empty()) {
        send_to_all(channel.data, frame);
        return;
    }
    channel.pending.push_back(frame);
    ++counters_.frames_buffered;
    auto const cap = options_.pending_frames_per_connection;
    if (channel.pending.size() > cap) {
        counters_.dropped_cap += channel.pending.size() - cap;
        channel.pending.erase(channel.pending.begin(), channel.pending.end() - std::ptrdiff_t(cap));
    }
}

Actions const& Relay::closed(SocketId id) {
    auto const& out = begin();
    auto it = sockets_.find(id);
    if (it == sockets_.end()) return out;
    auto const socket = it->second;  // a copy: remove() erases the original
    auto const kept = kept_frames(id);  // thrown away if it was its connection id's last client
    if (socket.info.admission.version == Version::v2) close_v2(id, socket);
    counters_.dropped_no_peer += kept - kept_frames(id);
    remove(id, socket);
    tally(ControlMessage::disconnected, [](Frame const&) { return false; });
    return out;
}

void Relay::close_v2(SocketId id, Socket const& socket) {
    auto const& admission = socket.info.admission;
    auto const& cid = admission.connection_id;
    if (cid.empty()) return;
    auto& session = *socket.session;
    auto& channel = session.channels[cid];

    if (admission.role == Role::server) {
        close_all(channel.clients, close_code::service_restart, "Server disconnected");
        return;
    }
    bool others_remain = std::any_of(channel.clients.begin(), channel.clients.end(),
                                     [id](SocketId other) { return other != id; });
    if (others_remain) return;
    channel.pending.clear();
    close_all(channel.data, close_code::going_away, "Client disconnected");
    notify_controls(session, stringify({{"type", "disconnected"}, {"connectionId", cid}}));
}

Actions const& Relay::dropped(SocketId id) {
    auto const& out = begin();
    auto it = sockets_.find(id);
    if (it == sockets_.end()) return out;
    auto const socket = it->second;
    remove(id, socket);
    return out;
}

void Relay::remove(SocketId id, Socket const& socket) {
    auto& session = *socket.session;
    auto const& admission = socket.info.admission;
    erase_id(session.v1_servers, id);
    erase_id(session.v1_clients, id);
    erase_id(session.controls, id);
    erase_id(session.clients, id);
    if (!admission.connection_id.empty() && admission.version == Version::v2) {
        auto& channel = session.channels[admission.connection_id];
        erase_id(channel.data, id);
        erase_id(channel.clients, id);
        forget_channel_if_unused(session, admission.connection_id);
    }
    sockets_.erase(id);
    // A session nobody is connected to is forgotten, buffered frames included, so memory follows sockets.
    if (--session.sockets == 0) {
        counters_.dropped_no_peer += kept_in(session);
        sessions_.erase(socket.session_key);
    }
}

Actions const& Relay::timer_fired(TimerToken const& token) {
    auto const& out = begin();
    auto it = sessions_.find(token.session_key);
    if (it == sessions_.end()) return out;
    auto const& session = it->second;
    // The watchdog only acts while the connection has a client and still no data socket.
    if (!has_clients(session, token.connection_id) || has_data(session, token.connection_id)) return out;
    if (token.stage == 0) {
        ++counters_.watchdog_nudges;
        notify_controls(session, sync_message(session));
        actions_.push_back(StartTimerAction{options_.watchdog_reset, TimerToken{token.session_key, token.connection_id, 1}});
    } else {
        ++counters_.watchdog_resets;
        close_all(session.controls, close_code::internal_error, "Control unresponsive");
    }
    tally(ControlMessage::sync, [](Frame const&) { return false; });
    return out;
}

void Relay::send(SocketId to, Frame const& frame) {
    auto it = sockets_.find(to);
    if (it == sockets_.end() || it->second.info.closing) return;
    actions_.push_back(SendAction{to, frame});
}

void Relay::send_to_all(std::vector<SocketId> const& to, Frame const& frame) {
    for (auto id : to) send(id, frame);
}

void Relay::close(SocketId id, std::uint16_t code, std::string reason) {
    auto it = sockets_.find(id);
    if (it == sockets_.end() || it->second.info.closing) return;
    it->second.info.closing = true;
    actions_.push_back(CloseAction{id, code, std::move(reason)});
}

void Relay::close_all(std::vector<SocketId> const& ids, std::uint16_t code, std::string const& reason) {
    for (auto id : ids) close(id, code, reason);
}

void Relay::notify_controls(Session const& session, std::string text) {
    auto frame = Frame::text(std::move(text));
    send_to_all(session.controls, frame);
}

std::string Relay::sync_message(Session const& session) const {
    // Distinct connection ids of all clients, in the order their first socket opened.
    std::vector<std::string> ids;
    for (auto client : session.clients) {
        auto const& cid = sockets_.at(client).info.admission.connection_id;
        if (std::find(ids.begin(), ids.end(), cid) == ids.end()) ids.push_back(cid);
    }
    return stringify({{"type", "sync"}, {"connectionIds", ids}});
}

bool Relay::has_clients(Session const& session, std::string const& connection_id) {
    auto it = session.channels.find(connection_id);
    return it != session.channels.end() && !it->second.clients.empty();
}

bool Relay::has_data(Session const& session, std::string const& connection_id) {
    auto it = session.channels.find(connection_id);
    return it != session.channels.end() && !it->second.data.empty();
}

void Relay::forget_channel_if_unused(Session& session, std::string const& connection_id) {
    auto it = session.channels.find(connection_id);
    if (it == session.channels.end()) return;
    auto const& c = it->second;
    if (c.data.empty() && c.clients.empty() && c.pending.empty()) session.channels.erase(it);
}

template <class IsForwarded>
void Relay::tally(ControlMessage control, IsForwarded forwarded) {
    for (auto const& action : actions_) {
        if (auto const* send = std::get_if<SendAction>(&action)) {
            if (forwarded(send->frame)) {
                ++counters_.frames_forwarded;
                counters_.bytes_forwarded += send->frame.payload->size();
            } else {
                ++counters_.control[std::size_t(control)];
            }
        } else if (auto const* close = std::get_if<CloseAction>(&action)) {
            ++counters_.closes[close->code];
        }
    }
}

std::size_t Relay::kept_in(Session const& session) {
    std::size_t kept = 0;
    for (auto const& [cid, channel] : session.channels) kept += channel.pending.size();
    return kept;
}

std::string random_connection_id() {
    static thread_local std::mt19937_64 engine{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::uniform_int_distribution<int> digit(0, 15);
    std::string id = "conn_";
    for (int i = 0; i < 16; ++i) id += (i == 12) ? '4' : hex[digit(engine)];
    return id;
}

}  // namespace relay::core
