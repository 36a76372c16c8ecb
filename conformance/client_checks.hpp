// Runs client scenarios (relay-conformance check-client): the runner plays the relay and the client
// under test connects to it. With a client command, every scenario gets a listener on a fresh
// loopback port and a client started for it; without, one listener serves a client the user started,
// scenario after scenario.
#pragma once

#include "interpreter/interpreter.hpp"

#include <functional>
#include <string>
#include <vector>

namespace conformance {

struct ClientCheckSettings {
    std::string client_cmd;  // `/bin/sh -c` command with {url}, {port}; empty: a client the user points at the port
    unsigned short port = 0; // without client_cmd: where to listen (0: an ephemeral port)
    unsigned jobs = 1;       // scenarios at once; 1 without client_cmd
    // Without client_cmd: told the URL once the port is bound, before the first scenario of the first run.
    std::function<void(std::string const& url)> on_listening;
    bool announced = false;  // on_listening has been told; `port` is then the one bound, for the runs that follow
};

// A port that cannot be bound makes every scenario an error (a runner fault naming the reason).
std::vector<interpreter::ScenarioResult> run_client_checks(std::vector<scenario::Scenario const*> const& scenarios,
                                                           interpreter::RunSettings const& settings, ClientCheckSettings& checks,
                                                           std::function<void(interpreter::ScenarioResult const&)> on_done);

}  // namespace conformance
