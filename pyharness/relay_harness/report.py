"""ScenarioResults as text for a person at a terminal, and as the JSON report both runners write
(ci/report.schema.json). Reads results; decides nothing."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from . import model
from .calibration import Timing
from .verdicts import BLOCKED, ERROR, FAIL, FLAKY, NONSTRICT, NOTRUN, PASS, ScenarioResult

WIRE_LOG_LINES = 15
HEADLINES = {FAIL: "failed", BLOCKED: "blocked", ERROR: "could not be run (runner error)",
             NOTRUN: "not run (the relay stopped answering)",
             NONSTRICT: "differs from the official relay in non-strict details", FLAKY: "is flaky"}
# Summary keys of the JSON report, by verdict.
COUNTED_AS = {PASS: "passed", NONSTRICT: "nonstrict", FAIL: "failed", BLOCKED: "blocked", ERROR: "errors",
              NOTRUN: "notrun", FLAKY: "flaky"}


def format_result(scenario: model.Scenario, result: ScenarioResult) -> str:
    """Requirement, step, expected alternatives, actual, non-strict differences and the recent wire
    log, one fact a line."""
    lines = [f"scenario {result.id} {HEADLINES[result.verdict]}: {scenario.title}"]
    if result.runs:
        lines.append(f"runs: {', '.join(result.runs)} ({result.passes} of {len(result.runs)} passed); "
                     "details of the first that did not pass")
    failure = result.failure
    if failure:
        if result.blocked_by:
            lines.append(f"blocked by: {result.blocked_by}, a precondition of this scenario "
                         f"(which checks {', '.join(scenario.requirements)}); its own scenarios fail")
        else:
            lines.append(f"requirement: {failure.requirement} ({scenario.level})")
        if failure.step:
            lines.append(f"step {failure.step}: {failure.step_text}")
            note = scenario.steps[failure.step - 1].note
            if note:
                lines.append(f"note: {note}")
        for index, alternative in enumerate(failure.expected):
            lines.append(f"{'expected:' if index == 0 else '      or:'} {alternative}")
        if failure.actual:
            lines.append(f"actual:   {failure.actual}" + (f" ({failure.message})" if failure.message else ""))
        else:
            lines.append(f"problem:  {failure.message}")
    lines += [f"non-strict: step {d.step} ({d.requirement}): {d.detail}" for d in result.nonstrict]
    lines.append(f"file: {scenario.file}")
    lines += _wire_log(result.wire_log)
    if result.client_output:
        lines.append(f"client output (last {len(result.client_output)} lines):")
        lines += [f"  {line}" for line in result.client_output]
    return "\n".join(lines)


def _wire_log(log: list[str]) -> list[str]:
    if not log:
        return ["wire log: (empty)"]
    shown = log[-WIRE_LOG_LINES:]
    header = "recent wire log" + (f" (last {len(shown)} of {len(log)} lines):" if len(shown) < len(log) else ":")
    return [header] + [f"  {line}" for line in shown]


# --- the run as a whole -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RunInfo:
    """What the JSON report says about the run besides its scenarios."""
    timing: Timing
    strict_mode: bool
    repeat: int
    relay_url: Optional[str]
    transport: Optional[str]  # None when every scenario ran on every transport
    duration_ms: float
    profile: str = "paseo"  # the protocol profile run (--relay-profile)
    clients: str = "Paseo"  # whose clients the headline speaks of (the profile's)
    judging_clients: bool = False  # client checks only: the headline speaks of the client under test


def summary(results: Iterable[ScenarioResult]) -> dict[str, int]:
    counts = Counter(COUNTED_AS[result.verdict] for result in results)
    return {"total": sum(counts.values()), **{key: counts[key] for key in COUNTED_AS.values()}}


def headline(counts: dict[str, int], clients: str = "Paseo", judging_clients: bool = False) -> dict:
    """Whether the profile's clients (Paseo's) work with this relay (compatible), and whether it matches
    the official relay in every detail checked (strict); for client checks, the same of the client under
    test and the relay. Worded as the C++ runner words it."""
    broken = [(counts["failed"], "failed"), (counts["blocked"], "blocked"), (counts["flaky"], "flaky"),
              (counts["errors"], "could not be run"), (counts["notrun"], "not run")]
    compatible = not any(n for n, _ in broken)
    strict = compatible and counts["nonstrict"] == 0
    partner = f"the {clients} relay" if judging_clients else f"{clients} clients"
    official = "the official client" if judging_clients else "the official relay"
    dependents = "the relay and its peers do not depend on" if judging_clients else "no client depends on"
    if strict:
        text = f"Compatible with {partner}, and strictly: no difference from {official} in {counts['passed']} scenarios"
    elif compatible:
        text = (f"Compatible with {partner}, not strictly: {counts['nonstrict']} scenarios differ from "
                f"{official} only in details {dependents}")
    else:
        text = f"NOT compatible with {partner}: " + ", ".join(f"{n} {what}" for n, what in broken if n)
    return {"compatible": compatible, "strict": strict, "headline": text}


def report_document(results: list[ScenarioResult], scenarios: dict[str, model.Scenario], info: RunInfo) -> dict:
    """The report as ci/report.schema.json describes it; `scenarios` maps each result's id to its scenario."""
    counts = summary(results)
    document = {
        "tool": "pyharness",
        "profile": info.profile,
        "verdict": {**headline(counts, info.clients, info.judging_clients), "strict_mode": info.strict_mode},
        "timing": {"latency_ms": round(info.timing.latency_ms, 1), "latency_source": info.timing.source,
                   "time_scale": info.timing.time_scale, "repeat": info.repeat},
        "summary": counts,
        "duration_ms": round(info.duration_ms),
        "scenarios": [_scenario_entry(result, scenarios[result.id]) for result in results],
    }
    if info.relay_url:
        document["relay_url"] = info.relay_url
    if info.transport:
        document["transport"] = info.transport
    return document


def _scenario_entry(result: ScenarioResult, scenario: model.Scenario) -> dict:
    entry = {"id": result.id, "title": scenario.title, "requirements": list(scenario.requirements),
             "verdict": result.verdict, "duration_ms": round(result.duration_ms, 1)}
    if result.blocked_by:
        entry["blocked_by"] = result.blocked_by
    if result.failure:
        entry["failure"] = dataclasses.asdict(result.failure)
    if result.nonstrict:
        entry["nonstrict"] = [dataclasses.asdict(difference) for difference in result.nonstrict]
    if result.runs:
        entry.update(runs=result.runs, passes=result.passes)
    if result.client_output:
        entry["client_output"] = result.client_output
    return entry


def write_json(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
