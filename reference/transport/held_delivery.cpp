#include "held_delivery.hpp"

namespace relay::transport {

HeldDelivery::HeldDelivery(boost::asio::io_context& ioc, Deliver deliver) : timer_(ioc), deliver_(std::move(deliver)) {}

void HeldDelivery::hold(core::SocketId to, core::Action action, std::optional<faults::Hold> hold) {
    auto const now = faults::Clock::now();
    auto& queue = queues_[to];
    if (hold)
        queue.push_back({std::move(action), hold->rule, hold->until});
    else
        queue.push_back({std::move(action), 0, now});
    if (queue.size() == 1) arm();
}

void HeldDelivery::release(std::uint64_t rule) {
    auto const now = faults::Clock::now();
    for (auto& [id, queue] : queues_)
        for (auto& held : queue)
            if (held.rule == rule) held.due = now;
    deliver_due();
}

void HeldDelivery::release_all() {
    auto const now = faults::Clock::now();
    for (auto& [id, queue] : queues_)
        for (auto& held : queue) held.due = now;
    deliver_due();
}

std::size_t HeldDelivery::held_by(std::uint64_t rule) const {
    std::size_t count = 0;
    for (auto const& [id, queue] : queues_)
        for (auto const& held : queue) count += held.rule == rule;
    return count;
}

void HeldDelivery::clear() {
    queues_.clear();
    timer_.cancel();
}

void HeldDelivery::deliver_due() {
    auto const now = faults::Clock::now();
    // Collected first: delivering may end a socket, which forgets its queue.
    std::vector<core::Action> due;
    for (auto it = queues_.begin(); it != queues_.end();) {
        auto& queue = it->second;
        while (!queue.empty() && queue.front().due && *queue.front().due <= now) {
            due.push_back(std::move(queue.front().action));
            queue.pop_front();
        }
        it = queue.empty() ? queues_.erase(it) : std::next(it);
    }
    for (auto const& action : due) deliver_(action);
    arm();
}

// One timer for every queue: the earliest time a queue's first entry is due.
void HeldDelivery::arm() {
    std::optional<faults::Clock::time_point> next;
    for (auto const& [id, queue] : queues_)
        if (auto const& due = queue.front().due; due && (!next || *due < *next)) next = due;
    if (!next) {
        timer_.cancel();
        return;
    }
    timer_.expires_at(*next);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) deliver_due();
    });
}

}  // namespace relay::transport
