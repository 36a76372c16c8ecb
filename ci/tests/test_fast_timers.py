"""Fast timers (issue 13): the whole scenario library, watchdog scenarios included, against a reference
relay started with its watchdog four times faster (--watchdog-nudge-ms 2500 --watchdog-reset-ms 1250), by
both runners at time scale 0.25. Each run must pass every scenario of the default selection; it prints
its wall time (about 4 s each on an idle 2-core machine, against 17 s unscaled; a figure, not a bound,
since these machines are noisy). Not 0.1: the runner's own step times do not shrink, and at 0.1
v2-watchdog-watches-the-id failed on a loaded machine once its two clients opened more than 5 s x 0.1
apart (the first client's reset then comes before the second client's nudge).

Binaries come from build/, or from the directory RELAY_CONFORMANCE_BUILD names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RELAY_CONFORMANCE_BUILD", ROOT / "build"))
SCENARIOS = ROOT / "scenarios"
PYHARNESS = ROOT / "pyharness"

sys.path.insert(0, str(PYHARNESS))
from relay_harness.loader import default_scenario_ids  # noqa: E402
from relay_harness.relay_process import RelayProcess  # noqa: E402

SCALE = "0.25"
FAST_WATCHDOG = ["--watchdog-nudge-ms", "2500", "--watchdog-reset-ms", "1250"]
RUN_TIMEOUT_S = 60


def cpp_command(url: str, report: Path) -> list[str]:
    return [str(BUILD / "relay-conformance"), "run", "--url", url, "--time-scale", SCALE, "--json", str(report)]


def python_command(url: str, report: Path) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "relay_harness.plugin", "-p", "no:cacheprovider", "-q",
            "--relay-url", url, "--relay-time-scale", SCALE, "--scenarios", str(SCENARIOS),
            "--relay-json", str(report), str(SCENARIOS)]


@pytest.fixture(scope="module")
def fast_relay():
    for binary in ("reference-relay", "relay-conformance"):
        assert os.access(BUILD / binary, os.X_OK), f"{BUILD / binary} is not built (bash .ci/setup builds it)"
    with RelayProcess.start(BUILD / "reference-relay", *FAST_WATCHDOG) as relay:
        yield relay


@pytest.mark.parametrize("command", [cpp_command, python_command], ids=["cpp", "pyharness"])
def test_the_library_passes_at_a_quarter_scale_in_seconds(fast_relay, command, tmp_path):
    report = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PYHARNESS), os.environ.get("PYTHONPATH")]))}
    started = time.monotonic()
    done = subprocess.run(command(fast_relay.url, report), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                          env=env, cwd=tmp_path, stdin=subprocess.DEVNULL)
    wall_s = time.monotonic() - started
    output = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, f"{output}\nrelay log:\n{fast_relay.stderr_tail()}"
    document = json.loads(report.read_text(encoding="utf-8"))
    verdicts = {entry["id"]: entry["verdict"] for entry in document["scenarios"]}
    assert set(verdicts) == default_scenario_ids(SCENARIOS)
    assert set(verdicts.values()) == {"pass"}, verdicts
    assert any(id.startswith("v2-watchdog-") for id in verdicts)
    assert document["timing"]["time_scale"] == 0.25
    print(f"{command.__name__}: whole library at scale {SCALE} in {wall_s:.2f} s")


@pytest.mark.parametrize("flag", ["--watchdog-nudge-ms", "--watchdog-reset-ms"])
@pytest.mark.parametrize("value", ["0", "-5", "1s", "86400001"])
def test_the_relay_refuses_timers_that_are_not_milliseconds_up_to_a_day(flag, value):
    done = subprocess.run([str(BUILD / "reference-relay"), "--port", "0", flag, value],
                          capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert flag in done.stderr


def test_the_relay_help_shows_the_official_delays_as_defaults():
    done = subprocess.run([str(BUILD / "reference-relay"), "--help"], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip().startswith("--watchdog")}
    assert "=10000" in lines["--watchdog-nudge-ms"] and "RELAY_WATCHDOG_NUDGE_MS" in lines["--watchdog-nudge-ms"]
    assert "=5000" in lines["--watchdog-reset-ms"] and "RELAY_WATCHDOG_RESET_MS" in lines["--watchdog-reset-ms"]


@pytest.mark.parametrize("runner", ["cpp", "pyharness"])
def test_a_runner_that_starts_the_relay_scales_its_watchdog_too(runner, tmp_path):
    """Without a URL, each runner starts the reference relay itself; at --time-scale 0.25 it passes the
    relay the watchdog delays scaled to match, so the watchdog scenarios pass in a few seconds."""
    report = tmp_path / "report.json"
    if runner == "cpp":
        command = [str(BUILD / "relay-conformance"), "run", "--relay-binary", str(BUILD / "reference-relay"),
                   "--time-scale", SCALE, "--tag", "slow", "--json", str(report)]
    else:
        command = [sys.executable, "-m", "pytest", "-p", "relay_harness.plugin", "-p", "no:cacheprovider", "-q",
                   "--relay-binary", str(BUILD / "reference-relay"), "--relay-time-scale", SCALE, "-m", "slow",
                   "--scenarios", str(SCENARIOS), "--relay-json", str(report), str(SCENARIOS)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PYHARNESS), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env, cwd=tmp_path,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    verdicts = {entry["id"]: entry["verdict"] for entry in json.loads(report.read_text(encoding="utf-8"))["scenarios"]}
    assert {id for id in verdicts if id.startswith("v2-watchdog-")} and set(verdicts.values()) == {"pass"}, verdicts
