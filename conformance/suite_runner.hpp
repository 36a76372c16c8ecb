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

// The relay's latency as a client sees it before the run: the slowest of five plain HTTP exchanges
// (GET / on a fresh connection, any answer), in ms. docs/scenario-format.md, "Timing".
double calibrate_latency_ms(client::Endpoint const& endpoint);

// Runs one scenario of a suite, on the suite's io_context.
using ScenarioTask = std::function<boost::asio::awaitable<interpreter::ScenarioResult>(scenario::Scenario const&)>;

// Runs `task` for every scenario, at most `jobs` at a time (0: all at once), on one thread. A task that
// throws gives an error verdict; a result with relay_gone makes the scenarios not yet started NOTRUN.
std::vector<interpreter::ScenarioResult> run_tasks(std::vector<scenario::Scenario const*> const& scenarios, ScenarioTask task,
                                                   unsigned jobs, std::function<void(interpreter::ScenarioResult const&)> on_done);

// Calls `run_once` `repeat` times and folds each scenario's runs into one result: the common verdict,
// or flaky when the runs disagree (with the first run that did not pass as the details).
std::vector<interpreter::ScenarioResult> fold_repeated(unsigned repeat, std::function<std::vector<interpreter::ScenarioResult>()> run_once);

std::vector<interpreter::ScenarioResult> run_suite(std::vector<scenario::Scenario const*> const& scenarios,
                                                   interpreter::RunSettings const& settings, unsigned jobs,
                                                   std::function<void(interpreter::ScenarioResult const&)> on_done);

// Runs the suite `repeat` times and folds each scenario's runs into one result: the common verdict,
// or flaky when the runs disagree (with the first run that did not pass as the details).
std::vector<interpreter::ScenarioResult> run_repeated(std::vector<scenario::Scenario const*> const& scenarios,
                                                      interpreter::RunSettings const& settings, unsigned jobs, unsigned repeat,
                                                      std::function<void(interpreter::ScenarioResult const&)> on_done);

}  // namespace conformance
