"""Runs every selected scenario at once in one asyncio loop on a background thread, so the whole
library takes about as long as its longest scenario; pytest items then collect their own results.
With repeat, each scenario's runs follow one another (fresh ids each time) and combine into one result."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Iterable

from . import model
from .client import RelayAddress
from .interpreter import RunSettings, run_scenario, scenario_cap_ms
from .verdicts import ScenarioResult, combine_runs

# Beyond a scenario's own timeout_ms: time for its sockets to be shut and its result handed over.
RESULT_MARGIN_S = 10.0
SHUTDOWN_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ScenarioRun:
    """One pytest item's work: a scenario under one run key (its id, with the transport when several)."""
    key: str
    scenario: model.Scenario
    settings: RunSettings


class LoopThread:
    """An asyncio loop running on a daemon thread, for coroutines the pytest items wait on."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def submit(self, coroutine) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def stop(self) -> None:
        """Cancels what still runs (after -x, or an interrupt), lets it shut its sockets, ends the thread."""
        try:
            self.submit(_cancel_all()).result(SHUTDOWN_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            pass  # the thread is a daemon: a scenario stuck in cleanup cannot hold the session
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(SHUTDOWN_TIMEOUT_S)
        if not self._thread.is_alive():
            self.loop.close()


class BackgroundRunner:
    def __init__(self, address: RelayAddress, runs: Iterable[ScenarioRun], repeat: int = 1) -> None:
        self._thread = LoopThread("relay-scenarios")
        self._started = time.monotonic()
        self._futures: dict[str, concurrent.futures.Future] = {}
        self._timeouts: dict[str, float] = {}
        for run in runs:
            self._futures[run.key] = self._thread.submit(_repeated(run, address, repeat))
            self._timeouts[run.key] = repeat * scenario_cap_ms(run.scenario, run.settings) / 1000 + RESULT_MARGIN_S

    def result(self, key: str) -> ScenarioResult:
        """Waits, at most until the scenario's own cap (counted from the common start) plus a margin.
        Raises KeyError for a run that was not started, TimeoutError if it never finished."""
        future = self._futures[key]
        remaining = self._started + self._timeouts[key] - time.monotonic()
        try:
            return future.result(timeout=max(remaining, 0))
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"scenario {key} gave no result within {self._timeouts[key]:g} s") from None

    def stop(self) -> None:
        self._thread.stop()


async def _repeated(run: ScenarioRun, address: RelayAddress, repeat: int) -> ScenarioResult:
    results = [await run_scenario(run.scenario, address, run.settings) for _ in range(repeat)]
    return dataclasses.replace(combine_runs(results), id=run.key)


async def _cancel_all() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
