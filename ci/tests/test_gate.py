"""The ci/ kit end to end: the gate script against the reference relay (passes) and against a relay
that deviates (fails, naming the deviation); the JUnit it writes fits ci/junit.xsd; the HTML report
loads in headless Chromium without script errors and shows the failing scenario."""

import json
import pathlib
import shutil
import socket
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
GATE = ROOT / "ci" / "gate.sh"
FAST = ["--", "--exclude", "tag:slow"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gate(reports: pathlib.Path, relay_args: str = "", extra=FAST) -> subprocess.CompletedProcess:
    port = free_port()
    command = [str(GATE), "--relay-cmd", f"{BUILD / 'reference-relay'} --port {port} {relay_args}",
               "--url", f"ws://127.0.0.1:{port}", "--reports", str(reports),
               "--runner", str(BUILD / "relay-conformance"), "--health-timeout", "20", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def deviating_run(tmp_path_factory):
    reports = tmp_path_factory.mktemp("deviating")
    # A relay capped at 1 MiB deviates from LIMIT-1: the official relay forwards messages up to 32 MiB.
    return gate(reports, "--max-message-bytes 1048576", ["--", "--tag", "limits"]), reports


def test_gate_passes_the_reference_relay_and_writes_every_report(tmp_path):
    run = gate(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    for name in ("report.json", "junit.xml", "report.html", "relay.log"):
        assert (tmp_path / name).exists(), name
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["failed"] == 0 and report["summary"]["passed"] > 40


def test_gate_fails_a_deviating_relay_and_names_the_deviation(deviating_run):
    run, reports = deviating_run
    assert run.returncode == 1, run.stdout + run.stderr
    report = json.loads((reports / "report.json").read_text())
    failing = {s["id"]: s for s in report["scenarios"] if s["verdict"] == "fail"}
    assert "limit-32-mib-message-passes" in failing
    assert failing["limit-32-mib-message-passes"]["failure"]["requirement"] == "LIMIT-1"
    assert "LIMIT-1" in run.stdout


def test_gate_reports_a_relay_that_never_gets_healthy(tmp_path):
    command = [str(GATE), "--relay-cmd", "echo cannot start; exit 3", "--url", f"ws://127.0.0.1:{free_port()}",
               "--reports", str(tmp_path), "--runner", str(BUILD / "relay-conformance"), "--health-timeout", "5"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "cannot start" in run.stderr


def test_junit_fits_the_common_schema(deviating_run):
    _, reports = deviating_run
    check = subprocess.run(["xmllint", "--noout", "--schema", str(ROOT / "ci" / "junit.xsd"), str(reports / "junit.xml")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    xml = (reports / "junit.xml").read_text()
    assert '<failure type="LIMIT-1"' in xml
    assert 'name="suite_version"' in xml and 'name="relay_url"' in xml


def test_html_report_loads_in_chromium_and_shows_the_failure(deviating_run, tmp_path):
    _, reports = deviating_run
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed; .ci/install test installs it"
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600"]
    url = (reports / "report.html").as_uri()
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    assert 'data-ready="1"' in dom, "the report's script did not finish"
    assert "data-script-errors" not in dom
    assert 'id="limit-32-mib-message-passes" data-verdict="fail"' in dom
    shot = BUILD / "test-output" / "report.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000
