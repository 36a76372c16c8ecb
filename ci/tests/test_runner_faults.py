"""Faults around a run, end to end with the C++ runner: a report that cannot be written fails the run
instead of passing silently, and a reference relay that dies mid-run leaves its last words."""

import os
import pathlib
import stat
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNNER = ROOT / "build" / "relay-conformance"
GRADED = pathlib.Path(__file__).parent / "data" / "graded"


def test_an_expectations_file_that_cannot_be_written_is_a_usage_error(tmp_path):
    target = tmp_path / "no-such-folder" / "expectations.json"
    done = subprocess.run([str(RUNNER), "run", "--scenarios", str(GRADED), "--id", "grade-strict-pass",
                           "--write-expectations", str(target)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot write {target}" in done.stderr


def test_a_relay_that_dies_mid_run_says_why(tmp_path):
    # Prints a URL where nothing listens, complains and exits: every scenario finds the relay gone.
    fake = tmp_path / "dying-relay"
    fake.write_text("#!/bin/sh\necho ws://127.0.0.1:9\necho 'relay: out of memory, giving up' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    done = subprocess.run([str(RUNNER), "run", "--scenarios", str(GRADED), "--relay-binary", str(fake), "--latency", "1"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "LANG": "C.UTF-8"})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "relay: out of memory, giving up" in done.stderr
