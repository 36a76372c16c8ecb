// Runs the selected scenarios concurrently on one thread, at most `jobs` at a time (0: all at once),
// and reports scenarios as not run once the relay stops accepting connections.
#pragma once

#include "interpreter/interpreter.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace conformance {

// Whether the relay accepts a TCP connection within two seconds.
bool relay_reachable(client::Endpoint const& endpoint);

// Before a run against a wss:// relay: why its TLS handshake fails (say, an untrusted certificate),
// or nullopt when it succeeds.
std::optional<std::string> tls_problem(client::Endpoint const& endpoint);

std::vector<interpreter::ScenarioResult> run_suite(std::vector<scenario::Scenario const*> const& scenarios,
                                                   interpreter::RunSettings const& settings, unsigned jobs,
                                                   std::function<void(interpreter::ScenarioResult const&)> on_done);

}  // namespace conformance
