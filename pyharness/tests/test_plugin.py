"""The plugin as a user meets it, through pytester: collection, selection, options, reports."""

import json
import shutil
import socket
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
PASSING = DATA / "passing.json"
FAILING = DATA / "failing.json"
MALFORMED = DATA / "malformed.json"


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
        'step 1: {"expect":"control","one_of":*',
        "note: deliberately wrong",
        'expected: text frame with JSON {"type":"sync","connectionIds":["nobody"]}',
        "      or: close frame 1011",
        'actual:   text frame `{"type":"sync","connectionIds":[]}` (at /connectionIds: expected 1 elements, got 0)',
        "file: *failing.json",
        "recent wire log:",
        "*control < HTTP 101 Switching Protocols",
    ])
    result.stdout.fnmatch_lines(["requirement: HTTP-1 (MUST)", "expected: HTTP 404", "actual:   HTTP 200 OK *"])


def test_malformed_file_is_a_collection_error_naming_the_field(pytester, scenarios, relay_url):
    result = run(pytester, scenarios(MALFORMED, PASSING), "--relay-url", relay_url)
    result.stdout.fnmatch_lines(["*ERROR collecting*malformed.json*",
                                 "*malformed.json: scenario demo-malformed step 1: /within: unknown field*"])
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


def test_json_report(pytester, scenarios, relay_url, tmp_path):
    report = tmp_path / "report.json"
    run(pytester, scenarios(PASSING, FAILING), "--relay-url", relay_url, "--relay-json", str(report))
    verdicts = {entry["id"]: entry["verdict"] for entry in json.loads(report.read_text())["scenarios"]}
    assert verdicts == {"demo-health": "pass", "demo-sync-and-capture": "pass",
                        "demo-wrong-sync": "fail", "demo-wrong-status": "fail"}


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
