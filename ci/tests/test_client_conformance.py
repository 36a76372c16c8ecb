"""Client checks (issue 14) end to end: both runners play the relay for the model daemon and the model
app (client-scenarios/tests/model_daemon.py, model_app.py) in their correct mode and in each
deliberately broken one.

- `good` passes every scenario of its kind, long ones included, with each runner.
- Each broken mode fails exactly the scenarios of the requirement it breaks, and passes (or, where a
  precondition of that requirement is what a scenario needs, is blocked in) the others run with it. To
  keep CI time reasonable a broken mode runs only its requirement's scenarios plus a few it must pass.
- Both runners give every scenario the same verdict and name the same requirement.
- ci/gate-client.sh passes `good` (exit 0) and fails a broken mode (exit 1) with its reports.

Every run spends its time waiting on the clients' timers, so all of them start together, a few at a time,
when the module's first check asks for one. The official daemon and app are not run here (they are not
part of the project); docs/client-protocol.md says how they fared.
Binaries come from build/, or from the directory RELAY_CONFORMANCE_BUILD names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RELAY_CONFORMANCE_BUILD", ROOT / "build"))
CLIENT_SCENARIOS = ROOT / "client-scenarios"
PYHARNESS = ROOT / "pyharness"
GATE = ROOT / "ci" / "gate-client.sh"
PYTHON = "/usr/bin/python3"
RUN_TIMEOUT_S = 900
RUNS_AT_ONCE = 6


@dataclass(frozen=True)
class Kind:
    model: Path
    # What a relay can see of this client: the requirements its scenarios must cover.
    checkable: frozenset[str]
    # mode: (the requirement it breaks, {scenario: verdict} run with it besides that requirement's
    # scenarios, which all fail).
    broken: dict[str, tuple[str, dict[str, str]]]

    def scenarios(self, kind: str) -> dict[str, dict]:
        """Every scenario of this kind by id, with the file it is in."""
        found = {}
        for path in sorted((CLIENT_SCENARIOS / kind).glob("*.json")):
            for scenario in json.loads(path.read_text(encoding="utf-8"))["scenarios"]:
                found[scenario["id"]] = {**scenario, "file": path}
        return found


KINDS = {
    "daemon": Kind(CLIENT_SCENARIOS / "tests" / "model_daemon.py", frozenset(f"DAEMON-{n}" for n in range(1, 12)), {
        "no-data-sockets": ("DAEMON-3", {"daemon-connected-opens": "pass", "daemon-disconnected-closes": "pass",
                                         "daemon-data-in-time-sync": "blocked"}),
        "late-data": ("DAEMON-5", {"daemon-sync-opens-each": "pass", "daemon-connected-opens": "pass"}),
        "no-backoff": ("DAEMON-8", {"daemon-ready-timeout": "pass", "daemon-control-request": "pass"}),
        "no-ping": ("DAEMON-2", {"daemon-pong-answer": "pass", "daemon-backoff-resets": "pass"}),
        "reopen-after-1001": ("DAEMON-7", {"daemon-disconnected-closes": "pass", "daemon-sync-none-twice": "pass"}),
    }),
    # APP-5 needs an established (E2EE) connection, which a relay cannot see.
    "app": Kind(CLIENT_SCENARIOS / "tests" / "model_app.py", frozenset({"APP-1", "APP-2", "APP-3", "APP-4", "APP-6", "APP-7"}), {
        # Its own timeout still starts a new attempt, so APP-3 holds; the new socket a hello scenario needs never comes.
        "no-reconnect": ("APP-4", {"app-hello-on-new-socket": "blocked", "app-connect-timeout": "pass"}),
        "no-backoff": ("APP-4", {"app-hello-first": "pass"}),
        # Sending nothing is sending nothing but hellos.
        "no-hello": ("APP-2", {"app-only-hellos-before-handshake": "pass"}),
        "leak-timed-out": ("APP-7", {"app-connect-timeout": "pass"}),
    }),
}
SCENARIOS = {kind: spec.scenarios(kind) for kind, spec in KINDS.items()}
MODES = [(kind, mode) for kind, spec in KINDS.items() for mode in ["good", *spec.broken]]


def of(kind: str, requirement: str) -> set[str]:
    return {id for id, s in SCENARIOS[kind].items() if requirement in s["requirements"]}


def client_cmd(kind: str, mode: str) -> str:
    return f"{PYTHON} {KINDS[kind].model} --url {{url}} --mode {mode}"


def selection(kind: str, mode: str) -> list[str] | None:
    """The scenario ids a mode runs; None: all of them, long ones included."""
    if mode == "good":
        return None
    requirement, others = KINDS[kind].broken[mode]
    return sorted(of(kind, requirement) | set(others))


def cpp_command(kind: str, mode: str, ids: list[str] | None, report: Path) -> list[str]:
    command = [str(BUILD / "relay-conformance"), "check-client", "--client-cmd", client_cmd(kind, mode),
               "--kind", kind, "--jobs", "2", "--include-long", "--json", str(report)]
    return command + [arg for id in ids or [] for arg in ("--id", id)]


def python_command(kind: str, mode: str, ids: list[str] | None, report: Path) -> list[str]:
    # pyharness skips a long scenario without --include-long even when it is named by its node id.
    targets = [str(CLIENT_SCENARIOS / kind)] if ids is None else [f"{SCENARIOS[kind][id]['file']}::{id}" for id in ids]
    return [sys.executable, "-m", "pytest", "-p", "relay_harness.plugin", "-p", "no:cacheprovider", "-q",
            "--client-kind", kind, "--client-cmd", client_cmd(kind, mode), "--include-long",
            "--relay-json", str(report), *targets]


RUNNERS = {"cpp": cpp_command, "pyharness": python_command}


def run(runner: str, kind: str, mode: str, folder: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """One runner's run of a mode: (the process, {scenario id: (verdict, requirement failed or blocked by)})."""
    report = folder / "report.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PYHARNESS), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(RUNNERS[runner](kind, mode, selection(kind, mode), report), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)
    if not report.exists():
        return done, {}
    found = {}
    for entry in json.loads(report.read_text(encoding="utf-8"))["scenarios"]:
        requirement = entry.get("blocked_by") or (entry.get("failure") or {}).get("requirement")
        found[entry["id"]] = (entry["verdict"], requirement)
    return done, found


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """{(runner, kind, mode): future of run()}, every run started at once, the longest (good) first."""
    with ThreadPoolExecutor(max_workers=RUNS_AT_ONCE) as pool:
        yield {(runner, kind, mode): pool.submit(run, runner, kind, mode, tmp_path_factory.mktemp(f"{kind}-{mode}-{runner}"))
               for kind, mode in sorted(MODES, key=lambda m: m[1] != "good") for runner in RUNNERS}


def output(done: subprocess.CompletedProcess) -> str:
    return done.stdout[-6000:] + done.stderr[-2000:]


@pytest.mark.parametrize("kind", KINDS)
def test_every_requirement_has_a_scenario_and_the_model_has_every_mode(kind):
    assert {r for s in SCENARIOS[kind].values() for r in s["requirements"]} == KINDS[kind].checkable
    for id, scenario in SCENARIOS[kind].items():
        assert kind in scenario["tags"], id
        assert scenario["steps"][0].get("within_ms") == 35000, id  # a client already running may be in its longest backoff
    help_text = subprocess.run([PYTHON, str(KINDS[kind].model), "--help"], capture_output=True, text=True, timeout=30).stdout
    for mode in ["good", *KINDS[kind].broken]:
        assert mode in help_text


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_model_passes_every_scenario(results, runner, kind):
    done, found = results[runner, kind, "good"].result()
    assert set(found) == set(SCENARIOS[kind]), output(done)
    assert {id: v for id, (v, _) in found.items() if v != "pass"} == {}, output(done)
    assert done.returncode == 0


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("kind, mode", [m for m in MODES if m[1] != "good"])
def test_a_broken_client_fails_exactly_its_requirement(results, runner, kind, mode):
    requirement, others = KINDS[kind].broken[mode]
    done, found = results[runner, kind, mode].result()
    expected = {id: ("fail", requirement) for id in of(kind, requirement)}
    expected.update({id: (verdict, requirement if verdict == "blocked" else None) for id, verdict in others.items()})
    assert found == expected, output(done)
    assert done.returncode == 1


@pytest.mark.parametrize("kind, mode", MODES)
def test_the_runners_agree(results, kind, mode):
    assert results["cpp", kind, mode].result()[1] == results["pyharness", kind, mode].result()[1]


@pytest.mark.parametrize("mode, code", [("good", 0), ("no-ping", 1)])
def test_the_gate_passes_a_good_daemon_and_fails_a_broken_one(tmp_path, mode, code):
    command = [str(GATE), "--client-cmd", client_cmd("daemon", mode), "--reports", str(tmp_path),
               "--runner", str(BUILD / "relay-conformance"), "--", "--jobs", "4", "--exclude", "tag:slow"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)
    assert done.returncode == code, output(done)
    for name in ("report.json", "junit.xml", "report.html"):
        assert (tmp_path / name).exists(), name
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    failing = {s["id"] for s in report["scenarios"] if s["verdict"] != "pass"}
    fast = {id for id, s in SCENARIOS["daemon"].items() if "slow" not in s["tags"]}
    assert failing == (set() if mode == "good" else of("daemon", "DAEMON-2") & fast)


def test_the_gate_needs_a_client_command_with_the_url():
    done = subprocess.run([str(GATE), "--client-cmd", "./my-daemon"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "{url}" in done.stderr


def test_the_daemon_workflow_publishes_what_the_gate_writes():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / "ci" / "github-actions-daemon.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["relay-client"]["steps"]
    gate = next(step for step in steps if step.get("id") == "gate")
    assert "ci/gate-client.sh" in gate["run"] and "{url}" in gate["run"]
    assert "--reports conformance-reports" in gate["run"] and 'exit-code=$code' in gate["run"]
    uploads = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
    assert uploads["actions/upload-artifact"]["with"]["path"] == "conformance-reports"
    assert uploads["mikepenz/action-junit-report"]["with"]["report_paths"] == "conformance-reports/junit.xml"
    assert steps[-1]["run"] == 'exit "$CODE"' and "steps.gate.outputs.exit-code" in steps[-1]["env"]["CODE"]
