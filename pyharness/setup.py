"""Builds relay-harness with the scenario library inside: build_py copies the checkout's scenarios/
(every scenario file and scenario.schema.json; not the test vectors) into relay_harness/scenarios/ of
the build, and the profiles (profiles/*/profile.json, their schema and scenario folders) into
relay_harness/profiles/, and the client-scenario files and their schema (client-scenarios/**/*.json) into
relay_harness/client-scenarios/, so an installed plugin finds the library without --scenarios, and git keeps one copy. The
version is the project's, read from CMakeLists.txt. Build from a checkout: `pip install ./pyharness`."""

import re
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

REPO = Path(__file__).resolve().parent.parent
LIBRARY = REPO / "scenarios"
PACKAGED_LIBRARY = Path("relay_harness", "scenarios")  # where the plugin looks first (plugin.PACKAGE_SCENARIOS)
PROFILES = REPO / "profiles"
PACKAGED_PROFILES = Path("relay_harness", "profiles")  # plugin.PROFILES_ROOT / "profiles" when installed
CLIENT_LIBRARY = REPO / "client-scenarios"
PACKAGED_CLIENT_LIBRARY = Path("relay_harness", "client-scenarios")  # the paseo profile's client_scenarios when installed


def project_version() -> str:
    """`project(relay_conformance VERSION x.y.z ...)` in the checkout's CMakeLists.txt."""
    cmake = REPO / "CMakeLists.txt"
    match = re.search(r"project\(\s*\w+\s+VERSION\s+([0-9][0-9.]*)", cmake.read_text(encoding="utf-8")) \
        if cmake.is_file() else None
    if not match:
        raise SystemExit(f"relay-harness: no project version in {cmake}; build from a relay-conformance checkout")
    return match.group(1)


def library_files() -> list[Path]:
    """The files an installed plugin needs (loader.is_scenario_file, plus the schema)."""
    files = sorted(p for p in LIBRARY.rglob("*.json") if not p.name.endswith("-vectors.json"))
    if not (LIBRARY / "scenario.schema.json") in files:
        raise SystemExit(f"relay-harness: no scenario library at {LIBRARY}; build from a relay-conformance checkout")
    return files


def profile_files() -> list[Path]:
    """The profile schema, every profile.json and every profile's own scenario folder (profiles/NAME/scenarios).
    None from a checkout without profiles/: the plugin then knows the built-in Paseo profile only."""
    if not (PROFILES / "profile.schema.json").is_file():
        return []
    return sorted([PROFILES / "profile.schema.json", *PROFILES.glob("*/profile.json"), *PROFILES.glob("*/scenarios/**/*.json")])


class BuildWithLibrary(build_py):
    def run(self) -> None:
        super().run()
        self._copy(library_files(), LIBRARY, PACKAGED_LIBRARY)
        self._copy(profile_files(), PROFILES, PACKAGED_PROFILES)
        self._copy(sorted(CLIENT_LIBRARY.rglob("*.json")), CLIENT_LIBRARY, PACKAGED_CLIENT_LIBRARY)

    def _copy(self, files: list[Path], root: Path, packaged: Path) -> None:
        target = Path(self.build_lib) / packaged
        shutil.rmtree(target, ignore_errors=True)  # a file removed from the checkout must not linger in the build
        for source in files:
            destination = target / source.relative_to(root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)


setup(version=project_version(), cmdclass={"build_py": BuildWithLibrary})
