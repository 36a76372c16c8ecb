"""The scenario library through the plugin, as a user runs it: against the session's relay every
scenario must pass on every transport, the report must follow ci/report.schema.json, and the C++
runner, when built, must give every scenario the same verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from relay_harness import loader
from relay_harness.client import TRANSPORTS
from relay_harness.plugin import DEFAULT_SCENARIOS, REPO_ROOT

PYHARNESS = Path(__file__).resolve().parents[1]
CPP_RUNNER = REPO_ROOT / "build" / "relay-conformance"
REPORT_SCHEMA = REPO_ROOT / "ci" / "report.schema.json"
RUN_TIMEOUT_S = 180


def verdicts_of(report: Path) -> dict[str, dict]:
    return {entry["id"]: entry for entry in json.loads(report.read_text(encoding="utf-8"))["scenarios"]}


@pytest.fixture(scope="session")
def python_report(relay_url: str, tmp_path_factory) -> Path:
    """Runs the library once in a child pytest, the way docs/pyharness.md says to, on every transport."""
    report = tmp_path_factory.mktemp("pyharness") / "report.json"
    command = [sys.executable, "-m", "pytest", "-p", "relay_harness.plugin", "-p", "no:cacheprovider", "-q",
               "--relay-url", relay_url, "--relay-transport", "all", "--relay-json", str(report), str(DEFAULT_SCENARIOS)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PYHARNESS), os.environ.get("PYTHONPATH")]))}
    completed = subprocess.run(command, cwd=tmp_path_factory.getbasetemp(), env=env, capture_output=True,
                               text=True, timeout=RUN_TIMEOUT_S)
    assert report.exists(), f"the harness wrote no report:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return report


@pytest.fixture(scope="session")
def python_verdicts(python_report: Path) -> dict[str, dict]:
    return verdicts_of(python_report)


@pytest.fixture(scope="session")
def long_ids(schema) -> set[str]:
    return {s.id for s in loader.load_library(DEFAULT_SCENARIOS, schema) if "long" in s.tags}


def test_reference_relay_passes_the_library_on_every_transport(python_verdicts, long_ids, schema):
    every_id = {s.id for s in loader.load_library(DEFAULT_SCENARIOS, schema)}
    assert set(python_verdicts) == {f"{id}[{transport}]" for id in every_id - long_ids for transport in TRANSPORTS}, \
        "every scenario not tagged long must have run on every transport"
    failures = [f"{id}: {entry['verdict']} {entry.get('failure') or entry.get('nonstrict')}"
                for id, entry in sorted(python_verdicts.items()) if entry["verdict"] != "pass"]
    assert not failures, "\n".join(failures)


def test_library_report_follows_the_schema(python_report):
    document = json.loads(python_report.read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(REPORT_SCHEMA.read_text(encoding="utf-8")),
                        cls=jsonschema.Draft202012Validator)
    assert document["verdict"]["strict"], document["verdict"]["headline"]


def test_cpp_and_python_runners_agree(relay_url, python_verdicts, long_ids, tmp_path):
    if not os.access(CPP_RUNNER, os.X_OK):
        pytest.skip(f"C++ runner not built: {CPP_RUNNER} is absent (bash .ci/setup builds it)")
    report = tmp_path / "cpp.json"
    completed = subprocess.run([str(CPP_RUNNER), "run", "--url", relay_url, "--json", str(report)],
                               capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert report.exists(), f"relay-conformance wrote no report (exit {completed.returncode}):\n{completed.stderr[-3000:]}"
    cpp_verdicts = verdicts_of(report)
    python_plain = {id.removesuffix("[plain]"): entry for id, entry in python_verdicts.items() if id.endswith("[plain]")}
    differences = []
    for scenario_id in sorted((set(cpp_verdicts) | set(python_plain)) - long_ids):
        cpp = cpp_verdicts.get(scenario_id, {}).get("verdict", "missing")
        python = python_plain.get(scenario_id, {}).get("verdict", "missing")
        if cpp != python:
            differences.append(f"scenario {scenario_id}: C++ runner says {cpp}, Python harness says {python}")
    assert not differences, "\n".join(differences)
