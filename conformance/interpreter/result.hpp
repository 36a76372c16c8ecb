// What running one scenario produced: the verdict, where and why it failed, and the wire log.
#pragma once

#include "scenario/model.hpp"

#include <optional>
#include <string>
#include <vector>

namespace conformance::interpreter {

// docs/scenario-format.md, "Verdicts, grades and attribution".
enum class Verdict { pass, nonstrict, fail, blocked, error, notrun, flaky };

char const* to_string(Verdict v);

// Every FAILED-grade check held: a Paseo client works with the relay here.
inline bool compatible(Verdict v) { return v == Verdict::pass || v == Verdict::nonstrict; }

struct Failure {
    std::string requirement;            // the step's requirement, else the scenario's first; for blocked, the precondition's
    std::size_t step = 0;               // 1-based
    std::string step_text;              // the step as written
    std::vector<std::string> expected;  // every accepted alternative, for a person
    std::string actual;                 // what arrived instead
    std::string message;                // why the closest alternative did not match, or the fault
    std::string socket;                 // the socket the step was about, if any
};

// A NON-STRICT difference: the relay differs from the official one where no client depends on it.
struct Difference {
    std::size_t step = 0;  // 1-based
    std::string requirement;
    std::string detail;
};

struct StepOutcome {
    std::size_t index = 0;  // 1-based
    std::string text;
    std::string outcome;  // ok, fail, error, skipped
    double elapsed_ms = 0;
};

struct WireEntry {
    double t_ms = 0;  // since the scenario started
    std::string socket;
    std::string direction;  // out (runner to relay) or in
    std::string kind;       // open, http, text, binary, close, ended, drop, note
    std::string text;
};

struct ScenarioResult {
    scenario::Scenario const* scenario = nullptr;
    Verdict verdict = Verdict::notrun;
    double duration_ms = 0;
    std::optional<Failure> failure;
    std::vector<Difference> nonstrict;
    std::vector<Verdict> runs;  // with --repeat: each run's verdict
    std::vector<StepOutcome> steps;
    std::vector<WireEntry> wire_log;
    bool connection_refused = false;  // the relay refused a TCP connection: it may be gone
    std::vector<scenario::Json> recorded_steps;  // with RunSettings::record: the trace as observed
    std::string transport;            // with --transport all: which one this run used
    bool relay_gone = false;          // refused, and the relay no longer accepts connections
    std::vector<std::string> client_output;  // check-client --client-cmd: the client's last lines of stdout and stderr
    bool expected_failure = false;    // listed in the expectations file
    std::string expected_reason;
};

// The scenario id, with the transport when a run covers several: v2-ctrl-ping-pong[deflate].
inline std::string display_id(ScenarioResult const& r) {
    return r.scenario->id + (r.transport.empty() ? "" : "[" + r.transport + "]");
}

}  // namespace conformance::interpreter
