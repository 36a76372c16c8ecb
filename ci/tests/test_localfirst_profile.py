"""The local-first profile (issue 17) end to end: the real @localfirst/relay from npm (profiles/localfirst/
server, started by its launcher on an ephemeral port), checked by both runners with the profile's
scenarios; every scenario passes, and the two runners agree scenario by scenario. The server's
node_modules come from `npm ci` in profiles/localfirst/server (its lockfile is committed); without
node or node_modules the test is skipped, saying so.

Binaries come from build/, or from the directory RELAY_CONFORMANCE_BUILD names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RELAY_CONFORMANCE_BUILD", ROOT / "build"))
SERVER = ROOT / "profiles" / "localfirst" / "server"
SCENARIOS = ROOT / "profiles" / "localfirst" / "scenarios"
PYHARNESS = ROOT / "pyharness"

sys.path.insert(0, str(PYHARNESS))
from relay_harness.relay_process import first_line, stop  # noqa: E402

RUN_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def localfirst_url():
    node = shutil.which("node")
    if node is None or not (SERVER / "node_modules" / "@localfirst" / "relay").is_dir():
        pytest.skip(f"needs node and `npm ci` in {SERVER}")
    assert os.access(BUILD / "relay-conformance", os.X_OK), f"{BUILD / 'relay-conformance'} is not built"
    process = subprocess.Popen([node, "start.mjs", "--port", "0"], cwd=SERVER, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        yield first_line(process)
    finally:
        stop(process)


def verdicts(report: Path) -> dict[str, str]:
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["profile"] == "localfirst"
    return {entry["id"]: entry["verdict"] for entry in document["scenarios"]}


def test_both_runners_pass_the_profile_and_agree(localfirst_url, tmp_path):
    cpp_report, py_report = tmp_path / "cpp.json", tmp_path / "py.json"
    cpp = subprocess.run([str(BUILD / "relay-conformance"), "run", "--profile", "localfirst", "--url", localfirst_url,
                          "--json", str(cpp_report)], capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert cpp.returncode == 0, cpp.stdout[-3000:] + cpp.stderr[-2000:]
    assert "(profile localfirst)" in cpp.stdout
    py = subprocess.run([sys.executable, "-m", "pytest", "-p", "relay_harness.plugin", "-p", "no:cacheprovider", "-q",
                         "--relay-profile", "localfirst", "--relay-url", localfirst_url, "--relay-json", str(py_report),
                         str(SCENARIOS)], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PYHARNESS)},
                        capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert py.returncode == 0, py.stdout[-3000:] + py.stderr[-2000:]
    cpp_verdicts, py_verdicts = verdicts(cpp_report), verdicts(py_report)
    assert cpp_verdicts, "the profile has no scenarios"
    assert set(cpp_verdicts.values()) == {"pass"}, cpp_verdicts
    assert cpp_verdicts == py_verdicts


def test_coverage_reads_the_profile_requirements_and_scenarios():
    """`list --profile localfirst --coverage`: the profile's scenarios only, and every requirement of
    docs/profiles/localfirst.md, none of protocol.md."""
    assert os.access(BUILD / "relay-conformance", os.X_OK), f"{BUILD / 'relay-conformance'} is not built"
    done = subprocess.run([str(BUILD / "relay-conformance"), "list", "--profile", "localfirst", "--coverage"],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    listed, coverage = done.stdout.split("\ncoverage of profile localfirst (requirement: scenarios)\n")
    assert all(line.startswith("lf-") for line in listed.splitlines()[:-1]), listed
    requirements = [line.split(":")[0].strip() for line in coverage.splitlines() if line.startswith("  ")]
    assert requirements and all(r.startswith("LF-") for r in requirements), coverage
