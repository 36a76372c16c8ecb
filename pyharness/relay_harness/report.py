"""ScenarioResults as text for a person at a terminal, and as the C++ runner's JSON report shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from . import model
from .interpreter import ScenarioResult
from .patterns import compact

WIRE_LOG_LINES = 15


def format_result(scenario: model.Scenario, result: ScenarioResult) -> str:
    """Requirement, step, expected alternatives, actual and the recent wire log, one fact a line."""
    headline = {"fail": "failed", "error": "could not be run (runner error)",
                "notrun": "not run (the relay stopped answering)"}[result.verdict]
    lines = [f"scenario {scenario.id} {headline}: {scenario.title}",
             f"requirement: {result.requirement} ({result.level or scenario.level})"]
    if result.step_index is not None:
        step = scenario.steps[result.step_index]
        lines.append(f"step {result.step_index}: {compact(result.step)}")
        if step.note:
            lines.append(f"note: {step.note}")
    for index, alternative in enumerate(result.expected):
        lines.append(f"{'expected:' if index == 0 else '      or:'} {alternative}")
    lines.append(f"{'actual:  ' if result.verdict == 'fail' else 'problem: '} {result.actual}")
    lines.append(f"file: {scenario.file}")
    lines += _wire_log(result.wire_log)
    return "\n".join(lines)


def _wire_log(log: list[str]) -> list[str]:
    if not log:
        return ["wire log: (empty)"]
    shown = log[-WIRE_LOG_LINES:]
    header = "recent wire log" + (f" (last {len(shown)} of {len(log)} lines):" if len(shown) < len(log) else ":")
    return [header] + [f"  {line}" for line in shown]


def write_json(path: Path, results: Iterable[ScenarioResult]) -> None:
    """{"scenarios": [{"id": ..., "verdict": ..., ...}]}, as `relay-conformance run --json FILE` writes."""
    document = {"scenarios": [result.as_json() for result in results]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
