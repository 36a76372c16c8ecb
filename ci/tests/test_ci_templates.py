"""The GitHub action (action.yml) and the GitLab template (ci/gitlab-ci.yml), run here as far as they can be:
their shell steps in order, with the inputs and variables set as GitHub and GitLab set them, against the
reference relay, with the package CMake builds. apt-get is a stand-in that unpacks a .deb into a fresh
root, whose usr/bin is on PATH, instead of installing it. Steps that use other actions (cache, artifact
upload, checks tab) do not run, but the paths they are given must be where the shell steps put things."""

import dataclasses
import json
import os
import pathlib
import re
import select
import shutil
import socket
import subprocess

import pytest
import yaml  # python3-yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("RELAY_CONFORMANCE_BUILD_DIR", ROOT / "build"))
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
GITLAB_JOB = yaml.safe_load((ROOT / "ci" / "gitlab-ci.yml").read_text())["relay-conformance"]
EXAMPLE_WORKFLOW = yaml.safe_load((ROOT / "ci" / "github-actions.yml").read_text())
BUILD_STEP_TIMEOUT_S = 900  # a build from scratch: about 90 s on two cores, longer on a busy machine
STEP_TIMEOUT_S = 180
REPORTS = ("report.html", "junit.xml", "report.json", "relay.log")
# A relay whose watchdog nudges after 1 s deviates from V2-WD-1 (10 s), and its scenarios fail within seconds.
DEVIATING = "--watchdog-nudge-ms 1000 --watchdog-reset-ms 500"
DEVIATION = "--requirement V2-WD-1"

APT_GET = r"""#!/bin/bash
# Stands in for apt-get: a package it is asked for must already be installed here; a .deb is unpacked
# into $FAKE_ROOT instead of being installed.
set -euo pipefail
echo "$*" >>"$APT_LOG"
case "$1" in
  update) exit 0 ;;
  install) ;;
  *) echo "apt-get stand-in: unexpected command $1" >&2; exit 100 ;;
esac
for arg in "${@:2}"; do
  case "$arg" in
    -*) ;;
    *.deb) dpkg-deb -x "$arg" "$FAKE_ROOT" ;;
    *) dpkg-query -W -f='${Status}' "$arg" 2>/dev/null | grep -q "install ok installed" \
         || { echo "apt-get stand-in: $arg is not a Debian package installed here" >&2; exit 100; } ;;
  esac
done
"""
SUDO = '#!/bin/sh\nexec "$@"\n'
GIT = '#!/bin/sh\necho "git stand-in: nothing may be cloned when the package is at hand" >&2\nexit 1\n'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sandbox:
    """A CI machine in a folder: a workspace (cwd), a runner temp folder, a root the package is unpacked
    into, and the stand-ins for apt-get, sudo and git ahead of everything else on PATH."""

    def __init__(self, folder: pathlib.Path):
        self.workspace, self.temp, self.root, stubs = (folder / name for name in ("workspace", "temp", "root", "stubs"))
        for path in (self.workspace, self.temp, self.root, stubs):
            path.mkdir()
        for name, text in (("apt-get", APT_GET), ("sudo", SUDO), ("git", GIT)):
            (stubs / name).write_text(text)
            (stubs / name).chmod(0o755)
        self.apt_log = folder / "apt.log"
        self.apt_log.touch()
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "CI_", "RELAY_"))}
        self.env = {**inherited, "PATH": f"{stubs}:{self.root}/usr/bin:{os.environ['PATH']}",
                    "FAKE_ROOT": str(self.root), "APT_LOG": str(self.apt_log)}

    def apt_calls(self) -> list[str]:
        return self.apt_log.read_text().splitlines()

    def built_from_source(self) -> bool:
        return any("libboost-url1.81-dev" in call for call in self.apt_calls())


# --- the GitHub action ---

EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


def resolve(text, context) -> str:
    """`${{ a.b.c }}` as GitHub substitutes it; a KeyError names an expression this runner does not know."""
    def lookup(match):
        value = context
        for part in match[1].split("."):
            value = value[part]
        return str(value)
    return EXPRESSION.sub(lookup, str(text))


@dataclasses.dataclass
class ActionRun:
    outputs: dict        # the action's outputs
    uses: dict           # action name -> its resolved `with:`
    failed_step: str     # the shell step that failed, or ""
    log: str


def run_action(sandbox: Sandbox, inputs: dict, cached_package: pathlib.Path | None = None) -> ActionRun:
    declared = ACTION["inputs"]
    assert not set(inputs) - set(declared), f"not inputs of action.yml: {set(inputs) - set(declared)}"
    context = {"inputs": {name: inputs.get(name, spec.get("default", "")) for name, spec in declared.items()},
               "github": {"action_path": str(ROOT)}, "runner": {"temp": str(sandbox.temp)}, "steps": {}}
    uses, log, failed_step = {}, [], ""
    for index, step in enumerate(ACTION["runs"]["steps"]):
        if "uses" in step:
            # What GitHub runs after a failed step: only steps that are `if: always()`.
            if failed_step and step.get("if") != "always()":
                continue
            given = {key: resolve(value, context) for key, value in step.get("with", {}).items()}
            uses[step["uses"].split("@")[0]] = given
            if step["uses"].startswith("actions/cache@") and cached_package:
                pathlib.Path(given["path"]).mkdir(parents=True)
                shutil.copy(cached_package, given["path"])
            continue
        if failed_step:
            continue
        assert "if" not in step, f"{step['name']}: this runner runs every shell step"
        assert "${{" not in step["run"], f"{step['name']}: expressions belong in env:, not in the script"
        script, output = sandbox.temp.parent / f"step-{index}.sh", sandbox.temp.parent / f"step-{index}.out"
        script.write_text(step["run"])
        output.touch()
        env = {**sandbox.env, "GITHUB_OUTPUT": str(output), "GITHUB_ACTION_PATH": str(ROOT),
               "GITHUB_WORKSPACE": str(sandbox.workspace), "RUNNER_TEMP": str(sandbox.temp),
               **{key: resolve(value, context) for key, value in step.get("env", {}).items()}}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=sandbox.workspace,
                              env=env, capture_output=True, text=True,
                              timeout=BUILD_STEP_TIMEOUT_S if "cpack" in step["run"] else STEP_TIMEOUT_S)
        log.append(f"--- {step['name']} (exit {done.returncode})\n{done.stdout}{done.stderr}")
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": dict(line.split("=", 1) for line in output.read_text().splitlines())}
        if done.returncode != 0:
            failed_step = step["name"]
    outputs = {name: resolve(spec["value"], context) for name, spec in ACTION.get("outputs", {}).items()}
    return ActionRun(outputs, uses, failed_step, "\n".join(log))


def published(run: ActionRun, sandbox: Sandbox) -> tuple[pathlib.Path, pathlib.Path]:
    """Where the artifact upload and the checks tab look, from the workspace as GitHub resolves them."""
    return (sandbox.workspace / run.uses["actions/upload-artifact"]["path"],
            sandbox.workspace / run.uses["mikepenz/action-junit-report"]["report_paths"])


def cached_deb(run: ActionRun) -> pathlib.Path:
    debs = list(pathlib.Path(run.uses["actions/cache"]["path"]).glob("*.deb"))
    assert len(debs) == 1, f"the cached folder holds {debs}"
    return debs[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The action on a cache miss: builds the package, installs it, gates the reference relay."""
    # The build step builds from scratch, as on a cache miss (about 90 s on two cores): a build folder
    # reached through another path would rebuild anyway, its precompiled header being named by path.
    sandbox = Sandbox(tmp_path_factory.mktemp("action-build"))
    port = free_port()
    run = run_action(sandbox, {"relay-command": f"reference-relay --port {port}", "url": f"ws://127.0.0.1:{port}",
                               "strict": "true", "args": "--exclude tag:slow", "health-timeout": "20"})
    return sandbox, run


def test_action_builds_the_package_and_caches_it_under_its_sources(built):
    sandbox, run = built
    assert not run.failed_step, run.log
    assert sandbox.built_from_source(), sandbox.apt_calls()
    assert run.uses["actions/cache"]["key"].startswith("relay-conformance-deb-debian12-")
    assert cached_deb(run).name.startswith("relay-conformance_")
    assert (sandbox.root / "usr/bin/relay-conformance-gate").exists(), "the install step did not install the package"


def test_action_gates_the_relay_and_publishes_the_reports_where_the_uploads_look(built):
    sandbox, run = built
    assert run.outputs["exit-code"] == "0", run.log
    artifact, junit = published(run, sandbox)
    for name in REPORTS:
        assert (artifact / name).exists(), name
    assert junit.exists() and junit.parent == artifact
    report = json.loads((artifact / "report.json").read_text())
    assert report["summary"]["failed"] == 0 and report["summary"]["passed"] > 40
    assert report["verdict"]["strict_mode"], "strict: true did not reach the runner"
    assert " passed, 0 failed" in run.log


def test_action_installs_a_cached_package_and_fails_after_publishing_a_deviation(built, tmp_path):
    _, first = built
    sandbox = Sandbox(tmp_path)
    port = free_port()
    run = run_action(sandbox, {"relay-command": f"reference-relay --port {port} {DEVIATING}",
                               "url": f"ws://127.0.0.1:{port}", "args": DEVIATION, "health-timeout": "20"},
                     cached_package=cached_deb(first))
    assert not sandbox.built_from_source(), sandbox.apt_calls()
    assert run.outputs["exit-code"] == "1", run.log
    assert run.failed_step == ACTION["runs"]["steps"][-1]["name"], run.log
    artifact, junit = published(run, sandbox)
    assert (artifact / "report.html").exists()
    assert '<failure type="V2-WD-1"' in junit.read_text()


@pytest.fixture
def running_relay():
    relay = subprocess.Popen([BUILD / "reference-relay", "--port", "0", "--log-level", "warn"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ready, _, _ = select.select([relay.stdout], [], [], 10)
        assert ready, "the reference relay printed no URL within 10 s"
        yield relay.stdout.readline().strip()
    finally:
        relay.terminate()
        relay.wait(timeout=10)


def test_action_installs_a_released_package_and_gates_a_running_relay(built, tmp_path, running_relay):
    _, first = built
    sandbox = Sandbox(tmp_path)
    run = run_action(sandbox, {"url": running_relay, "package-url": cached_deb(first).as_uri(), "args": "--tag v1"})
    assert not run.failed_step, run.log
    assert not sandbox.built_from_source(), sandbox.apt_calls()
    assert run.uses["actions/cache"]["key"] != first.uses["actions/cache"]["key"]
    assert cached_deb(run).read_bytes() == cached_deb(first).read_bytes()
    report = json.loads((published(run, sandbox)[0] / "report.json").read_text())
    assert report["summary"]["failed"] == 0 and report["summary"]["passed"] > 5


def test_example_workflow_uses_the_action_with_its_inputs():
    job = EXAMPLE_WORKFLOW["jobs"]["conformance"]
    steps = [s for s in job["steps"] if s.get("uses", "").split("@")[0].endswith("/relay-conformance")]
    assert len(steps) == 1, job["steps"]
    assert set(steps[0]["with"]) <= set(ACTION["inputs"])
    assert job["container"] == "debian:12"
    assert EXAMPLE_WORKFLOW["permissions"]["checks"] == "write", "the JUnit results need checks: write"


# --- the GitLab template ---

def run_gitlab(sandbox: Sandbox, variables: dict) -> subprocess.CompletedProcess:
    """before_script and script in one shell, stopping at the first failing command, as GitLab runs them."""
    env = {**sandbox.env, **{k: str(v) for k, v in GITLAB_JOB["variables"].items()}, **variables,
           "CI_PROJECT_DIR": str(sandbox.workspace)}
    script = "\n".join(GITLAB_JOB["before_script"] + GITLAB_JOB["script"])
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=sandbox.workspace,
                          env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT_S)


def gitlab_path(sandbox: Sandbox, path: str) -> pathlib.Path:
    return sandbox.workspace / path


def test_gitlab_template_installs_the_cached_package_and_keeps_the_reports(built, tmp_path):
    _, first = built
    sandbox = Sandbox(tmp_path)
    assert GITLAB_JOB["cache"]["key"] == "relay-conformance-deb-$RELAY_CONFORMANCE_REF"
    cache = gitlab_path(sandbox, GITLAB_JOB["cache"]["paths"][0])
    cache.mkdir()
    shutil.copy(cached_deb(first), cache)
    port = free_port()
    run = run_gitlab(sandbox, {"RELAY_CMD": f"reference-relay --port {port}", "RELAY_URL": f"ws://127.0.0.1:{port}",
                               "RELAY_CONFORMANCE_ARGS": "--exclude tag:slow"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert not sandbox.built_from_source(), sandbox.apt_calls()
    artifacts = GITLAB_JOB["artifacts"]
    assert artifacts["when"] == "always"
    for name in REPORTS:
        assert (gitlab_path(sandbox, artifacts["paths"][0]) / name).exists(), name
    assert gitlab_path(sandbox, artifacts["reports"]["junit"]).exists()


def test_gitlab_template_downloads_a_released_package_and_fails_on_a_deviation(built, tmp_path):
    _, first = built
    sandbox = Sandbox(tmp_path)
    port = free_port()
    run = run_gitlab(sandbox, {"RELAY_CMD": f"reference-relay --port {port} {DEVIATING}",
                               "RELAY_URL": f"ws://127.0.0.1:{port}", "RELAY_CONFORMANCE_ARGS": DEVIATION,
                               "RELAY_CONFORMANCE_DEB_URL": cached_deb(first).as_uri()})
    assert run.returncode == 1, run.stdout + run.stderr
    assert not sandbox.built_from_source(), sandbox.apt_calls()
    assert list(gitlab_path(sandbox, GITLAB_JOB["cache"]["paths"][0]).glob("*.deb")), "nothing left to cache"
    assert '<failure type="V2-WD-1"' in gitlab_path(sandbox, GITLAB_JOB["artifacts"]["reports"]["junit"]).read_text()


def build_packages(script: str) -> set[str]:
    """The packages an `apt-get install` that names cmake installs."""
    command = next(line for line in script.replace("\\\n", " ").splitlines() if "apt-get install" in line and "cmake" in line)
    return {word for word in command.split() if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", word)} - {"apt-get", "install"}


def test_gitlab_template_builds_from_the_same_packages_as_the_action():
    # GitLab's build from source is not run here (it clones); the action's, which is, must match it.
    action_build = next(s["run"] for s in ACTION["runs"]["steps"] if "cpack" in s.get("run", ""))
    assert build_packages("\n".join(GITLAB_JOB["before_script"])) == build_packages(action_build)
