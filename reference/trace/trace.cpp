#include "trace.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace relay::trace {
namespace {

Subject subject_from(core::SocketInfo const& info, core::SocketId id) {
    auto const& a = info.admission;
    if (a.version == core::Version::v1) return {a.version, a.server_id, core::to_string(a.role), {}, id};
    std::string role = a.role == core::Role::client ? "client" : a.connection_id.empty() ? "control" : "data";
    return {a.version, a.server_id, std::move(role), a.connection_id, id};
}

// A message the core composed for a control socket: its "type", and the id a connected or
// disconnected names.
Event control_event(Subject const& to, core::Frame const& frame, std::string const* watchdog_id) {
    Event event{EventKind::control_out, &to, &frame};
    auto parsed = nlohmann::json::parse(*frame.payload, nullptr, false);
    if (parsed.is_object()) {
        if (auto type = parsed.find("type"); type != parsed.end() && type->is_string()) event.message = *type;
        if (auto id = parsed.find("connectionId"); id != parsed.end() && id->is_string()) event.about = *id;
    }
    if (watchdog_id) {
        event.nudge = true;
        event.about = *watchdog_id;
    }
    return event;
}

bool sends_anything(core::Actions const& actions) {
    return std::any_of(actions.begin(), actions.end(),
                       [](core::Action const& a) { return std::holds_alternative<core::SendAction>(a); });
}

// The socket an action is addressed to, if it is a send or a close.
core::SocketId target_of(core::Action const& action) {
    if (auto const* send = std::get_if<core::SendAction>(&action)) return send->to;
    if (auto const* close = std::get_if<core::CloseAction>(&action)) return close->socket;
    return 0;
}

}  // namespace

Trace::Trace(core::Relay const& relay, std::vector<Sink*> sinks) : relay_(relay), sinks_(std::move(sinks)) {}

Subject const* Trace::subject_of(core::SocketId id) const {
    auto it = sockets_.find(id);
    return it == sockets_.end() ? nullptr : &it->second;
}

void Trace::opened(core::SocketId id, core::Actions const& actions) {
    auto const* info = relay_.info(id);
    if (!info) return;
    auto const& subject = sockets_.insert_or_assign(id, subject_from(*info, id)).first->second;
    emit({EventKind::open, &subject});
    // A data socket's own sends on opening are the frames kept for its id.
    if (subject.role == "data") {
        auto const flushed = std::count_if(actions.begin(), actions.end(), [id](core::Action const& a) {
            auto const* send = std::get_if<core::SendAction>(&a);
            return send && send->to == id;
        });
        if (flushed > 0) emit({.kind = EventKind::flushed, .subject = &subject, .count = std::size_t(flushed)});
    }
    carry(actions, nullptr);
}

void Trace::received(core::SocketId id, core::Frame const& frame, core::Actions const& actions) {
    auto const* from = subject_of(id);
    if (!from) return;
    emit({EventKind::frame_in, from, &frame});
    if (!sends_anything(actions)) {
        if (from->is_control())
            emit({EventKind::ignored, from});
        else if (auto const kept = relay_.kept_frames(id); kept > 0)
            emit({.kind = EventKind::buffered, .subject = from, .count = kept});
        else
            emit({EventKind::dropped, from});
    }
    carry(actions, nullptr);
}

void Trace::timer_fired(core::TimerToken const& token, core::Actions const& actions) {
    // The watchdog's session is that of the controls it syncs or closes; with none, it did nothing.
    auto const first = std::find_if(actions.begin(), actions.end(),
                                    [this](core::Action const& a) { return subject_of(target_of(a)) != nullptr; });
    if (first == actions.end()) return;
    auto const* control = subject_of(target_of(*first));
    bool const reset = std::any_of(actions.begin(), actions.end(),
                                   [](core::Action const& a) { return std::holds_alternative<core::CloseAction>(a); });
    Subject const watchdog{control->version, control->server_id, {}, token.connection_id, 0};
    emit({.kind = EventKind::watchdog, .subject = &watchdog, .detail = reset ? "reset" : "nudge"});
    carry(actions, &token.connection_id);
}

void Trace::cascaded(core::Actions const& actions) { carry(actions, nullptr); }

void Trace::closing(core::SocketId id, std::uint16_t code, std::string_view reason) {
    if (auto const* subject = subject_of(id))
        emit({.kind = EventKind::close_sent, .subject = subject, .code = code, .detail = std::string(reason)});
}

void Trace::close_received(core::SocketId id, std::uint16_t code, std::string_view reason) {
    // A close frame without a status code reads as 1005 (RFC 6455 7.1.5), as WebSocket libraries report it.
    ended(id, {.kind = EventKind::close_received, .code = code ? code : std::uint16_t(1005), .detail = std::string(reason)});
}

void Trace::ended_without_close(core::SocketId id, std::string_view error) {
    ended(id, {.kind = EventKind::end, .detail = std::string(error)});
}

void Trace::ended(core::SocketId id, Event event) {
    auto it = sockets_.find(id);
    if (it == sockets_.end()) return;
    event.subject = &it->second;
    emit(event);
    sockets_.erase(it);
}

void Trace::carry(core::Actions const& actions, std::string const* watchdog_id) {
    for (auto const& action : actions) {
        auto const* to = subject_of(target_of(action));
        if (!to) continue;
        if (auto const* send = std::get_if<core::SendAction>(&action)) {
            if (to->is_control())
                emit(control_event(*to, send->frame, watchdog_id));
            else
                emit({EventKind::frame_out, to, &send->frame});
        } else {
            auto const& close = std::get<core::CloseAction>(action);
            emit({.kind = EventKind::close_sent, .subject = to, .about = watchdog_id ? *watchdog_id : std::string(),
                  .code = close.code, .detail = close.reason});
        }
    }
}

void Trace::emit(Event const& event) {
    auto const t_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
    for (auto* sink : sinks_) sink->event(t_ms, event);
}

}  // namespace relay::trace
