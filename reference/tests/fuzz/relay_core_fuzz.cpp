// The relay's protocol core (core/relay) driven as the transport drives it: sockets admitted by the
// router from a URL, text and binary messages (control JSON among them) arriving from any of them,
// sockets closing or dropping, watchdog timers firing, and the close frames the core asks for
// answered by the peer. The core must address only open sockets, and once every socket is closed
// hold no session.
//
// Input: one command a line:
//   open <target>          a socket for the URL, if the router admits it
//   text <n> <payload>     a text message from the n-th open socket, oldest first (n modulo their number)
//   binary <n> <payload>   the same, binary
//   close <n> | drop <n>   the socket ends with or without a close frame of its own
//   answer                 every close frame the core sent is answered: those sockets are closed
//   timer                  the oldest watchdog timer fires
#include "core/http_router.hpp"
#include "core/relay.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using namespace relay::core;

class Driver {
public:
    Driver() : relay_(RelayOptions{.pending_frames_per_connection = 4}, [this] { return "conn_" + std::to_string(next_id_); },
                      [] { return std::int64_t(1'700'000'000'000); }) {}

    void run(std::string_view line) {
        auto const space = line.find(' ');
        auto const verb = line.substr(0, space);
        auto const rest = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
        if (verb == "open") return open(rest);
        if (verb == "answer") return answer_closes();
        if (verb == "timer") return fire_timer();
        if (open_.empty()) return;
        auto const id_end = rest.find(' ');
        auto const id = open_[std::strtoul(std::string(rest.substr(0, id_end)).c_str(), nullptr, 10) % open_.size()];
        auto const payload = id_end == std::string_view::npos ? std::string() : std::string(rest.substr(id_end + 1));
        if (verb == "text") carry_out(relay_.received(id, Frame::text(payload)));
        if (verb == "binary") carry_out(relay_.received(id, Frame::bytes(payload)));
        if (verb == "close") end(id, false);
        if (verb == "drop") end(id, true);
    }

    // Every socket ends; what the core then asks for is carried out too.
    void finish() {
        while (!open_.empty()) end(open_.front(), false);
        while (!timers_.empty()) fire_timer();
        if (relay_.session_count() != 0) std::abort();  // a session outlived its sockets
    }

private:
    void open(std::string_view target) {
        auto routing = route(target, {"websocket", "13", "dGhlIHNhbXBsZSBub25jZQ=="});
        auto* admission = std::get_if<Admission>(&routing);
        if (!admission) return;
        auto const id = ++next_id_;
        open_.push_back(id);
        carry_out(relay_.opened(id, std::move(*admission)));
    }

    void end(SocketId id, bool dropped) {
        std::erase(open_, id);
        std::erase(closing_, id);
        carry_out(dropped ? relay_.dropped(id) : relay_.closed(id));
    }

    void answer_closes() {
        auto closing = std::move(closing_);
        closing_.clear();
        for (auto id : closing) end(id, false);
    }

    void fire_timer() {
        if (timers_.empty()) return;
        auto token = std::move(timers_.front());
        timers_.pop_front();
        carry_out(relay_.timer_fired(token));
    }

    // As the transport does: a copy first, since ending a socket re-enters the core. The core sends
    // only to open sockets it is not closing, and closes each at most once.
    void carry_out(Actions const& actions) {
        Actions const copy = actions;
        for (auto const& action : copy) {
            if (auto const* send = std::get_if<SendAction>(&action); send && (!is_open(send->to) || is_closing(send->to)))
                std::abort();
            if (auto const* close = std::get_if<CloseAction>(&action)) {
                if (!is_open(close->socket) || is_closing(close->socket)) std::abort();
                closing_.push_back(close->socket);
            }
            if (auto const* timer = std::get_if<StartTimerAction>(&action)) timers_.push_back(timer->token);
        }
    }

    bool is_open(SocketId id) const { return std::find(open_.begin(), open_.end(), id) != open_.end(); }
    bool is_closing(SocketId id) const { return std::find(closing_.begin(), closing_.end(), id) != closing_.end(); }

    Relay relay_;
    SocketId next_id_ = 0;
    std::vector<SocketId> open_;
    std::vector<SocketId> closing_;
    std::deque<TimerToken> timers_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view input(reinterpret_cast<char const*>(data), size);
    Driver driver;
    while (!input.empty()) {
        auto const end = input.find('\n');
        driver.run(input.substr(0, end));
        input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    }
    driver.finish();
    return 0;
}
