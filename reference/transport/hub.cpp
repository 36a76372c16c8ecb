#include "hub.hpp"

#include "trace/trace.hpp"
#include "websocket_session.hpp"

#include <algorithm>

namespace relay::transport {

Hub::Hub(boost::asio::io_context& ioc, core::Relay& relay, Logger const& log, TransportOptions options,
         trace::Trace* trace)
    : relay_(relay),
      log_(log),
      options_(options),
      trace_(trace),
      held_(ioc, [this](core::Action const& action) { carry_out(action); }),
      timer_(ioc),
      ceiling_(options.max_sockets, log) {}

std::string Hub::describe(core::SocketId id) const {
    auto const* info = relay_.info(id);
    if (!info) return "socket " + std::to_string(id);
    auto const& a = info->admission;
    std::string who = std::string(core::to_string(a.version)) + " " + core::to_string(a.role);
    if (a.version == core::Version::v2) {
        if (a.role == core::Role::server)
            who += a.connection_id.empty() ? " (control)" : " (data " + a.connection_id + ")";
        else
            who += " (" + a.connection_id + ")";
    }
    return who + " serverId=" + a.server_id + " socket=" + std::to_string(id);
}

void Hub::opened(std::shared_ptr<WebSocketSession> const& session, core::Admission admission) {
    if (stopping_) {
        ++counters_.closes[core::close_code::going_away];
        session->close(core::close_code::going_away, "Relay shutting down");
        return;
    }
    sockets_.emplace(session->id(), session);
    auto const& actions = relay_.opened(session->id(), std::move(admission));
    log_.log(LogLevel::info, "opened " + describe(session->id()));
    if (trace_) trace_->opened(session->id(), actions);
    execute(actions, session.get());
}

void Hub::received(WebSocketSession& source, core::Frame frame) {
    if (stopping_) return;
    if (!trace_) return execute(relay_.received(source.id(), std::move(frame)), &source);
    auto const& actions = relay_.received(source.id(), frame);  // a copy: the trace reads the frame after
    trace_->received(source.id(), frame, actions);
    execute(actions, &source);
}

void Hub::too_big(WebSocketSession& source, std::string const& reason) {
    log_.log(LogLevel::info, "closing " + describe(source.id()) + ": 1009 " + reason);
    if (trace_) trace_->closing(source.id(), core::close_code::too_big, reason);
    ++counters_.messages_too_big;
    if (!source.closing()) ++counters_.closes[core::close_code::too_big];
    source.close(core::close_code::too_big, reason);
    // The official runtime ends such a socket without running the relay's close handler.
    relay_.dropped(source.id());
}

void Hub::failed(WebSocketSession& source) {
    log_.log(LogLevel::info, "closing " + describe(source.id()) + ": it broke RFC 6455");
    // As for 1009: the official runtime ends such a socket without running the relay's close handler.
    relay_.dropped(source.id());
}

void Hub::closed(core::SocketId id, SocketEnd const& end) {
    auto it = sockets_.find(id);
    if (it == sockets_.end()) return;
    auto const how = end.close_received
                         ? "close " + std::to_string(end.code) + (end.reason.empty() ? "" : " " + end.reason)
                         : end.reason;
    log_.log(LogLevel::info, "closed " + describe(id) + ": " + how);
    if (trace_) {
        if (end.close_received)
            trace_->close_received(id, end.code, end.reason);
        else
            trace_->ended_without_close(id, end.reason);
    }
    auto keep_alive = std::move(it->second);
    sockets_.erase(it);
    if (faults_) held_.forget(id);
    if (!stopping_) {
        auto const& actions = relay_.closed(id);
        if (trace_) trace_->cascaded(actions);
        execute(actions, nullptr);
    }
    if (stopping_ && sockets_.empty() && on_shutdown_done_) std::exchange(on_shutdown_done_, nullptr)();
}

void Hub::shutdown(std::function<void()> done) {
    stopping_ = true;
    timer_queue_.clear();
    timer_.cancel();
    if (sockets_.empty()) {
        done();
        return;
    }
    on_shutdown_done_ = std::move(done);
    for (auto& [id, session] : sockets_) {
        if (session->closing()) continue;
        if (trace_) trace_->closing(id, core::close_code::going_away, "Relay shutting down");
        ++counters_.closes[core::close_code::going_away];
        session->close(core::close_code::going_away, "Relay shutting down");
    }
}

void Hub::execute(core::Actions const& actions, WebSocketSession* source) {
    congested_.clear();
    for (auto const& action : actions) {
        if (auto const* timer = std::get_if<core::StartTimerAction>(&action)) {
            start_timer(*timer);
            continue;
        }
        if (faults_ && hold(action)) continue;
        if (auto* target = carry_out(action); target && target->congested()) congested_.push_back(target);
    }
    if (!source) return;
    // Backpressure: whoever caused frames to pile up on a slow reader stops reading until it drains.
    std::sort(congested_.begin(), congested_.end());
    congested_.erase(std::unique(congested_.begin(), congested_.end()), congested_.end());
    for (auto* target : congested_) target->hold_reads_until_drained(source->shared_from_this());
}

WebSocketSession* Hub::carry_out(core::Action const& action) {
    if (auto const* send = std::get_if<core::SendAction>(&action)) {
        auto it = sockets_.find(send->to);
        if (it == sockets_.end()) return nullptr;
        it->second->send(send->frame);
        return it->second.get();
    }
    auto const& close = std::get<core::CloseAction>(action);
    auto it = sockets_.find(close.socket);
    if (it == sockets_.end()) return nullptr;
    log_.log(LogLevel::info, "closing " + describe(close.socket) + ": " + std::to_string(close.code) + " " + close.reason);
    it->second->close(close.code, close.reason);
    return nullptr;
}

bool Hub::hold(core::Action const& action) {
    auto const* send = std::get_if<core::SendAction>(&action);
    auto const to = send ? send->to : std::get<core::CloseAction>(action).socket;
    if (!faults_->delaying() && !held_.holding(to)) return false;
    auto const* info = relay_.info(to);
    auto const hold = faults_->delaying() && info ? faults_->hold_for(to, info->admission, faults::Clock::now())
                                                  : std::nullopt;
    // Once something is held for a socket, whatever follows it waits its turn.
    if (!hold && !held_.holding(to)) return false;
    held_.hold(to, action, hold);
    return true;
}

std::vector<core::SocketId> Hub::open_sockets() const {
    std::vector<core::SocketId> ids;
    for (auto const& [id, session] : sockets_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    return ids;
}

bool Hub::close_socket(core::SocketId id, std::uint16_t code, std::string const& reason) {
    auto it = sockets_.find(id);
    if (it == sockets_.end() || it->second->closing()) return false;
    log_.log(LogLevel::info, "closing " + describe(id) + ": " + std::to_string(code) + " " + reason + " (fault injection)");
    if (trace_) trace_->closing(id, code, reason);
    held_.forget(id);
    ++counters_.closes[code];
    it->second->close(code, reason);
    return true;
}

void Hub::reset_socket(core::SocketId id) {
    auto it = sockets_.find(id);
    if (it == sockets_.end()) return;
    log_.log(LogLevel::info, "resetting " + describe(id) + " (fault injection)");
    auto const session = it->second;  // reset() ends it at once, which erases it here
    session->reset();
}

void Hub::restart(bool reset) {
    timer_queue_.clear();
    timer_.cancel();
    held_.clear();
    auto const ids = open_sockets();
    if (!reset)
        for (auto id : ids) close_socket(id, core::close_code::going_away, "Relay shutting down");
    for (auto id : ids) relay_.dropped(id);
    if (reset)
        for (auto id : ids) reset_socket(id);
}

void Hub::set_max_message_bytes(std::size_t bytes) {
    options_.max_message_bytes = bytes;
    for (auto& [id, session] : sockets_) session->set_max_message_bytes(bytes);
}

std::optional<core::HttpReply> Hub::upgrade_refusal() {
    if (faults_)
        if (auto refusal = faults_->upgrade_refusal(faults::Clock::now())) return refusal;
    return ceiling_.refusal();
}

std::shared_ptr<WebSocketSession> Hub::make_session(Socket&& socket, core::Admission admission) {
    return ceiling_.track(new WebSocketSession(std::move(socket), *this, std::move(admission)));
}

void Hub::start_timer(core::StartTimerAction const& action) {
    auto const at = std::chrono::steady_clock::now() + action.delay;
    bool const earliest = timer_queue_.empty() || at < timer_queue_.begin()->first;
    timer_queue_.emplace(at, action.token);
    if (earliest) arm_timer();
}

// One asio timer for the whole queue: thousands of watchdogs cost a map entry each, not a timer and
// a pending wait each.
void Hub::arm_timer() {
    timer_.expires_at(timer_queue_.begin()->first);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;  // re-armed for an earlier deadline, or shut down
        auto const now = std::chrono::steady_clock::now();
        while (!timer_queue_.empty() && timer_queue_.begin()->first <= now) {
            auto token = std::move(timer_queue_.begin()->second);
            timer_queue_.erase(timer_queue_.begin());
            auto const& actions = relay_.timer_fired(token);
            if (trace_) trace_->timer_fired(token, actions);
            execute(actions, nullptr);
        }
        if (!timer_queue_.empty()) arm_timer();
    });
}

}  // namespace relay::transport
