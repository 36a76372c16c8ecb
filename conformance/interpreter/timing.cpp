#include "interpreter/timing.hpp"

#include <algorithm>

namespace conformance::interpreter {

namespace {
constexpr double allowance_floor_ms = 100;
}

double allowance_ms(double calibrated_ms, double longest_step_ms) {
    return std::max(allowance_floor_ms, 2 * std::max(calibrated_ms, longest_step_ms));
}

double quiet_ms(double within_ms, double time_scale, double allowance_ms) { return within_ms * time_scale + allowance_ms; }

TimeBounds window_bounds(MarkInterval mark, double min_ms, double max_ms, double time_scale, double allowance_ms) {
    return {mark.start + min_ms * time_scale, mark.finish + max_ms * time_scale + allowance_ms};
}

Arrival judge_time(double at, TimeBounds bounds) {
    if (at < bounds.earliest) return Arrival::early;
    if (at > bounds.latest) return Arrival::late;
    return Arrival::in;
}

}  // namespace conformance::interpreter
