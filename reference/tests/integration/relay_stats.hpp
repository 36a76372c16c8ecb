// A reference relay with its admin port, read through GET /stats (docs/daemon-development.md,
// "Fault injection"): the sockets, sessions and memory it holds, for tests of churn and limits.
#pragma once

#include "relay_process.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace relay::testing {

class StatsRelay {
public:
    // `reference-relay --admin-port 0 flags...`
    explicit StatsRelay(std::vector<std::string> flags = {});

    unsigned short port() const { return relay_.port(); }
    RelayProcess const& process() const { return relay_; }
    nlohmann::json stats() const;
    // Asks again every 20 ms until `holds` is true of the answer or the deadline passes: the relay
    // learns of resets and ends handshakes on its own time. Returns the last answer either way.
    nlohmann::json wait_for_stats(std::function<bool(nlohmann::json const&)> const& holds,
                                  std::chrono::milliseconds deadline) const;

private:
    RelayProcess relay_;
    unsigned short admin_port_ = 0;
};

// Nothing held: no socket, session, connection id, kept frame or timer.
bool holds_nothing(nlohmann::json const& stats);

}  // namespace relay::testing
