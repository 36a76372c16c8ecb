// What running one scenario produced: the verdict, where and why it failed, and the wire log.
#pragma once

#include "scenario/model.hpp"

#include <optional>
#include <string>
#include <vector>

namespace conformance::interpreter {

enum class Verdict { pass, fail, error, notrun };

char const* to_string(Verdict v);

struct Failure {
    std::string requirement;            // the step's requirement, else the scenario's first
    std::size_t step = 0;               // 1-based
    std::string step_text;              // the step as written
    std::vector<std::string> expected;  // every accepted alternative, for a person
    std::string actual;                 // what arrived instead
    std::string message;                // why the closest alternative did not match, or the fault
    std::string socket;                 // the socket the step was about, if any
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
    std::vector<StepOutcome> steps;
    std::vector<WireEntry> wire_log;
    bool connection_refused = false;  // the relay refused a TCP connection: it may be gone
    std::vector<scenario::Json> recorded_steps;  // with RunSettings::record: the trace as observed
    bool expected_failure = false;    // listed in the expectations file
    std::string expected_reason;
};

}  // namespace conformance::interpreter
