// Runs one scenario against a relay, step by step, as docs/scenario-format.md says. Knows nothing
// about any particular relay: every expectation comes from the scenario.
#pragma once

#include "client/wire.hpp"
#include "interpreter/result.hpp"
#include "scenario/model.hpp"
#include "scenario/profile.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>

namespace conformance::server {
class Listener;
}

namespace conformance::interpreter {

struct RunSettings {
    client::Endpoint endpoint;
    std::uint32_t step_timeout_ms = 5000;               // expect steps without within_ms
    std::optional<std::uint32_t> scenario_timeout_ms{};  // overrides each scenario's timeout_ms
    double latency_ms = 0;   // calibrated (or given) at the start of the run: widens every allowance
    double time_scale = 1;   // the relay's protocol timers are scaled by this
    // Record instead of judge: every expect step takes what arrives and writes it down as the step
    // that would have matched it (ScenarioResult::recorded_steps).
    bool record = false;
    // Which variables each run gets fresh and how sockets are addressed (docs/scenario-format.md, Profiles).
    scenario::Profile profile = scenario::Profile::paseo();
    // Client scenarios: where the client under test connects (accept and no_connection steps), and
    // whether the scenario's sockets end with a close 1012 (a client that stays for the next scenario)
    // instead of a drop.
    server::Listener* listener = nullptr;
    bool close_at_end = false;
};

boost::asio::awaitable<ScenarioResult> run_scenario(scenario::Scenario const& scenario, RunSettings settings);

}  // namespace conformance::interpreter
