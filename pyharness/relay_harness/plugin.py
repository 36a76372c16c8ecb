"""The pytest plugin: every scenario in the scenario files is one item named by its id (with
`--relay-transport all`, one per transport: `id[deflate]`), replayed against --relay-url (or a
reference relay started for the session). Items are selected with -k (id), -m (tags, registered as
markers) and --requirement; scenarios tagged `long` run only with --include-long. The latency is
calibrated once per session, then all selected scenarios run at once on a background thread; each item
collects its own result. Verdicts map onto pytest outcomes: pass passes; nonstrict passes (shown as
NONSTRICT and in the summary) unless --relay-strict; fail, blocked and flaky fail (ScenarioMismatch);
error and notrun are setup errors, like an unreachable relay. Client-scenario files (`"kind": "client"`)
are collected as client checks (client_plugin.py): with --client-cmd or --client-port the runner plays
the relay and judges the client that connects."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import math
import re
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import pytest

from . import loader, model
from .profile import DEFAULT_PROFILE, PASEO, Profile, ProfileError, find_profile
from .background import BackgroundRunner, ScenarioRun
from .calibration import EXCHANGES, CalibrationFailed, Timing, calibrate
from .client import TRANSPORTS, RelayAddress, is_reachable, parse_relay_url
from .interpreter import DEFAULT_STEP_TIMEOUT_MS, RunSettings
from .relay_process import RelayProcess, RelayStartError
from .report import RunInfo, format_result, headline, report_document, summary, write_json
from .timing import ALLOWANCE_FLOOR_MS
from .verdicts import BLOCKED, ERROR, FAIL, FLAKY, NONSTRICT, NOTRUN, ScenarioResult

REPO_ROOT = Path(__file__).resolve().parents[2]  # the checkout, when the plugin runs from one
# An installed package carries the library (setup.py copies it there at build time); a checkout has none.
PACKAGE_SCENARIOS = Path(__file__).resolve().parent / "scenarios"
INSTALLED = PACKAGE_SCENARIOS.is_dir()
DEFAULT_SCENARIOS = PACKAGE_SCENARIOS if INSTALLED else REPO_ROOT / "scenarios"
# Where profiles/ lives (setup.py copies it into the package); a profile's paths are relative to it.
PROFILES_ROOT = Path(__file__).resolve().parent if INSTALLED else REPO_ROOT
DEFAULT_BINARY = Path(shutil.which("reference-relay") or "reference-relay") if INSTALLED \
    else REPO_ROOT / "build" / "reference-relay"
SCHEMA_NAME = "scenario.schema.json"
KNOWN_TAGS = {"http": "HTTP routing and admission", "v1": "protocol v1", "v2": "protocol v2",
              "slow": "takes 5 s or more", "long": "takes more than 20 s; runs only with --include-long",
              "limits": "size and count limits"}
REQUIREMENT = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*-[0-9]+$")
REQUIREMENT_GLOB = re.compile(r"^[A-Z0-9*?\[\]-]+$")


class ScenarioMismatch(Exception):
    """The relay deviated from a scenario: verdict fail, blocked or flaky, or nonstrict with --relay-strict."""

    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(f"scenario {result.id}: {result.verdict}")
        self.result = result


# --- options ----------------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("relay-harness", "relay conformance scenarios")
    group.addoption("--relay-url", help="ws://HOST:PORT of the relay under test (default: start the reference relay)")
    group.addoption("--relay-binary", help="reference relay to start when no --relay-url is given "
                                           "(default: build/reference-relay in this repository; "
                                           "installed: reference-relay on PATH)")
    group.addoption("--relay-profile", metavar="NAME",
                    help=f"the relay protocol: its scenarios and socket addressing (profiles/NAME; default {DEFAULT_PROFILE})")
    group.addoption("--scenarios", dest="relay_scenarios", metavar="DIR",
                    help="directory whose *.json files are scenario files (default: this repository's scenarios/; "
                         "installed: the library in the package); pytest given no paths collects it when a relay option is set")
    group.addoption("--requirement", action="append", default=[], dest="relay_requirements", metavar="ID",
                    help="run only scenarios naming this requirement id, or one matching this glob (repeatable)")
    group.addoption("--include-long", action="store_true", default=None, dest="relay_include_long",
                    help="also run scenarios tagged long")
    group.addoption("--step-timeout", dest="relay_step_timeout", metavar="MS",
                    help=f"default wait of an expect step in ms (default {DEFAULT_STEP_TIMEOUT_MS})")
    group.addoption("--relay-json", metavar="FILE",
                    help="also write the report ci/report.schema.json describes, as the C++ runner's --json")
    group.addoption("--relay-strict", action="store_true", default=None,
                    help="non-strict differences from the official relay fail their scenario")
    group.addoption("--relay-repeat", metavar="N", help="run each scenario N times; differing verdicts are flaky")
    group.addoption("--relay-latency-ms", metavar="MS",
                    help=f"the relay's latency, instead of calibrating it (slowest of {EXCHANGES} GET / exchanges)")
    group.addoption("--relay-time-scale", metavar="S",
                    help="multiply the scenarios' timer durations, for a relay whose timers are scaled by S (default 1); a reference relay started without --relay-url gets its watchdog scaled to match")
    group.addoption("--relay-transport", metavar="NAME",
                    help=f"how messages are sent: {', '.join(TRANSPORTS)}, or all (each scenario on each; default plain)")
    group.addoption("--client-cmd", metavar="CMD",
                    help="client checks: for each client scenario, listen on a fresh loopback port and start CMD "
                         "(by /bin/sh -c, {url} and {port} replaced) as the client under test")
    group.addoption("--client-port", metavar="PORT",
                    help="client checks without a command: listen on this loopback port (0: any), print its "
                         "ws:// URL, and judge whatever client connects, one scenario after another")
    group.addoption("--client-kind", metavar="KIND",
                    help="client checks: the client under test, daemon (default) or app; only the client scenarios "
                         "tagged so run")
    parser.addini("relay_url", "ws://HOST:PORT of the relay under test")
    parser.addini("relay_binary", "reference relay binary, relative to the ini file")
    parser.addini("relay_profile", f"the relay protocol profile (default {DEFAULT_PROFILE})")
    parser.addini("relay_scenarios", "scenario directory, relative to the ini file (default: the profile's)")
    parser.addini("relay_step_timeout", "default wait of an expect step in ms")
    parser.addini("relay_include_long", "also run scenarios tagged long", type="bool", default=False)
    parser.addini("relay_strict", "non-strict differences fail their scenario", type="bool", default=False)
    parser.addini("relay_repeat", "run each scenario this many times")
    parser.addini("relay_latency_ms", "the relay's latency in ms, instead of calibrating it")
    parser.addini("relay_time_scale", "multiply the scenarios' timer durations by this")
    parser.addini("relay_transport", f"{', '.join(TRANSPORTS)} or all")
    parser.addini("client_cmd", "client checks: the client command ({url} and {port} replaced)")
    parser.addini("client_port", "client checks: the port to listen on for a client started elsewhere")
    parser.addini("client_kind", "client checks: daemon or app")


@dataclass
class Settings:
    relay_url: Optional[str]
    relay_binary: Path
    profile: Profile
    scenarios_dir: Path
    requirements: list[str]
    include_long: bool
    step_timeout_ms: int
    json_report: Optional[Path]
    strict: bool
    repeat: int
    latency_ms: Optional[float]  # None: calibrate
    time_scale: float
    transports: tuple[str, ...]
    client_cmd: Optional[str] = None  # client checks: the client under test, started per scenario
    client_port: Optional[int] = None  # client checks: listen here for a client started elsewhere
    client_kind: str = "daemon"  # client checks: only the client scenarios tagged so

    @property
    def transport_label(self) -> Optional[str]:
        """The one transport of the run, or None when scenarios run on several."""
        return self.transports[0] if len(self.transports) == 1 else None


def _settings(config: pytest.Config) -> Settings:
    profile = _resolve(config, "relay_profile", "--relay-profile", "relay_profile", _validate_profile,
                       _validate_profile(DEFAULT_PROFILE, "the default profile"))
    settings = Settings(
        relay_url=_resolve(config, "relay_url", "--relay-url", "relay_url", _validate_relay_url, None),
        relay_binary=_resolve(config, "relay_binary", "--relay-binary", "relay_binary", _validate_file_path,
                              DEFAULT_BINARY, is_path=True),
        profile=profile,
        scenarios_dir=_resolve(config, "relay_scenarios", "--scenarios", "relay_scenarios", _validate_directory,
                               profile.scenarios.resolve(), is_path=True),
        requirements=[_validate_requirement(value, "command line option --requirement")
                      for value in config.getoption("relay_requirements")],
        include_long=bool(config.getoption("relay_include_long") or config.getini("relay_include_long")),
        step_timeout_ms=_resolve(config, "relay_step_timeout", "--step-timeout", "relay_step_timeout",
                                 _validate_step_timeout, DEFAULT_STEP_TIMEOUT_MS),
        json_report=_resolve(config, "relay_json", "--relay-json", None, _validate_file_path, None, is_path=True),
        strict=bool(config.getoption("relay_strict") or config.getini("relay_strict")),
        repeat=_resolve(config, "relay_repeat", "--relay-repeat", "relay_repeat", _validate_repeat, 1),
        latency_ms=_resolve(config, "relay_latency_ms", "--relay-latency-ms", "relay_latency_ms",
                            _validate_latency, None),
        time_scale=_resolve(config, "relay_time_scale", "--relay-time-scale", "relay_time_scale",
                            _validate_time_scale, 1.0),
        transports=_resolve(config, "relay_transport", "--relay-transport", "relay_transport",
                            _validate_transport, ("plain",)),
        client_cmd=_resolve(config, "client_cmd", "--client-cmd", "client_cmd", _validate_client_cmd, None),
        client_port=_resolve(config, "client_port", "--client-port", "client_port", _validate_client_port, None),
        client_kind=_resolve(config, "client_kind", "--client-kind", "client_kind", _validate_client_kind, "daemon"),
    )
    if settings.client_cmd is not None and settings.client_port is not None:
        raise pytest.UsageError("--client-cmd and --client-port exclude each other: a client command gets a fresh "
                                "port per scenario")
    return settings


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


def _validate_profile(value: str, where: str) -> Profile:
    name = value.strip()
    if name == PASEO.name and not (PROFILES_ROOT / "profiles").is_dir():
        return replace(PASEO, scenarios=DEFAULT_SCENARIOS)  # a package built before profiles existed
    try:
        return find_profile(PROFILES_ROOT, name)
    except ProfileError as error:
        raise pytest.UsageError(f"{where}: {error}") from None


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


def _validate_repeat(value: str, where: str) -> int:
    if not str(value).isdigit() or int(value) < 1:
        raise pytest.UsageError(f"{where}: expected a positive number of runs, got {value!r}")
    return int(value)


def _validate_latency(value: str, where: str) -> float:
    number = _number(value)
    if number is None or number < 0:
        raise pytest.UsageError(f"{where}: expected a number of milliseconds, 0 or more, got {value!r}")
    return number


def _validate_time_scale(value: str, where: str) -> float:
    number = _number(value)
    if number is None or number <= 0:
        raise pytest.UsageError(f"{where}: expected a number above 0, got {value!r}")
    return number


def _number(value: str) -> Optional[float]:
    """A finite number written as one, else None."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _validate_client_cmd(value: str, where: str) -> str:
    if not value.strip():
        raise pytest.UsageError(f"{where}: empty command")
    return value


def _validate_client_kind(value: str, where: str) -> str:
    if value not in ("daemon", "app"):
        raise pytest.UsageError(f"{where}: expected daemon or app, got {value!r}")
    return value


def _validate_client_port(value: str, where: str) -> int:
    if not str(value).isdigit() or int(value) > 65535:
        raise pytest.UsageError(f"{where}: expected a port number from 0 (any free port) to 65535, got {value!r}")
    return int(value)


def _validate_transport(value: str, where: str) -> tuple[str, ...]:
    if value == "all":
        return tuple(TRANSPORTS)
    if value not in TRANSPORTS:
        raise pytest.UsageError(f"{where}: expected one of {', '.join(TRANSPORTS)} or all, got {value!r}")
    return (value,)


# --- session state ------------------------------------------------------------------------------

@dataclass
class _Harness:
    """What the plugin keeps for one pytest session (in config.stash, so nested sessions never mix)."""
    settings: Settings
    schema: Optional[dict] = None
    relay: Optional[RelayProcess] = None
    runner: Optional[BackgroundRunner] = None
    ids: dict[str, Path] = field(default_factory=dict)  # scenario id -> the file that defines it
    timing: Optional[Timing] = None  # once calibrated (or given), for the whole session
    calibration_error: Optional[str] = None
    started: Optional[float] = None  # time.monotonic() when the scenarios started
    results: dict[str, ScenarioResult] = field(default_factory=dict)  # by run key, in item order
    scenarios: dict[str, model.Scenario] = field(default_factory=dict)  # by run key
    client_checks: Optional[object] = None  # client_plugin.ClientChecks, once a client check needs it
    client_schema: Optional[dict] = None  # the client-scenario schema, once a client file is collected

    def run_timing(self, address: RelayAddress) -> Timing:
        """The session's timing: the given latency, else calibrated on first use. Raises CalibrationFailed."""
        if self.timing is None and self.calibration_error is None:
            settings = self.settings
            if settings.latency_ms is not None:
                self.timing = Timing(settings.latency_ms, "given", settings.time_scale)
            else:
                try:
                    exchanges = asyncio.run(calibrate(address))
                    self.timing = Timing(max(exchanges), "calibrated", settings.time_scale, exchanges)
                except CalibrationFailed as error:
                    self.calibration_error = str(error)
        if self.calibration_error:
            raise CalibrationFailed(self.calibration_error)
        return self.timing

    def load_schema(self) -> dict:
        if self.schema is None:
            local = self.settings.scenarios_dir / SCHEMA_NAME
            self.schema = loader.load_schema(local if local.exists() else DEFAULT_SCENARIOS / SCHEMA_NAME)
        return self.schema

    def relay_url(self) -> str:
        """--relay-url, else the reference relay, started on first use. Raises RelayStartError."""
        if self.settings.relay_url:
            return self.settings.relay_url
        if self.settings.profile.name != PASEO.name:
            raise RelayStartError(f"profile {self.settings.profile.name} has no reference relay; give --relay-url")
        if self.relay is None:
            self.relay = RelayProcess.start(self.settings.relay_binary, *scaled_watchdog_flags(self.settings.time_scale))
        return self.relay.url

    def close(self) -> None:
        if self.client_checks:
            self.client_checks.stop()
        if self.runner:
            self.runner.stop()
        if self.relay:
            self.relay.stop()


_HARNESS = pytest.StashKey[_Harness]()


def _harness(config: pytest.Config) -> _Harness:
    return config.stash[_HARNESS]


def scaled_watchdog_flags(scale: float) -> list[str]:
    """The watchdog delays (docs/protocol.md V2-WD-1, V2-WD-2) scaled as --relay-time-scale says, for a
    reference relay the harness starts itself; none at the official scale."""
    if scale == 1:
        return []
    return ["--watchdog-nudge-ms", str(max(1, int(10_000 * scale + 0.5))), "--watchdog-reset-ms", str(max(1, int(5_000 * scale + 0.5)))]


def pytest_configure(config: pytest.Config) -> None:
    harness = _Harness(_settings(config))
    config.stash[_HARNESS] = harness
    from . import client_plugin  # its hooks: collecting and running client checks
    config.pluginmanager.register(client_plugin, "relay_harness.client_plugin")
    settings = harness.settings
    client = settings.client_cmd is not None or settings.client_port is not None
    _collect_library_too(config, settings.profile.client_scenarios if client else settings.scenarios_dir,
                         ("client_cmd", "client_port") if client else ("relay_url", "relay_scenarios", "relay_binary"))
    for tag, meaning in sorted({**{t: "scenario tag" for t in _tags_in(harness.settings.scenarios_dir)},
                                **KNOWN_TAGS}.items()):
        config.addinivalue_line("markers", f"{tag}: {meaning}")


def _collect_library_too(config: pytest.Config, scenarios_dir: Optional[Path], options: tuple[str, ...]) -> None:
    """`pytest --relay-url URL` in any project runs the library: when pytest was given no paths (it
    collects testpaths or the current directory) and a relay option is set, the scenario directory is
    collected as well (with --client-cmd or --client-port, the profile's client-scenario folder instead).
    Paths on the command line say exactly what to collect; a project that only uses the `relay_url`
    fixture, with no relay option set, collects no scenarios."""
    if getattr(config, "args_source", pytest.Config.ArgsSource.ARGS) == pytest.Config.ArgsSource.ARGS:
        return  # paths given, or no collection at all (--help)
    if scenarios_dir is None or not any(config.getoption(dest) is not None or config.getini(dest) for dest in options):
        return
    if not any(scenarios_dir.is_relative_to(Path(arg).resolve()) for arg in config.args):
        config.args.append(str(scenarios_dir))


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
    if settings.client_cmd is not None or settings.client_port is not None:
        client = (f"client command {settings.client_cmd!r} (a fresh port each scenario)" if settings.client_cmd is not None
                  else f"the client at {config.stash[_HARNESS].client_checks.listener.url}"
                  if config.stash[_HARNESS].client_checks else f"a client on port {settings.client_port}")
        return (f"relay-harness: client checks of {client}; profile {settings.profile.name}; "
                f"client scenarios {settings.profile.client_scenarios}")
    relay = settings.relay_url or f"reference relay {settings.relay_binary} (started when first needed)"
    run = [f"transport {' and '.join(settings.transports)}"]
    run += ["strict"] if settings.strict else []
    run += [f"repeat {settings.repeat}"] if settings.repeat > 1 else []
    run += [f"time scale {settings.time_scale:g}"] if settings.time_scale != 1 else []
    return (f"relay-harness: relay {relay}; profile {settings.profile.name}; scenarios {settings.scenarios_dir}; "
            f"{'; '.join(run)}")


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
    if (loader.is_scenario_file(file_path) and file_path.resolve().is_relative_to(settings.scenarios_dir)
            and loader.file_kind(file_path) != loader.CLIENT_KIND):  # client files: client_plugin.py
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self):
        harness = _harness(self.config)
        scenarios = self._load(harness)
        for scenario in scenarios:
            if harness.ids.setdefault(scenario.id, self.path) != self.path:
                raise loader.LoadError(f"{self.path}: scenario {scenario.id}: id already used in {harness.ids[scenario.id]}")
        for scenario in scenarios:
            for name, transport in self._runs(harness, scenario):
                item = self.item_class.from_parent(self, name=name, scenario=scenario, transport=transport)
                for tag in scenario.tags:
                    item.add_marker(tag)
                yield item

    def _load(self, harness: _Harness) -> list[model.Scenario]:
        return loader.load_file(self.path, harness.load_schema(), harness.settings.profile)

    def _runs(self, harness: _Harness, scenario: model.Scenario) -> list[tuple[str, str]]:
        """(item name, transport) of each run of the scenario."""
        transports = harness.settings.transports
        return [(scenario.id if len(transports) == 1 else f"{scenario.id}[{transport}]", transport)
                for transport in transports]

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, loader.LoadError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: model.Scenario, transport: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.transport = transport
        self.result: Optional[ScenarioResult] = None

    def setup(self) -> None:
        # Infrastructure problems (no relay, a runner error, the relay dying) are setup errors, so
        # --junitxml writes them as <error>; only a deviation of the relay is a <failure>.
        self.result = self._obtain_result()
        self.user_properties.append(("relay_verdict", self.result.verdict))
        self.user_properties += [("relay_nonstrict", f"step {d.step} ({d.requirement}): {d.detail}")
                                 for d in self.result.nonstrict]
        if self.result.verdict in (ERROR, NOTRUN):
            pytest.fail(format_result(self.scenario, self.result), pytrace=False)

    def _obtain_result(self) -> ScenarioResult:
        return _result_for(self)

    def runtest(self) -> None:
        verdict = self.result.verdict
        if verdict in (FAIL, BLOCKED, FLAKY) or (verdict == NONSTRICT and _harness(self.config).settings.strict):
            raise ScenarioMismatch(self.result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioMismatch):
            return format_result(self.scenario, excinfo.value.result)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, f"scenario: {self.name}"


ScenarioFile.item_class = ScenarioItem


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
    """Starts every selected scenario on first use (after checking the relay is up and calibrating its
    latency), then waits for this item's result."""
    harness = _harness(item.config)
    try:
        url = harness.relay_url()
    except RelayStartError as error:
        pytest.fail(f"cannot start the reference relay: {error}", pytrace=False)
    address = parse_relay_url(url)
    unreachable = asyncio.run(is_reachable(address))
    if unreachable:
        pytest.fail(f"relay {url} is not reachable: {unreachable}", pytrace=False)
    try:
        timing = harness.run_timing(address)
    except CalibrationFailed as error:
        pytest.fail(f"cannot calibrate the latency of relay {url}: {error} "
                    "(--relay-latency-ms MS gives it instead)", pytrace=False)
    if harness.runner is None:
        harness.started = time.monotonic()
        harness.runner = BackgroundRunner(address, _selected_runs(item.session, harness.settings, timing),
                                          harness.settings.repeat)
    try:
        result = harness.runner.result(item.name)
    except TimeoutError as error:
        pytest.fail(str(error), pytrace=False)
    harness.results[item.name] = result
    harness.scenarios[item.name] = item.scenario
    return result


def _selected_runs(session: pytest.Session, settings: Settings, timing: Timing) -> list[ScenarioRun]:
    return [ScenarioRun(item.name, item.scenario,
                        RunSettings(settings.step_timeout_ms, timing.latency_ms, timing.time_scale,
                                    TRANSPORTS[item.transport], settings.profile))
            for item in session.items if type(item) is ScenarioItem and not item.get_closest_marker("skip")]


# --- outcomes and summaries ------------------------------------------------------------------------

def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    """A non-strict scenario passes, but is counted and shown on its own: NONSTRICT, `N`."""
    if report.when == "call" and report.passed and ("relay_verdict", NONSTRICT) in report.user_properties:
        return "nonstrict", "N", ("NONSTRICT", {"yellow": True})
    return None


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    harness = _harness(config)
    if harness.timing is None:
        return  # no scenario ran
    results = list(harness.results.values())
    terminalreporter.section("relay-harness")
    terminalreporter.line(_describe_timing(harness.timing))
    verdict = headline(summary(results), harness.settings.profile.clients or harness.settings.profile.title,
                       _judging_clients(harness))
    terminalreporter.line(verdict["headline"], green=verdict["strict"], yellow=verdict["compatible"] and not verdict["strict"],
                          red=not verdict["compatible"])
    for result in results:
        if result.runs:
            terminalreporter.line(f"{result.id}: runs {', '.join(result.runs)} ({result.passes} of {len(result.runs)} passed)")
        for difference in result.nonstrict:
            terminalreporter.line(f"{result.id} non-strict: step {difference.step} ({difference.requirement}): "
                                  f"{difference.detail}")


def _judging_clients(harness) -> bool:
    """Whether this session checked clients only, so the headline speaks of the client under test."""
    return bool(harness.scenarios) and all(scenario.kind == "client" for scenario in harness.scenarios.values())


def _describe_timing(timing: Timing) -> str:
    if timing.source == "given":
        latency = f"latency {timing.latency_ms:g} ms (given)"
    else:
        each = ", ".join(f"{ms:.1f}" for ms in timing.exchanges_ms)
        latency = f"latency {timing.latency_ms:.1f} ms (calibrated: slowest of GET / exchanges taking {each} ms)"
    return (f"{latency}; allowance max({ALLOWANCE_FLOOR_MS:g} ms, 2 x latency); "
            f"time scale {timing.time_scale:g}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    harness = _harness(session.config)
    settings = harness.settings
    if settings.json_report:
        timing = harness.timing or Timing(settings.latency_ms or 0.0,
                                          "given" if settings.latency_ms is not None else "calibrated",
                                          settings.time_scale)
        info = RunInfo(timing, settings.strict, settings.repeat,
                       settings.relay_url or (harness.relay.url if harness.relay else None),
                       settings.transport_label,
                       (time.monotonic() - harness.started) * 1000 if harness.started else 0.0,
                       settings.profile.name, settings.profile.clients or settings.profile.title,
                       _judging_clients(harness))
        write_json(settings.json_report, report_document(list(harness.results.values()), harness.scenarios, info))
