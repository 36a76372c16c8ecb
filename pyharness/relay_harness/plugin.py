"""The pytest plugin: every scenario in the scenario files is one item named by its id, replayed
against --relay-url (or a reference relay started for the session). Items are selected with -k (id),
-m (tags, registered as markers) and --requirement; scenarios tagged `long` run only with
--include-long. All selected scenarios run at once on a background thread; each item collects its own
result. Verdicts map onto pytest outcomes: pass passes, fail fails (ScenarioMismatch), error and notrun
are setup errors, like an unreachable relay."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

from . import loader, model
from .background import BackgroundRunner
from .client import is_reachable, parse_relay_url
from .interpreter import DEFAULT_STEP_TIMEOUT_MS, ScenarioResult
from .relay_process import RelayProcess, RelayStartError
from .report import format_result, write_json

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / "build" / "reference-relay"
DEFAULT_SCENARIOS = REPO_ROOT / "scenarios"
SCHEMA_NAME = "scenario.schema.json"
KNOWN_TAGS = {"http": "HTTP routing and admission", "v1": "protocol v1", "v2": "protocol v2",
              "slow": "takes 5 s or more", "long": "takes more than 20 s; runs only with --include-long",
              "limits": "size and count limits"}
REQUIREMENT = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*-[0-9]+$")
REQUIREMENT_GLOB = re.compile(r"^[A-Z0-9*?\[\]-]+$")


class ScenarioMismatch(Exception):
    """The relay deviated from a scenario: verdict fail."""

    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.actual)
        self.result = result


# --- options ----------------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("relay-harness", "relay conformance scenarios")
    group.addoption("--relay-url", help="ws://HOST:PORT of the relay under test (default: start the reference relay)")
    group.addoption("--relay-binary", help="reference relay to start when no --relay-url is given "
                                           "(default: build/reference-relay in this repository)")
    group.addoption("--scenarios", dest="relay_scenarios", metavar="DIR",
                    help="directory whose *.json files are scenario files (default: this repository's scenarios/)")
    group.addoption("--requirement", action="append", default=[], dest="relay_requirements", metavar="ID",
                    help="run only scenarios naming this requirement id, or one matching this glob (repeatable)")
    group.addoption("--include-long", action="store_true", default=None, dest="relay_include_long",
                    help="also run scenarios tagged long")
    group.addoption("--step-timeout", dest="relay_step_timeout", metavar="MS",
                    help=f"default wait of an expect step in ms (default {DEFAULT_STEP_TIMEOUT_MS})")
    group.addoption("--relay-json", metavar="FILE", help="also write verdicts as the C++ runner's --json report")
    parser.addini("relay_url", "ws://HOST:PORT of the relay under test")
    parser.addini("relay_binary", "reference relay binary, relative to the ini file")
    parser.addini("relay_scenarios", "scenario directory, relative to the ini file")
    parser.addini("relay_step_timeout", "default wait of an expect step in ms")
    parser.addini("relay_include_long", "also run scenarios tagged long", type="bool", default=False)


@dataclass
class Settings:
    relay_url: Optional[str]
    relay_binary: Path
    scenarios_dir: Path
    requirements: list[str]
    include_long: bool
    step_timeout_ms: int
    json_report: Optional[Path]


def _settings(config: pytest.Config) -> Settings:
    return Settings(
        relay_url=_resolve(config, "relay_url", "--relay-url", "relay_url", _validate_relay_url, None),
        relay_binary=_resolve(config, "relay_binary", "--relay-binary", "relay_binary", _validate_file_path,
                              DEFAULT_BINARY, is_path=True),
        scenarios_dir=_resolve(config, "relay_scenarios", "--scenarios", "relay_scenarios", _validate_directory,
                               DEFAULT_SCENARIOS, is_path=True),
        requirements=[_validate_requirement(value, "command line option --requirement")
                      for value in config.getoption("relay_requirements")],
        include_long=bool(config.getoption("relay_include_long") or config.getini("relay_include_long")),
        step_timeout_ms=_resolve(config, "relay_step_timeout", "--step-timeout", "relay_step_timeout",
                                 _validate_step_timeout, DEFAULT_STEP_TIMEOUT_MS),
        json_report=_resolve(config, "relay_json", "--relay-json", None, _validate_file_path, None, is_path=True),
    )


def _resolve(config: pytest.Config, dest: str, flag: str, ini: Optional[str], validate, default,
             is_path: bool = False):
    """The command line wins over the ini file; the value is validated naming where it came from.
    Relative paths are taken from the current directory (command line) or the ini file's directory."""
    value = config.getoption(dest)
    if value is not None:
        where, base = f"command line option {flag}", Path.cwd()
    elif ini and config.getini(ini):
        value, where = config.getini(ini), f"ini option {ini} in {config.inipath}"
        base = config.inipath.parent if config.inipath else config.rootpath
    else:
        return default
    if is_path and value.strip():
        value = str((base / value).resolve())
    return validate(value, where)


def _validate_relay_url(value: str, where: str) -> str:
    try:
        parse_relay_url(value)
    except ValueError as error:
        raise pytest.UsageError(f"{where}: {error}") from None
    return value


def _validate_file_path(value: str, where: str) -> Path:
    if not value.strip():
        raise pytest.UsageError(f"{where}: empty path")
    if Path(value).is_dir():
        raise pytest.UsageError(f"{where}: {value} is a directory, expected a file")
    return Path(value)


def _validate_directory(value: str, where: str) -> Path:
    if not value.strip() or not Path(value).is_dir():
        raise pytest.UsageError(f"{where}: {value or 'empty path'} is not a directory")
    return Path(value)


def _validate_requirement(value: str, where: str) -> str:
    if not REQUIREMENT.match(value) and not REQUIREMENT_GLOB.match(value):
        raise pytest.UsageError(f"{where}: {value!r} is not a requirement id like V2-CTRL-1 or a glob like V2-CTRL-*")
    return value


def _validate_step_timeout(value: str, where: str) -> int:
    if not str(value).isdigit() or int(value) < 1:
        raise pytest.UsageError(f"{where}: expected a positive number of milliseconds, got {value!r}")
    return int(value)


# --- session state ------------------------------------------------------------------------------

@dataclass
class _Harness:
    """What the plugin keeps for one pytest session (in config.stash, so nested sessions never mix)."""
    settings: Settings
    schema: Optional[dict] = None
    relay: Optional[RelayProcess] = None
    runner: Optional[BackgroundRunner] = None
    ids: dict[str, Path] = field(default_factory=dict)  # scenario id -> the file that defines it
    results: dict[str, ScenarioResult] = field(default_factory=dict)

    def load_schema(self) -> dict:
        if self.schema is None:
            local = self.settings.scenarios_dir / SCHEMA_NAME
            self.schema = loader.load_schema(local if local.exists() else DEFAULT_SCENARIOS / SCHEMA_NAME)
        return self.schema

    def relay_url(self) -> str:
        """--relay-url, else the reference relay, started on first use. Raises RelayStartError."""
        if self.settings.relay_url:
            return self.settings.relay_url
        if self.relay is None:
            self.relay = RelayProcess.start(self.settings.relay_binary)
        return self.relay.url

    def close(self) -> None:
        if self.runner:
            self.runner.stop()
        if self.relay:
            self.relay.stop()


_HARNESS = pytest.StashKey[_Harness]()


def _harness(config: pytest.Config) -> _Harness:
    return config.stash[_HARNESS]


def pytest_configure(config: pytest.Config) -> None:
    harness = _Harness(_settings(config))
    config.stash[_HARNESS] = harness
    for tag, meaning in sorted({**{t: "scenario tag" for t in _tags_in(harness.settings.scenarios_dir)},
                                **KNOWN_TAGS}.items()):
        config.addinivalue_line("markers", f"{tag}: {meaning}")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _HARNESS in config.stash:
        config.stash[_HARNESS].close()


def _tags_in(directory: Path) -> set[str]:
    """Tags of every scenario file, read leniently: a broken file is reported when it is collected."""
    tags = set()
    for path in loader.scenario_files(directory):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            tags.update(tag for scenario in document["scenarios"] for tag in scenario.get("tags", [])
                        if isinstance(tag, str) and re.fullmatch(r"[a-z0-9-]+", tag))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return tags


def pytest_report_header(config: pytest.Config) -> str:
    settings = _harness(config).settings
    relay = settings.relay_url or f"reference relay {settings.relay_binary} (started when first needed)"
    return f"relay-harness: relay {relay}; scenarios {settings.scenarios_dir}"


@pytest.fixture(scope="session")
def relay_url(pytestconfig: pytest.Config) -> str:
    """The relay under test: --relay-url, or the session's reference relay."""
    try:
        return _harness(pytestconfig).relay_url()
    except RelayStartError as error:
        pytest.fail(f"cannot start the reference relay: {error}", pytrace=False)


# --- collection -----------------------------------------------------------------------------------

def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    settings = _harness(parent.config).settings
    if (file_path.suffix == ".json" and file_path.name not in loader.NOT_SCENARIO_FILES
            and file_path.resolve().is_relative_to(settings.scenarios_dir)):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self):
        harness = _harness(self.config)
        scenarios = loader.load_file(self.path, harness.load_schema())
        for scenario in scenarios:
            if harness.ids.setdefault(scenario.id, self.path) != self.path:
                raise loader.LoadError(f"{self.path}: scenario {scenario.id}: id already used in {harness.ids[scenario.id]}")
        for scenario in scenarios:
            item = ScenarioItem.from_parent(self, name=scenario.id, scenario=scenario)
            for tag in scenario.tags:
                item.add_marker(tag)
            yield item

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, loader.LoadError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: model.Scenario, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.result: Optional[ScenarioResult] = None

    def setup(self) -> None:
        # Infrastructure problems (no relay, a runner error, the relay dying) are setup errors, so
        # --junitxml writes them as <error>; only a deviation of the relay is a <failure>.
        self.result = _result_for(self)
        if self.result.verdict in ("error", "notrun"):
            pytest.fail(format_result(self.scenario, self.result), pytrace=False)

    def runtest(self) -> None:
        if self.result.verdict == "fail":
            raise ScenarioMismatch(self.result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioMismatch):
            return format_result(self.scenario, excinfo.value.result)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, f"scenario: {self.name}"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    settings = _harness(config).settings
    if settings.requirements:
        def wanted(item) -> bool:
            return any(fnmatch.fnmatchcase(have, pattern)
                       for pattern in settings.requirements for have in item.scenario.requirements)
        kept = [i for i in items if not isinstance(i, ScenarioItem) or wanted(i)]
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
    if not settings.include_long:
        for item in items:
            if isinstance(item, ScenarioItem) and "long" in item.scenario.tags:
                item.add_marker(pytest.mark.skip(reason="tagged long: runs only with --include-long"))


def _result_for(item: ScenarioItem) -> ScenarioResult:
    """Starts every selected scenario on first use (after checking the relay is up), then waits for
    this item's result."""
    harness = _harness(item.config)
    try:
        url = harness.relay_url()
    except RelayStartError as error:
        pytest.fail(f"cannot start the reference relay: {error}", pytrace=False)
    address = parse_relay_url(url)
    unreachable = asyncio.run(is_reachable(address))
    if unreachable:
        pytest.fail(f"relay {url} is not reachable: {unreachable}", pytrace=False)
    if harness.runner is None:
        harness.runner = BackgroundRunner(address, _selected_scenarios(item.session), harness.settings.step_timeout_ms)
    try:
        result = harness.runner.result(item.scenario.id)
    except TimeoutError as error:
        pytest.fail(str(error), pytrace=False)
    harness.results[item.scenario.id] = result
    return result


def _selected_scenarios(session: pytest.Session) -> list[model.Scenario]:
    return [item.scenario for item in session.items
            if isinstance(item, ScenarioItem) and not item.get_closest_marker("skip")]


def pytest_sessionfinish(session: pytest.Session) -> None:
    harness = _harness(session.config)
    if harness.settings.json_report:
        write_json(harness.settings.json_report, harness.results.values())
