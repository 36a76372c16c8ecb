"""Client checks in the pytest plugin (plugin.py registers this module): every client-scenario file
(`"kind": "client"`) is collected, each scenario one item as for relay scenarios. With --client-cmd
each scenario gets a fresh loopback port and a fresh client process; with --client-port the session
listens on one port, prints its ws:// URL at the start, and runs the scenarios one after another on
whatever client connects. Without either, client checks are skipped. Verdicts, outcomes and reports are
the relay scenarios' (plugin.py, report.py)."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path
from typing import Optional

import pytest

from . import loader
from .background import LoopThread
from .calibration import Timing
from .client import PLAIN
from .client_run import check, result_timeout_s
from .interpreter import RunSettings
from .listener import Listener
from .plugin import REPO_ROOT, ScenarioFile, ScenarioItem, _harness, _tags_in
from .verdicts import ScenarioResult

CLIENT_SCHEMA_NAME = "client-scenario.schema.json"
LISTEN_TIMEOUT_S = 10.0
NO_CLIENT = "a client check: give --client-cmd CMD (the client to start) or --client-port PORT (a client started elsewhere)"


class ClientChecks:
    """The session's client checks: a loop thread they run on, one at a time, and with --client-port the
    listener every scenario shares."""

    def __init__(self, port: Optional[int]) -> None:
        self.thread = LoopThread("client-checks")
        self.listener: Optional[Listener] = None
        if port is not None:
            self.listener = self.thread.submit(Listener.start(port)).result(LISTEN_TIMEOUT_S)

    def run(self, key: str, item: "ClientCheckItem", settings: RunSettings, repeat: int,
            command: Optional[str]) -> ScenarioResult:
        future = self.thread.submit(check(key, item.scenario, settings, repeat, command, self.listener))
        timeout = result_timeout_s(item.scenario, settings, repeat)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"client check {key} gave no result within {timeout:g} s") from None

    def stop(self) -> None:
        if self.listener:
            try:
                self.thread.submit(self.listener.stop()).result(LISTEN_TIMEOUT_S)
            except concurrent.futures.TimeoutError:
                pass
        self.thread.stop()


def pytest_configure(config: pytest.Config) -> None:
    folder = _harness(config).settings.profile.client_scenarios
    for tag in sorted(_tags_in(folder) if folder and folder.is_dir() else ()):
        config.addinivalue_line("markers", f"{tag}: client scenario tag")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """With --client-port: listen now, and say where, first thing on stdout (a person, or a script
    starting the client, reads it there)."""
    harness = _harness(session.config)
    port = harness.settings.client_port
    if port is None:
        return
    try:
        harness.client_checks = ClientChecks(port)
    except OSError as error:
        raise pytest.UsageError(f"--client-port {port}: cannot listen on 127.0.0.1:{port}: {error.strerror or error}")
    print(harness.client_checks.listener.url, flush=True)


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if loader.is_scenario_file(file_path) and loader.file_kind(file_path) == loader.CLIENT_KIND:
        return ClientScenarioFile.from_parent(parent, path=file_path)
    return None


def _client_schema(config: pytest.Config) -> dict:
    harness = _harness(config)
    if harness.client_schema is None:
        folder = harness.settings.profile.client_scenarios or REPO_ROOT / "client-scenarios"
        path = folder / CLIENT_SCHEMA_NAME
        if not path.exists():
            raise loader.LoadError(f"{path}: the client-scenario schema is missing")
        harness.client_schema = loader.load_schema(path)
    return harness.client_schema


class ClientScenarioFile(ScenarioFile):
    """A client-scenario file: one item per scenario (no transports: the client frames what it sends)."""

    def _load(self, harness) -> list:
        return loader.load_client_file(self.path, _client_schema(self.config), harness.settings.profile)

    def _runs(self, harness, scenario) -> list[tuple[str, str]]:
        return [(scenario.id, PLAIN.name)]


class ClientCheckItem(ScenarioItem):
    """One client scenario; outcomes as a relay scenario's."""

    def _obtain_result(self) -> ScenarioResult:
        harness = _harness(self.config)
        settings = harness.settings
        if harness.timing is None:
            # No relay to calibrate: the latency is the given one, else 0 (the allowance floor holds).
            harness.timing = Timing(settings.latency_ms or 0.0, "given", settings.time_scale)
        if harness.client_checks is None:
            harness.client_checks = ClientChecks(None)
        if harness.started is None:
            harness.started = time.monotonic()
        run_settings = RunSettings(settings.step_timeout_ms, harness.timing.latency_ms, harness.timing.time_scale,
                                   PLAIN, settings.profile)
        try:
            result = harness.client_checks.run(self.name, self, run_settings, settings.repeat, settings.client_cmd)
        except TimeoutError as error:
            pytest.fail(str(error), pytrace=False)
        harness.results[self.name] = result
        harness.scenarios[self.name] = self.scenario
        return result

    def reportinfo(self):
        return self.path, 0, f"client scenario: {self.name}"


ClientScenarioFile.item_class = ClientCheckItem


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    settings = _harness(config).settings
    other_kind = [item for item in items
                  if isinstance(item, ClientCheckItem) and settings.client_kind not in item.scenario.tags]
    if other_kind:
        config.hook.pytest_deselected(items=other_kind)
        items[:] = [item for item in items if item not in other_kind]
    if settings.client_cmd is None and settings.client_port is None:
        for item in items:
            if isinstance(item, ClientCheckItem):
                item.add_marker(pytest.mark.skip(reason=NO_CLIENT))
