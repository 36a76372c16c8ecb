"""Verdicts as values (docs/scenario-format.md, "Verdicts, grades and attribution"): what one run of a
scenario produced, and how repeated runs combine. The interpreter builds them; pytest outcomes and
reports only read them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional, Sequence

PASS, NONSTRICT, FAIL, BLOCKED, ERROR, NOTRUN, FLAKY = "pass", "nonstrict", "fail", "blocked", "error", "notrun", "flaky"
# Every FAILED-grade check held: a Paseo client works with the relay here.
COMPATIBLE = frozenset({PASS, NONSTRICT})


@dataclass
class Failure:
    """Where and why a run stopped: the step (from 1; 0 when none had started), the requirement it is
    attributed to, every accepted alternative, what arrived instead and why it did not match (for
    error and notrun: what went wrong, in `message`)."""
    requirement: str
    step: int
    step_text: str = ""
    socket: str = ""
    expected: list[str] = field(default_factory=list)
    actual: str = ""
    message: str = ""


@dataclass
class Difference:
    """A NON-STRICT check that did not hold: where, and one line saying what the official relay does."""
    step: int
    requirement: str
    detail: str


@dataclass
class ScenarioResult:
    id: str
    verdict: str
    failure: Optional[Failure] = None
    blocked_by: Optional[str] = None  # blocked: the requirement of the precondition step that failed
    nonstrict: list[Difference] = field(default_factory=list)
    wire_log: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    runs: list[str] = field(default_factory=list)  # with repeat: every run's verdict, in order
    passes: Optional[int] = None  # with repeat: how many runs were compatible (pass or nonstrict)
    client_output: list[str] = field(default_factory=list)  # client checks: the client's last output lines


def combine_runs(results: Sequence[ScenarioResult]) -> ScenarioResult:
    """One result for N runs of a scenario: their common verdict, or flaky. Details come from the first
    run that was not a plain pass (that is what a person needs to see), else the first run."""
    if len(results) == 1:
        return results[0]
    runs = [result.verdict for result in results]
    shown = next((result for result in results if result.verdict != PASS), results[0])
    return dataclasses.replace(
        shown,
        verdict=runs[0] if len(set(runs)) == 1 else FLAKY,
        duration_ms=sum(result.duration_ms for result in results),
        runs=runs,
        passes=sum(verdict in COMPATIBLE for verdict in runs),
    )
