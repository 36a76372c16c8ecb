"""The plugin as a user meets it, through pytester: collection, selection, options, verdicts, reports."""

import json
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest

from relay_harness.plugin import REPO_ROOT

DATA = Path(__file__).parent / "data"
PASSING = DATA / "passing.json"
FAILING = DATA / "failing.json"
MALFORMED = DATA / "malformed.json"
NONSTRICT = DATA / "nonstrict.json"
REPORT_SCHEMA = REPO_ROOT / "ci" / "report.schema.json"


@pytest.fixture
def scenarios(pytester: pytest.Pytester):
    """Copies the named data files into a scenarios/ folder of the pytester directory."""

    def copy(*files: Path) -> Path:
        directory = pytester.path / "scenarios"
        directory.mkdir(exist_ok=True)
        for file in files:
            shutil.copy(file, directory / file.name)
        return directory

    return copy


def run(pytester: pytest.Pytester, directory: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "relay_harness.plugin", "--scenarios", str(directory),
                                        str(directory), *args)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_passing_scenarios_pass(pytester, scenarios, relay_url):
    result = run(pytester, scenarios(PASSING), "--relay-url", relay_url, "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*passing.json::demo-health PASSED*", "*passing.json::demo-sync-and-capture PASSED*"])


def test_failure_names_requirement_step_expected_actual_and_wire_log(pytester, scenarios, relay_url):
    result = run(pytester, scenarios(FAILING), "--relay-url", relay_url)
    result.assert_outcomes(failed=2, skipped=1)
    result.stdout.fnmatch_lines([
        "*_ scenario: demo-wrong-sync _*",
        "scenario demo-wrong-sync failed: Expects a sync*",
        "requirement: V2-CTRL-1 (MUST)",
        'step 2: {"expect":"control","one_of":*',
        "note: deliberately wrong",
        'expected: text frame with JSON {"type":"sync","connectionIds":["nobody"]}',
        "      or: close frame 1011",
        'actual:   text frame `{"type":"sync","connectionIds":[]}` (at /connectionIds: expected 1 elements, got 0)',
        "file: *failing.json",
        "recent wire log:",
        "*control < HTTP 101 Switching Protocols",
    ])


def test_failing_precondition_is_blocked(pytester, scenarios, relay_url):
    result = run(pytester, scenarios(FAILING), "--relay-url", relay_url, "-k", "demo-wrong-status")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "scenario demo-wrong-status blocked: Expects /health to be missing*",
        "blocked by: HTTP-1, a precondition of this scenario (which checks HTTP-2); its own scenarios fail",
        'step 1: {"http":{"path":"/health"},*', "expected: HTTP 404", "actual:   HTTP 200 OK *",
        "NOT compatible with Paseo clients: 1 blocked",
    ])


def test_nonstrict_passes_and_is_shown(pytester, scenarios, relay_url):
    result = run(pytester, scenarios(NONSTRICT, PASSING), "--relay-url", relay_url, "-v")
    assert result.ret == pytest.ExitCode.OK
    assert result.parseoutcomes() == {"passed": 2, "nonstrict": 1}
    result.stdout.fnmatch_lines([
        "*nonstrict.json::demo-nonstrict NONSTRICT*",
        "Compatible with Paseo clients, not strictly: 1 scenarios differ from the official relay *",
        'demo-nonstrict non-strict: step 1 (HTTP-1): header content-type at /: expected "application/json;charset=UTF-8", got "application/json"',
    ])


def test_nonstrict_fails_in_strict_mode(pytester, scenarios, relay_url):
    result = run(pytester, scenarios(NONSTRICT), "--relay-url", relay_url, "--relay-strict")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "scenario demo-nonstrict differs from the official relay in non-strict details: *",
        'non-strict: step 1 (HTTP-1): header content-type at /: expected "application/json;charset=UTF-8", got "application/json"',
    ])


def test_malformed_file_is_a_collection_error_naming_the_field(pytester, scenarios, relay_url):
    result = run(pytester, scenarios(MALFORMED, PASSING), "--relay-url", relay_url)
    result.stdout.fnmatch_lines(["*ERROR collecting*malformed.json*",
                                 "*malformed.json: scenario demo-malformed step 2: /within: unknown field*"])
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_duplicate_ids_across_files(pytester, scenarios, relay_url):
    directory = scenarios(PASSING)
    shutil.copy(PASSING, directory / "again.json")
    result = run(pytester, directory, "--relay-url", relay_url)
    result.stdout.fnmatch_lines(["*scenario demo-health: id already used in *"])


@pytest.mark.parametrize("selection, selected", [
    (["-m", "v2"], ["demo-sync-and-capture", "demo-wrong-sync"]),
    (["-k", "demo-health"], ["demo-health"]),
    (["--requirement", "HTTP-2", "--requirement", "V2-CLIENT-1"], ["demo-sync-and-capture", "demo-wrong-status"]),
    (["--requirement", "V2-C*-1"], ["demo-sync-and-capture", "demo-wrong-sync"]),
])
def test_selection(pytester, scenarios, relay_url, selection, selected):
    result = run(pytester, scenarios(PASSING, FAILING), "--relay-url", relay_url, "--collect-only", "-q", *selection)
    listed = [line.rsplit("::", 1)[1] for line in result.stdout.lines if "::" in line]
    assert sorted(listed) == selected


def test_long_scenarios_run_only_when_asked(pytester, scenarios, relay_url):
    directory = scenarios(FAILING)
    run(pytester, directory, "--relay-url", relay_url, "-k", "long", "-rs").stdout.fnmatch_lines(
        ["*SKIPPED*tagged long: runs only with --include-long*"])
    run(pytester, directory, "--relay-url", relay_url, "-k", "long", "--include-long").assert_outcomes(passed=1)


def test_dead_relay_is_a_setup_error(pytester, scenarios):
    url = f"ws://127.0.0.1:{closed_port()}"
    result = run(pytester, scenarios(PASSING), "--relay-url", url)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines([f"*relay {url} is not reachable: cannot connect to *"])


def test_runner_error_is_a_setup_error_and_a_junit_error(pytester, scenarios, relay_url, tmp_path):
    directory = pytester.path / "errors"
    directory.mkdir()
    (directory / "unknown-variable.json").write_text(json.dumps({"section": "T", "scenarios": [{
        "id": "uses-unknown-variable", "title": "t", "requirements": ["V1-2"], "level": "MUST", "tags": [],
        "sockets": {"s": {"v": "1", "role": "server"}},
        "steps": [{"open": "s"}, {"send": "s", "text": "${never_captured}"}]}]}))
    junit = tmp_path / "junit.xml"
    result = run(pytester, directory, "--relay-url", relay_url, f"--junitxml={junit}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["scenario uses-unknown-variable could not be run (runner error)*",
                                 "problem:  unknown variable ${never_captured}"])
    assert "<error" in junit.read_text() and "<failure" not in junit.read_text()


def test_json_report_follows_the_schema(pytester, scenarios, relay_url, tmp_path):
    report = tmp_path / "report.json"
    run(pytester, scenarios(PASSING, FAILING, NONSTRICT), "--relay-url", relay_url, "--relay-json", str(report))
    document = json.loads(report.read_text())
    jsonschema.validate(document, json.loads(REPORT_SCHEMA.read_text()), cls=jsonschema.Draft202012Validator)
    entries = {entry["id"]: entry for entry in document["scenarios"]}
    assert {id: entry["verdict"] for id, entry in entries.items()} == {
        "demo-health": "pass", "demo-sync-and-capture": "pass", "demo-nonstrict": "nonstrict",
        "demo-wrong-sync": "fail", "demo-wrong-status": "blocked"}
    assert document["summary"] == {"total": 5, "passed": 2, "nonstrict": 1, "failed": 1, "blocked": 1, "errors": 0,
                                   "notrun": 0, "flaky": 0}
    assert (document["tool"], document["verdict"]["compatible"], document["timing"]["latency_source"]) == (
        "pyharness", False, "calibrated")
    failure = entries["demo-wrong-sync"]["failure"]
    assert (failure["requirement"], failure["step"], failure["socket"]) == ("V2-CTRL-1", 2, "control")
    assert failure["actual"] == 'text frame `{"type":"sync","connectionIds":[]}`'
    assert failure["message"] == "at /connectionIds: expected 1 elements, got 0"
    assert entries["demo-wrong-status"]["blocked_by"] == "HTTP-1"
    assert entries["demo-nonstrict"]["nonstrict"] == [{"step": 1, "requirement": "HTTP-1", "detail": (
        'header content-type at /: expected "application/json;charset=UTF-8", got "application/json"')}]


def test_starts_the_reference_relay_without_a_url(pytester, scenarios, relay_binary):
    run(pytester, scenarios(PASSING), "--relay-binary", str(relay_binary)).assert_outcomes(passed=2)


def test_missing_relay_binary(pytester, scenarios, tmp_path):
    result = run(pytester, scenarios(PASSING), "--relay-binary", str(tmp_path / "nope"))
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*cannot start the reference relay: no relay binary at *nope*"])


def test_bad_command_line_option_names_its_source(pytester, scenarios):
    result = run(pytester, scenarios(PASSING), "--relay-url", "http://127.0.0.1:1")
    result.stderr.fnmatch_lines(["*command line option --relay-url: expected a ws:// URL, got 'http://127.0.0.1:1'"])


def test_bad_ini_option_names_its_source(pytester, scenarios):
    pytester.makeini("[pytest]\nrelay_step_timeout = soon\n")
    result = run(pytester, scenarios(PASSING))
    result.stderr.fnmatch_lines(["*ini option relay_step_timeout in *tox.ini: expected a positive number of milliseconds, got 'soon'"])


def test_bad_requirement_option(pytester, scenarios):
    result = run(pytester, scenarios(PASSING), "--requirement", "v2-ctrl-1")
    result.stderr.fnmatch_lines(["*command line option --requirement: 'v2-ctrl-1' is not a requirement id*"])


# --- timing, repeat, transports ------------------------------------------------------------------

@pytest.fixture
def flip_server():
    """A plain HTTP server standing in for a relay: it records every request path, and answers /flip
    with 200 and 500 in turn (a scenario on it is flaky); anything else gets 404."""
    paths = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            paths.append(self.path)
            status = 404 if self.path != "/flip" else (200 if paths.count("/flip") % 2 else 500)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"ws://127.0.0.1:{server.server_address[1]}", paths
    server.shutdown()
    server.server_close()


def http_scenarios(pytester, *paths: str) -> Path:
    """A scenario file with one scenario per path, each expecting 200 from it."""
    directory = pytester.path / "http-scenarios"
    directory.mkdir()
    scenarios = [{"id": f"get-{index}", "title": f"GET {path}", "requirements": ["HTTP-1"], "level": "MUST",
                  "tags": [], "sockets": {}, "steps": [{"http": {"path": path}, "response": {"status": 200}}]}
                 for index, path in enumerate(paths)]
    (directory / "http.json").write_text(json.dumps({"section": "T", "scenarios": scenarios}))
    return directory


def test_calibrates_once_per_session_and_shows_it(pytester, flip_server):
    url, paths = flip_server
    result = run(pytester, http_scenarios(pytester, "/a", "/b", "/c"), "--relay-url", url)
    result.assert_outcomes(failed=3)
    assert paths.count("/") == 5, "five calibration exchanges for the whole session"
    result.stdout.fnmatch_lines(["*= relay-harness =*",
                                 "latency * ms (calibrated: slowest of GET / exchanges taking *); allowance max(100 ms, 2 x latency); time scale 1"])


def test_given_latency_skips_calibration(pytester, flip_server, tmp_path):
    url, paths = flip_server
    report = tmp_path / "report.json"
    result = run(pytester, http_scenarios(pytester, "/a"), "--relay-url", url, "--relay-latency-ms", "250",
                 "--relay-time-scale", "0.5", "--relay-json", str(report))
    assert "/" not in paths
    result.stdout.fnmatch_lines(["latency 250 ms (given); allowance max(100 ms, 2 x latency); time scale 0.5"])
    assert json.loads(report.read_text())["timing"] == {"latency_ms": 250, "latency_source": "given",
                                                        "time_scale": 0.5, "repeat": 1}


def test_repeat_counts_passes_and_reports_flaky_runs(pytester, flip_server, tmp_path):
    url, _ = flip_server
    report = tmp_path / "report.json"
    result = run(pytester, http_scenarios(pytester, "/flip", "/health"), "--relay-url", url, "--relay-repeat", "3",
                 "--relay-json", str(report))
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["scenario get-0 is flaky: GET /flip",
                                 "runs: pass, fail, pass (2 of 3 passed); details of the first that did not pass",
                                 "actual:   HTTP 500 *"])
    document = json.loads(report.read_text())
    jsonschema.validate(document, json.loads(REPORT_SCHEMA.read_text()), cls=jsonschema.Draft202012Validator)
    entries = {entry["id"]: entry for entry in document["scenarios"]}
    assert (entries["get-0"]["verdict"], entries["get-0"]["runs"], entries["get-0"]["passes"]) == (
        "flaky", ["pass", "fail", "pass"], 2)
    assert (entries["get-1"]["verdict"], entries["get-1"]["runs"], entries["get-1"]["passes"]) == (
        "fail", ["fail", "fail", "fail"], 0)
    assert document["summary"]["flaky"] == 1 and document["timing"]["repeat"] == 3


def test_transport_all_runs_every_scenario_on_every_transport(pytester, scenarios, relay_url, tmp_path):
    report = tmp_path / "report.json"
    result = run(pytester, scenarios(PASSING), "--relay-url", relay_url, "--relay-transport", "all", "-v",
                 "--relay-json", str(report))
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*passing.json::demo-sync-and-capture?plain? PASSED*",
                                 "*passing.json::demo-sync-and-capture?deflate? PASSED*",
                                 "*passing.json::demo-sync-and-capture?fragmented? PASSED*"])
    document = json.loads(report.read_text())
    assert "demo-health[deflate]" in {entry["id"] for entry in document["scenarios"]}
    assert "transport" not in document


@pytest.mark.parametrize("option, value, problem", [
    ("--relay-repeat", "0", "expected a positive number of runs, got '0'"),
    ("--relay-latency-ms", "-1", "expected a number of milliseconds, 0 or more, got '-1'"),
    ("--relay-time-scale", "nan", "expected a number above 0, got 'nan'"),
    ("--relay-transport", "zip", "expected one of plain, deflate, fragmented or all, got 'zip'"),
])
def test_bad_timing_and_transport_options(pytester, scenarios, option, value, problem):
    result = run(pytester, scenarios(PASSING), option, value)
    result.stderr.fnmatch_lines([f"*command line option {option}: {problem}"])


def test_timing_options_from_the_ini_file(pytester, scenarios):
    pytester.makeini("[pytest]\nrelay_time_scale = 0\n")
    result = run(pytester, scenarios(PASSING))
    result.stderr.fnmatch_lines(["*ini option relay_time_scale in *tox.ini: expected a number above 0, got '0'"])
