"""The local-first profile (issue 17) end to end: the real @localfirst/relay from npm (profiles/localfirst/
server, started by its launcher on an ephemeral port), checked by both runners with the profile's
scenarios; every scenario passes, and the two runners agree scenario by scenario. Then the deliberately
broken variant: profiles/localfirst/tests/deviating_proxy.py in front of the same server, one
deviation at a time; both runners fail exactly the scenarios of the requirement it breaks, and every
other scenario passes or is blocked.

The server's node_modules come from the committed lockfile: when they are missing or do not match it,
the test runs `npm ci` in profiles/localfirst/server itself (bounded by NPM_TIMEOUT_S). Without node
or npm the tests that need the server are skipped, saying so (.ci/install test installs both).

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
PROXY = ROOT / "profiles" / "localfirst" / "tests" / "deviating_proxy.py"
PYHARNESS = ROOT / "pyharness"

sys.path.insert(0, str(PYHARNESS))
from relay_harness.relay_process import first_line, stop  # noqa: E402

RUN_TIMEOUT_S = 90
NPM_TIMEOUT_S = 300  # a cold npm cache fetches 90 packages (about 4 MB)

# Each deviation of the proxy and the requirement it breaks (deviating_proxy.py says how).
DEVIATIONS = {
    "text-as-binary": "LF-CONN-3",
    "close-held": "LF-CONN-5",
    "late-joiner": "LF-INTRO-5",
    "http-404": "LF-HTTP-2",
}


def lockfile_outdated() -> str:
    """Why node_modules does not hold what package-lock.json pins ("" if it does): npm ci's own record,
    node_modules/.package-lock.json, must list the same versions (optional platform packages aside)."""
    installed_record = SERVER / "node_modules" / ".package-lock.json"
    if not installed_record.is_file():
        return "no node_modules"
    wanted = json.loads((SERVER / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    installed = json.loads(installed_record.read_text(encoding="utf-8"))["packages"]
    for path, entry in wanted.items():
        if path and not entry.get("optional") and installed.get(path, {}).get("version") != entry.get("version"):
            return f"{path} is not {entry.get('version')}"
    extra = [path for path in installed if path not in wanted or installed[path].get("version") != wanted[path].get("version")]
    return f"{extra[0]} is not in the lockfile" if extra else ""


@pytest.fixture(scope="module")
def node() -> str:
    """node, with the server's packages installed from the lockfile (npm ci when they are not)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the real local-first server needs node and npm on PATH (Debian: apt-get install nodejs npm, "
                    "as `.ci/install test` does)")
    why = lockfile_outdated()
    if why:
        try:
            done = subprocess.run([npm, "ci", "--prefix", str(SERVER), "--no-audit", "--no-fund"], capture_output=True,
                                  text=True, timeout=NPM_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`npm ci` in {SERVER} ({why}) took over {NPM_TIMEOUT_S} s")
        assert done.returncode == 0, f"`npm ci` in {SERVER} ({why}) failed:\n{done.stderr[-3000:]}"
        assert not lockfile_outdated(), f"`npm ci` left node_modules unlike the lockfile: {lockfile_outdated()}"
    return node


@pytest.fixture(scope="module")
def localfirst_url(node):
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


def run_both(url: str, where: Path) -> tuple[subprocess.CompletedProcess, dict[str, str], subprocess.CompletedProcess,
                                               dict[str, str]]:
    """The whole profile with the C++ runner, then with pyharness; their processes and verdicts."""
    cpp_report, py_report = where / "cpp.json", where / "py.json"
    cpp = subprocess.run([str(BUILD / "relay-conformance"), "run", "--profile", "localfirst", "--url", url,
                          "--json", str(cpp_report)], capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert cpp_report.is_file(), cpp.stdout[-3000:] + cpp.stderr[-2000:]
    py = subprocess.run([sys.executable, "-m", "pytest", "-p", "relay_harness.plugin", "-p", "no:cacheprovider", "-q",
                         "--relay-profile", "localfirst", "--relay-url", url, "--relay-json", str(py_report),
                         str(SCENARIOS)], cwd=where, env={**os.environ, "PYTHONPATH": str(PYHARNESS)},
                        capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert py_report.is_file(), py.stdout[-3000:] + py.stderr[-2000:]
    return cpp, verdicts(cpp_report), py, verdicts(py_report)


def test_both_runners_pass_the_profile_and_agree(localfirst_url, tmp_path):
    cpp, cpp_verdicts, py, py_verdicts = run_both(localfirst_url, tmp_path)
    assert cpp.returncode == 0, cpp.stdout[-3000:] + cpp.stderr[-2000:]
    assert "(profile localfirst)" in cpp.stdout
    assert py.returncode == 0, py.stdout[-3000:] + py.stderr[-2000:]
    assert cpp_verdicts, "the profile has no scenarios"
    assert set(cpp_verdicts.values()) == {"pass"}, cpp_verdicts
    assert cpp_verdicts == py_verdicts


def scenarios_of(requirement: str) -> set[str]:
    """Ids of the profile's scenarios that are strict about `requirement`."""
    ids = set()
    for path in SCENARIOS.glob("*.json"):
        for scenario in json.loads(path.read_text(encoding="utf-8"))["scenarios"]:
            if requirement in scenario["requirements"]:
                ids.add(scenario["id"])
    return ids


@pytest.mark.parametrize("deviation", list(DEVIATIONS))
def test_a_deviation_fails_exactly_the_scenarios_of_its_requirement(localfirst_url, tmp_path, deviation):
    requirement = DEVIATIONS[deviation]
    expected = scenarios_of(requirement)
    assert expected, f"no scenario checks {requirement}"
    proxy = subprocess.Popen([sys.executable, str(PROXY), "--target", localfirst_url, "--deviation", deviation],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        cpp, cpp_verdicts, py, py_verdicts = run_both(first_line(proxy), tmp_path)
    finally:
        status = stop(proxy)
    assert status == 0, proxy.stderr.read().decode(errors="replace")[-2000:]
    assert cpp.returncode == 1 and py.returncode == 1, cpp.stdout[-3000:] + py.stdout[-3000:]
    for runner, found in (("relay-conformance", cpp_verdicts), ("pyharness", py_verdicts)):
        failed = {scenario for scenario, verdict in found.items() if verdict == "fail"}
        assert failed == expected, f"{runner} with {deviation}: failed {sorted(failed)}, expected {sorted(expected)}"
        others = {scenario: verdict for scenario, verdict in found.items() if verdict not in ("fail", "pass", "blocked")}
        assert not others, f"{runner} with {deviation}: {others}"
    assert cpp_verdicts == py_verdicts


def test_coverage_reads_the_profile_requirements_and_scenarios():
    """`list --profile localfirst --coverage`: the profile's scenarios only, and every requirement of
    docs/profiles/localfirst.md, none of protocol.md, each checked by a scenario."""
    assert os.access(BUILD / "relay-conformance", os.X_OK), f"{BUILD / 'relay-conformance'} is not built"
    done = subprocess.run([str(BUILD / "relay-conformance"), "list", "--profile", "localfirst", "--coverage"],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    listed, coverage = done.stdout.split("\ncoverage of profile localfirst (requirement: scenarios)\n")
    assert all(line.startswith("lf-") for line in listed.splitlines()[:-1]), listed
    requirements = [line.split(":")[0].strip() for line in coverage.splitlines() if line.startswith("  ")]
    assert requirements and all(r.startswith("LF-") for r in requirements), coverage
    assert "NOT COVERED" not in coverage, "every requirement of the profile has a scenario:\n" + coverage
