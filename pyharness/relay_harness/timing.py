"""How time is judged (docs/scenario-format.md, "Timing"), as pure arithmetic on milliseconds of the
runner's monotonic clock. The interpreter supplies the clock readings; scenarios/timing-vectors.json
pins every function down, shared with the C++ runner."""

from __future__ import annotations

from dataclasses import dataclass

ALLOWANCE_FLOOR_MS = 100.0

EARLY, IN, LATE = "early", "in", "late"


@dataclass(frozen=True)
class Interval:
    """A mark: when its step started (before its first byte) and when it finished. Whatever the relay
    did in response happened somewhere inside, so windows are measured from both ends."""
    start: float
    finish: float


@dataclass(frozen=True)
class Bounds:
    """When an event may arrive, both ends inclusive."""
    earliest: float
    latest: float


def allowance_ms(calibrated_ms: float, longest_step_ms: float) -> float:
    """A = max(100, 2 L), L the calibrated latency or the slowest open/http step so far if slower."""
    return max(ALLOWANCE_FLOOR_MS, 2 * max(calibrated_ms, longest_step_ms))


def quiet_ms(within_ms: float, time_scale: float, allowance: float) -> float:
    """How long a quiet period (`nothing`) waits: the scenario's duration scaled, plus the allowance."""
    return within_ms * time_scale + allowance


def window_bounds(mark: Interval, min_ms: float, max_ms: float, time_scale: float, allowance: float) -> Bounds:
    """No earlier than min after the mark started; no later than max (plus the allowance) after it finished."""
    return Bounds(mark.start + min_ms * time_scale, mark.finish + max_ms * time_scale + allowance)


def judge_time(at: float, bounds: Bounds) -> str:
    """EARLY, IN or LATE."""
    if at < bounds.earliest:
        return EARLY
    if at > bounds.latest:
        return LATE
    return IN
