"""The whole scenario library through HAProxy in front of three reference relays: by the C++ runner
over ws:// and over wss:// (TLS ended at HAProxy, a throwaway CA), and by pyharness over ws://. The
scenarios' serverIds spread over the nodes; each run must pass every scenario of the default selection
but one: http-broken-handshake, which HAProxy answers itself (deploy/haproxy/expectations.json says
how; the C++ runner takes that file, pyharness leaves the scenario out).

Nodes run their watchdog twice as fast and the runners at time scale 0.5: at 0.1 the quiet window of
v1-no-buffering (50 ms) is shorter than a frame's trip through HAProxy on a busy machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from cluster import BUILD, ROOT
from relay_harness.loader import default_scenario_ids

SCENARIOS = ROOT / "scenarios"
PYHARNESS = ROOT / "pyharness"
EXPECTATIONS = ROOT / "deploy" / "haproxy" / "expectations.json"
ANSWERED_BY_HAPROXY = "http-broken-handshake"
SCALE = "0.5"
FAST_WATCHDOG = ("--watchdog-nudge-ms", "5000", "--watchdog-reset-ms", "2500")
RUN_TIMEOUT_S = 90


def cpp_ws(cluster, report):
    return [str(BUILD / "relay-conformance"), "run", "--url", cluster.ws_url(), "--time-scale", SCALE,
            "--expectations", str(EXPECTATIONS), "--json", str(report)]


def cpp_wss(cluster, report):
    return [str(BUILD / "relay-conformance"), "run", "--url", cluster.wss_url(), "--ca-file", str(cluster.certificate.ca),
            "--time-scale", SCALE, "--expectations", str(EXPECTATIONS), "--json", str(report)]


def pyharness_ws(cluster, report):
    return [sys.executable, "-m", "pytest", "-p", "relay_harness.plugin", "-p", "no:cacheprovider", "-q",
            "--relay-url", cluster.ws_url(), "--relay-time-scale", SCALE, "--scenarios", str(SCENARIOS),
            "--relay-json", str(report), "-k", f"not {ANSWERED_BY_HAPROXY}", str(SCENARIOS)]


@pytest.mark.parametrize("command", [cpp_ws, cpp_wss, pyharness_ws], ids=["cpp-ws", "cpp-wss", "pyharness-ws"])
def test_the_library_passes_through_haproxy(start_cluster, command, tmp_path):
    cluster = start_cluster(node_args=FAST_WATCHDOG)
    report = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PYHARNESS), os.environ.get("PYTHONPATH")]))}
    started = time.monotonic()
    done = subprocess.run(command(cluster, report), capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env,
                          cwd=tmp_path, stdin=subprocess.DEVNULL)
    wall_s = time.monotonic() - started
    assert done.returncode == 0, f"{done.stdout[-4000:]}{done.stderr[-2000:]}\n{cluster.logs()}"
    verdicts = {entry["id"]: entry["verdict"] for entry in json.loads(report.read_text(encoding="utf-8"))["scenarios"]}
    passed = {id for id, verdict in verdicts.items() if verdict == "pass"}
    assert passed == default_scenario_ids(SCENARIOS) - {ANSWERED_BY_HAPROXY}, verdicts
    print(f"{command.__name__}: {len(verdicts)} scenarios through HAProxy in {wall_s:.2f} s")
