// The timing model of docs/scenario-format.md ("Timing") as pure arithmetic, so both interpreters can
// be checked against scenarios/timing-vectors.json. Milliseconds throughout.
#pragma once

namespace conformance::interpreter {

// When a step started and finished on the runner's clock: whatever the relay did in response
// happened inside this interval.
struct MarkInterval {
    double start = 0;
    double finish = 0;
};

struct TimeBounds {
    double earliest = 0;
    double latest = 0;
};

enum class Arrival { early, in, late };

// Allowance for latency: twice the slower of the calibrated latency and the scenario's slowest
// handshake or HTTP exchange so far, never under 100 ms.
double allowance_ms(double calibrated_ms, double longest_step_ms);

// How long a `nothing` expectation waits.
double quiet_ms(double within_ms, double time_scale, double allowance_ms);

// A window's lower bound counts from the mark's start, its upper bound from its finish.
TimeBounds window_bounds(MarkInterval mark, double min_ms, double max_ms, double time_scale, double allowance_ms);

Arrival judge_time(double at, TimeBounds bounds);

}  // namespace conformance::interpreter
