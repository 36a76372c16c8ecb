#include "relay_stats.hpp"

#include "ws_client.hpp"

#include <stdexcept>
#include <thread>

namespace relay::testing {

namespace {

std::vector<std::string> with_admin_port(std::vector<std::string> flags) {
    flags.insert(flags.begin(), {"--admin-port", "0"});
    return flags;
}

}  // namespace

StatsRelay::StatsRelay(std::vector<std::string> flags)
    : relay_(with_admin_port(std::move(flags)), REFERENCE_RELAY_BINARY, 2) {
    auto const& url = relay_.stdout_line(1);
    admin_port_ = static_cast<unsigned short>(std::stoi(url.substr(url.rfind(':') + 1)));
}

nlohmann::json StatsRelay::stats() const {
    auto const answer = http_request(admin_port_, "GET", "/stats");
    if (answer.status != 200) throw std::runtime_error("GET /stats answered " + std::to_string(answer.status));
    return nlohmann::json::parse(answer.body);
}

nlohmann::json StatsRelay::wait_for_stats(std::function<bool(nlohmann::json const&)> const& holds,
                                          std::chrono::milliseconds deadline) const {
    auto const until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        auto answer = stats();
        if (holds(answer) || std::chrono::steady_clock::now() >= until) return answer;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the poll interval; /stats has no event to wait on
    }
}

bool holds_nothing(nlohmann::json const& stats) {
    for (auto const* key : {"sockets", "sessions", "connections", "pending_frames", "pending_bytes", "timers"})
        if (stats.at(key) != 0) return false;
    return true;
}

}  // namespace relay::testing
