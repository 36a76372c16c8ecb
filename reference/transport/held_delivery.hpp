// What fault injection holds back on its way to a socket (docs/daemon-development.md, "Fault
// injection": delay, pause): the core's sends and closes, each socket's in the order the core gave
// them, each released at its time or when its rule is cleared. Only used while a delay or pause is in
// force, or something it held is still waiting.
#pragma once

#include "core/protocol.hpp"
#include "faults/standing_faults.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <unordered_map>

namespace relay::transport {

class HeldDelivery {
public:
    using Deliver = std::function<void(core::Action const&)>;

    HeldDelivery(boost::asio::io_context& ioc, Deliver deliver);

    bool empty() const { return queues_.empty(); }
    bool holding(core::SocketId id) const { return queues_.count(id) > 0; }
    // Queues `action` for `to` behind what is held for it already; `hold` none: due as soon as that has gone.
    void hold(core::SocketId to, core::Action action, std::optional<faults::Hold> hold);
    // What `rule` holds is due now; the rest of each queue keeps its order behind it.
    void release(std::uint64_t rule);
    void release_all();
    std::size_t held_by(std::uint64_t rule) const;
    // The socket is gone: what was held for it is dropped.
    void forget(core::SocketId id) { queues_.erase(id); }
    void clear();

private:
    struct Held {
        core::Action action;
        std::uint64_t rule = 0;  // 0: held only to keep its place behind earlier ones
        std::optional<faults::Clock::time_point> due;  // none: paused
    };

    void deliver_due();
    void arm();

    std::unordered_map<core::SocketId, std::deque<Held>> queues_;
    boost::asio::steady_timer timer_;
    Deliver deliver_;
};

}  // namespace relay::transport
