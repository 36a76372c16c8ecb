"""Client checks: the runner plays the relay and judges the client (a Paseo daemon, an app) that
connects to it. A client scenario runs on a Listener (listener.py): with a client command, a fresh
listener and a fresh client process per scenario; on a fixed port, one listener for the session and
whatever client connects. Steps other than accept and no_connection, verdicts and timing are the
relay interpreter's (interpreter.StepRunner)."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import os
import signal
from typing import Optional

from . import model
from .client import loop_ms
from .interpreter import RunSettings, StepFailed, StepRunner, scenario_cap_ms
from .listener import HandshakeRejected, Listener, describe_request_pattern
from .timing import quiet_ms
from .verdicts import ERROR, Failure, ScenarioResult, combine_runs

OUTPUT_LINES = 20  # the client's last lines of output a result keeps
OUTPUT_LINE_CHARS = 500
STOP_GRACE_S = 3.0  # SIGTERM, then SIGKILL after this
RELEASE_CODE = 1012  # on a fixed port, every socket of a finished scenario is closed with it
# Beyond a scenario's cap: ending the client and closing its sockets.
RESULT_MARGIN_S = STOP_GRACE_S + 7.0


class ClientRun(StepRunner):
    """One client scenario on `listener`. `release` (fixed port): close the scenario's sockets with 1012
    at its end, completing the closing handshake in the background, instead of cutting them."""

    def __init__(self, scenario: model.Scenario, listener: Listener, settings: RunSettings,
                 release: bool = False) -> None:
        super().__init__(scenario, settings, {})  # no fresh variables: values come from captures
        self.listener, self.release = listener, release
        listener.log = self.log

    async def _accept(self, step: model.AcceptStep) -> float:
        """Finishes (for a mark) at the claimed connection's arrival."""
        spec = self.scenario.sockets[step.socket]
        allowance = self._allowance()
        bounds = self._window_bounds(step.window, allowance) if step.window else None
        started = loop_ms()
        deadline = bounds.latest if bounds else started + self._accept_wait_ms(step) + allowance
        expected = [self._describe_accept(step, allowance)]
        while True:
            arrival, found = self.listener.find(spec, self.settings.profile, self.variables)
            if arrival is not None:
                break
            if not await self.listener.wait_arrival(deadline):
                raise StepFailed(expected, _no_match(found, started))
        if bounds:
            self._check_window(step.window, bounds, arrival, expected)
        self.variables.update(found.captures)
        self._note_differences(found.differences)
        if step.refuse is not None:
            await self.listener.refuse(arrival, step.refuse, step.socket, self.log)
            return arrival.at
        old = self.sockets.pop(step.socket, None)
        if old is not None:
            if old.is_open:
                old.drop()
            await old.shut()
        try:
            self.sockets[step.socket] = await self.listener.accept(arrival, step.socket, self.log)
        except HandshakeRejected as rejected:
            raise StepFailed(expected, str(rejected)) from None
        return arrival.at

    async def _no_connection(self, step: model.NoConnectionStep) -> None:
        spec = self.scenario.sockets[step.socket]
        allowance = self._allowance()
        started = loop_ms()
        wait = quiet_ms(step.within_ms, self.settings.time_scale, allowance)
        scale = f" x {self.settings.time_scale:g}" if self.settings.time_scale != 1 else ""
        expected = [f"no connection for {step.socket} ({describe_request_pattern(spec, self.settings.profile, self.variables)}) "
                    f"for {wait:.0f} ms ({step.within_ms} ms{scale} + {allowance:.0f} ms latency allowance)"]
        while True:
            arrival, _ = self.listener.find(spec, self.settings.profile, self.variables)
            if arrival is not None:
                raise StepFailed(expected, f"a connection for {step.socket} arrived at {arrival.at - started:+.0f} ms: "
                                           f"{arrival.target}")
            if not await self.listener.wait_arrival(started + wait):
                return

    def _accept_wait_ms(self, step: model.AcceptStep) -> int:
        return step.within_ms if step.within_ms is not None else self.settings.step_timeout_ms

    def _describe_accept(self, step: model.AcceptStep, allowance: float) -> str:
        spec = self.scenario.sockets[step.socket]
        text = f"a connection for {step.socket}: {describe_request_pattern(spec, self.settings.profile, self.variables)}"
        if step.window:
            return f"{text}, between {self._describe_window(step.window, allowance)}"
        return f"{text}, within {self._accept_wait_ms(step)} ms + {allowance:.0f} ms latency allowance"

    def _timed_out(self) -> ScenarioResult:
        step = self.scenario.steps[self.current]
        if isinstance(step.action, model.AcceptStep):
            why = f"the scenario's timeout ({self._cap_ms():.0f} ms) ran out during this step"
            return self._failed(StepFailed([self._describe_accept(step.action, self._allowance())], "no connection", why))
        return super()._timed_out()

    async def _release_sockets(self) -> None:
        if not self.release:
            return await super()._release_sockets()
        for socket in self.sockets.values():
            if socket.is_open:
                await socket.close(RELEASE_CODE, "")
            else:
                await socket.shut()

    _HANDLERS = {**StepRunner._HANDLERS, model.AcceptStep: _accept, model.NoConnectionStep: _no_connection}


def _no_match(misses: list, started: float) -> str:
    if not misses:
        return "no connection"
    listed = "; ".join(f"GET {arrival.target} at +{arrival.at - started:.0f} ms ({why})" for arrival, why in misses)
    return f"no matching connection; these arrived and did not match: {listed}"


# --- the client under test -------------------------------------------------------------------------

class ClientProcess:
    """The client command, run by /bin/sh -c in its own process group, its output (stdout and stderr)
    kept to the last OUTPUT_LINES lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: collections.deque[str] = collections.deque(maxlen=OUTPUT_LINES)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, command: str, url: str, port: int) -> "ClientProcess":
        text = command.replace("{url}", url).replace("{port}", str(port))
        process = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", text, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        return cls(process)

    async def _read(self) -> None:
        partial = b""
        while chunk := await self.process.stdout.read(1 << 16):
            *lines, partial = (partial + chunk).split(b"\n")
            self.output.extend(line.decode("utf-8", "replace")[:OUTPUT_LINE_CHARS] for line in lines)
            partial = partial[-OUTPUT_LINE_CHARS * 4:]
        if partial:
            self.output.append(partial.decode("utf-8", "replace")[:OUTPUT_LINE_CHARS])

    async def stop(self) -> None:
        """SIGTERM to the group; SIGKILL after STOP_GRACE_S if it (or its output pipe) is still alive."""
        self._signal(signal.SIGTERM)
        done = await asyncio.wait([asyncio.ensure_future(self.process.wait()), self._reader], timeout=STOP_GRACE_S)
        if len(done[0]) < 2:
            self._signal(signal.SIGKILL)
            await asyncio.wait([self._reader], timeout=1.0)
            self._reader.cancel()
        await self.process.wait()

    def _signal(self, which: int) -> None:
        try:
            os.killpg(self.process.pid, which)
        except (ProcessLookupError, PermissionError):
            pass


# --- running scenarios -----------------------------------------------------------------------------

async def run_with_command(scenario: model.Scenario, command: str, settings: RunSettings) -> ScenarioResult:
    """A fresh listener and a fresh client for the scenario; the client is ended when it is over."""
    listener = await Listener.start(0)
    try:
        client = await ClientProcess.start(command, listener.url, listener.port)
    except OSError as error:
        await listener.stop()
        return ScenarioResult(scenario.id, ERROR, Failure(scenario.requirements[0], 0,
                                                          message=f"cannot start the client command: {error}"))
    try:
        result = await ClientRun(scenario, listener, settings).run()
    finally:
        await client.stop()
        await listener.stop()
    result.client_output = list(client.output)
    return result


async def run_on_listener(scenario: model.Scenario, listener: Listener, settings: RunSettings) -> ScenarioResult:
    """On the session's listener (fixed port), with whatever client connects."""
    return await ClientRun(scenario, listener, settings, release=True).run()


async def check(key: str, scenario: model.Scenario, settings: RunSettings, repeat: int,
                command: Optional[str], listener: Optional[Listener]) -> ScenarioResult:
    """`repeat` runs, one after another, combined into one result under `key`."""
    results = []
    for _ in range(repeat):
        if command is not None:
            results.append(await run_with_command(scenario, command, settings))
        else:
            results.append(await run_on_listener(scenario, listener, settings))
    return dataclasses.replace(combine_runs(results), id=key)


def result_timeout_s(scenario: model.Scenario, settings: RunSettings, repeat: int) -> float:
    return repeat * (scenario_cap_ms(scenario, settings) / 1000 + RESULT_MARGIN_S)
