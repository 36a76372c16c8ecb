"""The plugin installed as a relay author installs it (docs/pyharness.md, "Installing it"): a venv made
from Debian's python with its system site packages (pytest, websockets, jsonschema), `pip install
./pyharness` offline, then pytest run from a project outside this repository. The installed package
must register itself (pytest11), carry the scenario library, run it against `--relay-url`, and run a
custom folder given with `--scenarios` instead.

pip builds in the source tree (build/, *.egg-info), so the test installs from a copy of the checkout's
pyharness/, scenarios/ and CMakeLists.txt laid out as in the repository, leaving the repository alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from relay_harness import loader
from relay_harness.plugin import DEFAULT_SCENARIOS, REPO_ROOT

DEBIAN_PYTHON = Path("/usr/bin/python3")
PASSING = Path(__file__).parent / "data" / "passing.json"
STEP_TIMEOUT_S = 120
# Whatever points the child at this checkout, or changes which plugins load, would defeat the test.
CLEARED_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
               "VIRTUAL_ENV", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_REQUIRE_VIRTUALENV")


def _missing_tools() -> str | None:
    """Why a venv with pip cannot be built here: Debian's python3-venv (venv's ensurepip, with the pip
    and setuptools wheels) or python3-wheel (setuptools' bdist_wheel) is missing."""
    if not os.access(DEBIAN_PYTHON, os.X_OK):
        return f"no {DEBIAN_PYTHON}"
    probe = subprocess.run([str(DEBIAN_PYTHON), "-c", "import ensurepip, wheel; ensurepip.version()"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return f"Debian's python3-venv and python3-wheel are needed (.ci/install test installs them): {last}"
    return None


MISSING_TOOLS = _missing_tools()
pytestmark = pytest.mark.skipif(MISSING_TOOLS is not None, reason=str(MISSING_TOOLS))


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name not in CLEARED_ENV}
    done = subprocess.run(command, cwd=cwd, env={**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}, text=True,
                          capture_output=True, timeout=STEP_TIMEOUT_S, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory) -> Path:
    """Debian's python in a fresh venv with the system site packages and ./pyharness pip-installed offline."""
    root = tmp_path_factory.mktemp("install")
    checkout = root / "checkout"
    shutil.copytree(REPO_ROOT / "pyharness", checkout / "pyharness",
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "build", "*.egg-info"))
    shutil.copytree(REPO_ROOT / "scenarios", checkout / "scenarios")
    shutil.copytree(REPO_ROOT / "profiles", checkout / "profiles",
                    ignore=shutil.ignore_patterns("server", "observe", "node_modules"))
    shutil.copy(REPO_ROOT / "CMakeLists.txt", checkout / "CMakeLists.txt")
    run([str(DEBIAN_PYTHON), "-m", "venv", "--system-site-packages", str(root / "venv")], cwd=root)
    python = root / "venv" / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--no-index", "--no-build-isolation", "./pyharness"], cwd=checkout)
    return python


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Somebody's project outside the repository, with a test of its own that uses the plugin's fixture."""
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "test_own.py").write_text("def test_own(relay_url):\n    assert relay_url.startswith('ws://')\n")
    return directory


def test_installed_plugin_runs_the_library_it_carries(venv_python, project, relay_url, schema):
    report = project / "report.json"
    done = run([str(venv_python), "-m", "pytest", "--relay-url", relay_url, "--relay-json", str(report)], cwd=project)
    site_library = next(venv_python.parents[1].glob("lib/python3*/site-packages/relay_harness/scenarios"))
    assert f"scenarios {site_library};" in done.stdout, done.stdout[:2000]
    verdicts = {entry["id"]: entry["verdict"] for entry in json.loads(report.read_text(encoding="utf-8"))["scenarios"]}
    library = loader.load_library(DEFAULT_SCENARIOS, schema)
    assert set(verdicts) == {s.id for s in library if "long" not in s.tags}
    assert set(verdicts.values()) == {"pass"}, verdicts
    assert f" {len(verdicts) + 1} passed" in done.stdout.splitlines()[-1], done.stdout[-2000:]  # and test_own


def test_installed_plugin_runs_a_folder_given_with_scenarios(venv_python, project, relay_url, tmp_path):
    custom = tmp_path / "custom"
    custom.mkdir()
    shutil.copy(PASSING, custom / "mine.json")
    done = run([str(venv_python), "-m", "pytest", "-v", "--relay-url", relay_url, f"--scenarios={custom}"],
               cwd=project)
    passed = sorted(line.split()[0].rsplit("/", 1)[-1] for line in done.stdout.splitlines() if " PASSED " in line)
    assert passed == ["mine.json::demo-health", "mine.json::demo-sync-and-capture", "test_own.py::test_own"], \
        done.stdout[-3000:]


def test_installed_plugin_collects_no_scenarios_without_a_relay_option(venv_python, project):
    done = run([str(venv_python), "-m", "pytest", "--collect-only", "-q"], cwd=project)
    assert done.stdout.splitlines()[0] == "test_own.py::test_own", done.stdout
    assert "1 test collected" in done.stdout
