"""Runs one scenario and says what happened (StepRunner: the steps every run shares; the relay run adds
open and http, client_run.py's client check accept and no_connection): a ScenarioResult (verdicts.py) with the
verdict, the failing step, the requirement it is attributed to, every accepted alternative, what arrived
instead, the NON-STRICT differences, and the wire log. Time is judged as timing.py says, on the clock of
client.loop_ms, with events stamped when their bytes arrived."""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

from . import model
from .msgpack_codec import NotMsgpack, pack as msgpack_pack, unpack as msgpack_unpack
from .profile import PASEO, Profile, fresh_variables, socket_target
from .client import (MAX_QUEUED_BYTES, PLAIN, BadResponse, ConnectFailed, Event, HandshakeInvalid, HttpResponse, RelayAddress,
                     Transport, WebSocket, WireLog, http_exchange, is_reachable, loop_ms, open_websocket, show_text)
from .patterns import MatchResult, UnknownVariable, compact, describe, match, match_member, substitute, \
    substitute_json
from .timing import EARLY, LATE, Bounds, Interval, allowance_ms, judge_time, quiet_ms, window_bounds
from .verdicts import BLOCKED, ERROR, FAIL, NONSTRICT, NOTRUN, PASS, Difference, Failure, ScenarioResult

DEFAULT_STEP_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class RunSettings:
    """What the runner brings to every scenario of a run."""
    step_timeout_ms: int = DEFAULT_STEP_TIMEOUT_MS
    latency_ms: float = 0.0  # calibrated or given; the allowance never drops below its floor anyway
    time_scale: float = 1.0
    transport: Transport = PLAIN
    profile: Profile = PASEO  # the variables each run gets fresh, and how sockets are addressed


class StepFailed(Exception):
    """The relay deviates: an expectation did not hold. `why`: why what arrived did not match."""

    def __init__(self, expected: list[str], actual: str, why: str = "") -> None:
        super().__init__(actual)
        self.expected, self.actual, self.why = expected, actual, why


class StepError(Exception):
    """The runner could not carry out a step; says nothing about the protocol."""


class RelayGone(Exception):
    """The relay stopped answering mid-run."""


def scenario_cap_ms(scenario: model.Scenario, settings: RunSettings) -> float:
    """The scenario's overall cap. Scaled relay timers can stretch its windows past timeout_ms, so the
    cap grows with the time scale; it never shrinks, as waits for plain events are not scaled."""
    return scenario.timeout_ms * max(1.0, settings.time_scale)


async def run_scenario(scenario: model.Scenario, address: RelayAddress,
                       settings: RunSettings = RunSettings()) -> ScenarioResult:
    return await _RelayRun(scenario, address, settings).run()


class StepRunner:
    """What every scenario run does, whoever plays which side: walks the steps, keeps marks, variables
    and sockets, and carries out send, expect, close, drop and mark on its sockets. A subclass adds the
    steps that make sockets (the relay run: open, http; the client check: accept, no_connection)."""

    def __init__(self, scenario: model.Scenario, settings: RunSettings, variables: dict[str, Any]) -> None:
        self.scenario, self.settings = scenario, settings
        self.variables = variables
        self.sockets: dict[str, WebSocket] = {}
        self.marks: dict[str, Interval] = {}
        # The slowest open or http step so far: a relay slowing down under the run's own load widens
        # its own allowance.
        self.longest_step_ms = 0.0
        self.differences: list[Difference] = []
        self.log = WireLog()
        self.current: Optional[int] = None

    async def run(self) -> ScenarioResult:
        started = time.monotonic()
        try:
            await asyncio.wait_for(self._steps(), self._cap_ms() / 1000)
            result = ScenarioResult(self.scenario.id, NONSTRICT if self.differences else PASS)
        except StepFailed as failure:
            result = self._failed(failure)
        except (StepError, UnknownVariable) as error:
            result = self._result(ERROR, message=str(error))
        except RelayGone as gone:
            result = self._result(NOTRUN, message=str(gone))
        except asyncio.TimeoutError:
            result = self._timed_out()
        except Exception as error:
            # A fault of the runner itself is still a verdict on this scenario, with its step and wire
            # log; the sockets are closed below like after any other verdict.
            result = self._result(ERROR, message=_runner_fault(error))
        finally:
            await self._release_sockets()
        result.duration_ms = (time.monotonic() - started) * 1000
        result.wire_log = self.log.lines
        result.nonstrict = self.differences
        return result

    async def _release_sockets(self) -> None:
        """After the verdict: cut every socket."""
        await asyncio.gather(*(socket.shut() for socket in self.sockets.values()), return_exceptions=True)

    def _cap_ms(self) -> float:
        return scenario_cap_ms(self.scenario, self.settings)

    def _failed(self, failure: StepFailed) -> ScenarioResult:
        """fail, or blocked when the failing step is a precondition: its requirement is not one of the
        scenario's own."""
        result = self._result(FAIL, failure.expected, failure.actual, failure.why)
        step = self.scenario.steps[self.current]
        if step.requirement and step.requirement not in self.scenario.requirements:
            result.verdict, result.blocked_by = BLOCKED, step.requirement
        return result

    def _result(self, verdict: str, expected: Iterable[str] = (), actual: str = "", message: str = "") -> ScenarioResult:
        index = self.current
        step = self.scenario.steps[index] if index is not None else None
        failure = Failure(
            requirement=self.scenario.requirement_of(index),
            step=index + 1 if index is not None else 0,
            step_text=compact(step.source) if step else "",
            socket=getattr(step.action, "socket", "") if step else "",  # http and mark steps have none
            expected=list(expected), actual=actual, message=message)
        return ScenarioResult(self.scenario.id, verdict, failure)

    def _timed_out(self) -> ScenarioResult:
        why = f"the scenario's timeout ({self._cap_ms():.0f} ms) ran out during this step"
        step = self.scenario.steps[self.current]
        if isinstance(step.action, model.ExpectStep):
            allowance = self._allowance()
            return self._failed(StepFailed(self._describe_expect(step.action, self.variables, allowance),
                                           "nothing that matched", why))
        return self._result(ERROR, message=f"step did not complete: {why}")

    async def _steps(self) -> None:
        for index, step in enumerate(self.scenario.steps):
            self.current = index
            start = loop_ms()
            # A handler returns when its step finished (an expect: when its event arrived), or None for now.
            finish = await self._HANDLERS[type(step.action)](self, step.action)
            finish = loop_ms() if finish is None else finish
            if isinstance(step.action, (model.OpenStep, model.HttpStep)):
                self.longest_step_ms = max(self.longest_step_ms, finish - start)
            if step.mark:
                self.marks[step.mark] = Interval(start, finish)

    def _allowance(self) -> float:
        return allowance_ms(self.settings.latency_ms, self.longest_step_ms)

    def _note_differences(self, details: Iterable[str]) -> None:
        requirement = self.scenario.requirement_of(self.current)
        self.differences += [Difference(self.current + 1, requirement, detail) for detail in details]

    # --- send, close, drop -------------------------------------------------------------------

    async def _send(self, step: model.SendStep) -> None:
        socket = self.sockets[step.socket]
        for i in range(step.repeat):
            await socket.send(step.type, self._payload(step, {**self.variables, "i": i}))

    @staticmethod
    def _payload(step: model.SendStep, variables: dict[str, Any]) -> bytes:
        if step.json:
            return compact(substitute_json(step.json_value, variables)).encode("utf-8")
        if step.msgpack:
            return msgpack_pack(substitute_json(step.json_value, variables))
        if isinstance(step.payload, str):
            return substitute(step.payload, variables).encode("utf-8")
        return step.payload

    async def _close(self, step: model.CloseStep) -> None:
        await self.sockets[step.socket].close(step.code, step.reason)

    async def _drop(self, step: model.DropStep) -> None:
        self.sockets[step.socket].drop()

    async def _mark(self, step: model.MarkStep) -> None:
        pass  # the mark is an interval that starts and finishes now

    # --- expect ----------------------------------------------------------------------------------

    async def _expect(self, step: model.ExpectStep) -> Optional[float]:
        """Finishes when the (last) matching event arrived; a quiet period finishes when it ends."""
        finish = None
        for i in range(step.repeat):
            variables = {**self.variables, "i": i}
            which = f" (event {i + 1} of {step.repeat})" if step.repeat > 1 else ""
            finish = await self._expect_one(step, variables, which)
        return finish

    async def _expect_one(self, step: model.ExpectStep, variables: dict[str, Any], which: str) -> Optional[float]:
        socket = self.sockets[step.socket]
        allowance = self._allowance()
        bounds = self._window_bounds(step.window, allowance) if step.window else None
        deadline = bounds.latest if bounds else loop_ms() + self._wait_ms(step, allowance)
        expected = [d + which for d in self._describe_expect(step, variables, allowance)]
        while True:
            event = await socket.next_event(deadline)
            if socket.overflowed:
                raise StepError(f"the relay sent more than {MAX_QUEUED_BYTES >> 20} MiB the scenario did not take; "
                                "the socket was dropped")
            if event is None:
                if _is_quiet(step):
                    return None
                raise StepFailed(expected, self._nothing_came(step, allowance, bounds))
            result, why = self._match_event(step.alternatives, event, variables)
            if result is not None:
                if bounds:
                    self._check_window(step.window, bounds, event, expected)
                self.variables.update(result.captures)
                self._note_differences(result.differences)
                return event.at
            if step.skip_other_frames and event.is_frame:
                continue
            raise StepFailed(expected, event.describe(), why)

    def _window_bounds(self, window: model.Window, allowance: float) -> Bounds:
        return window_bounds(self.marks[window.after], window.min_ms, window.max_ms, self.settings.time_scale,
                             allowance)

    def _wait_ms(self, step: model.ExpectStep, allowance: float) -> float:
        """How long a step without a window waits for its event."""
        if _is_quiet(step):
            return quiet_ms(_within_ms(step, self.settings.step_timeout_ms), self.settings.time_scale, allowance)
        return _within_ms(step, self.settings.step_timeout_ms) + allowance

    def _nothing_came(self, step: model.ExpectStep, allowance: float, bounds: Optional[Bounds]) -> str:
        if bounds:
            closed = bounds.latest - self.marks[step.window.after].finish
            return f"nothing by the end of the window, {closed:.0f} ms after {step.window.after} finished"
        return f"nothing within {self._wait_ms(step, allowance):.0f} ms ({self._describe_wait(step, allowance)})"

    def _check_window(self, window: model.Window, bounds: Bounds, event: Event, expected: list[str]) -> None:
        mark = self.marks[window.after]
        judgement = judge_time(event.at, bounds)
        if judgement == EARLY:
            raise StepFailed(expected, event.describe(),
                             f"too early: {event.at - mark.start:.0f} ms after {window.after} started, "
                             f"the window opened at {bounds.earliest - mark.start:.0f} ms")
        if judgement == LATE:
            raise StepFailed(expected, event.describe(),
                             f"too late: {event.at - mark.finish:.0f} ms after {window.after} finished, "
                             f"the window closed at {bounds.latest - mark.finish:.0f} ms")

    def _match_event(self, alternatives, event: Event, variables) -> tuple[Optional[MatchResult], str]:
        """The first alternative the event matches, else why the first candidate did not."""
        whys = []
        for matcher in alternatives:
            result = _MATCHERS[type(matcher)](matcher, event, variables)
            if result.matched:
                return result, ""
            if result.why:
                whys.append(result.why)
        return None, whys[0] if len(whys) == 1 else ""

    def _describe_expect(self, step: model.ExpectStep, variables: dict, allowance: float) -> list[str]:
        if step.window:
            suffix, quiet = f", between {self._describe_window(step.window, allowance)}", "nothing"
        else:
            suffix, quiet = "", f"nothing for {self._wait_ms(step, allowance):.0f} ms ({self._describe_wait(step, allowance)})"
        return [(quiet if isinstance(m, model.NothingMatcher) else _describe_matcher(m, variables)) + suffix
                for m in step.alternatives]

    def _describe_wait(self, step: model.ExpectStep, allowance: float) -> str:
        scale = f" x {self.settings.time_scale:g}" if _is_quiet(step) and self.settings.time_scale != 1 else ""
        return f"{_within_ms(step, self.settings.step_timeout_ms)} ms{scale} + {allowance:.0f} ms latency allowance"

    def _describe_window(self, window: model.Window, allowance: float) -> str:
        scale = f" x {self.settings.time_scale:g}" if self.settings.time_scale != 1 else ""
        return (f"{window.min_ms} ms{scale} after {window.after} started and {window.max_ms} ms{scale} "
                f"(+ {allowance:.0f} ms latency allowance) after it finished")

    _HANDLERS = {
        model.SendStep: _send, model.ExpectStep: _expect, model.CloseStep: _close, model.DropStep: _drop,
        model.MarkStep: _mark,
    }


class _RelayRun(StepRunner):
    """A relay scenario: the runner is the clients, opening sockets to the relay at `address`."""

    def __init__(self, scenario: model.Scenario, address: RelayAddress, settings: RunSettings) -> None:
        super().__init__(scenario, settings, fresh_variables(settings.profile, scenario.id))
        self.address = address

    # --- open ------------------------------------------------------------------------------

    async def _open(self, step: model.OpenStep) -> None:
        spec = self.scenario.sockets[step.socket]
        target = socket_target(spec, self.settings.profile, self.variables)
        headers = {name: substitute(value, self.variables) for name, value in spec.headers.items()}
        outcome = await self._on_the_wire(
            open_websocket(step.socket, self.address, target, headers, self._step_timeout_s(), self.log,
                           self.settings.transport),
            "handshake response")
        if step.refused is None:
            self._check_opened(step.socket, outcome)
        else:
            await self._check_refused(step.refused, outcome)

    def _check_opened(self, name: str, outcome) -> None:
        if isinstance(outcome, WebSocket):
            self.sockets[name] = outcome
            return
        expected = ["101 Switching Protocols (the handshake succeeds)"]
        if isinstance(outcome, HandshakeInvalid):
            raise StepFailed(expected, f"{outcome.response.describe()}, which a client must reject: {outcome.why}")
        raise StepFailed(expected, outcome.response.describe())

    async def _check_refused(self, expectation: model.HttpExpectation, outcome) -> None:
        expected = [self._describe_http(expectation)]
        if isinstance(outcome, WebSocket):
            await outcome.shut()
            raise StepFailed(expected, "101 Switching Protocols: the handshake was accepted")
        self._check_http(expectation, outcome.response, expected)

    # --- plain HTTP ----------------------------------------------------------------------------

    async def _http(self, step: model.HttpStep) -> None:
        target = substitute(step.path, self.variables)
        if step.query is not None:
            target += "?" + substitute(step.query, self.variables)
        headers = {name: substitute(value, self.variables) for name, value in step.headers.items()}
        self.log.add("http", ">", f"{step.method} {target}")
        response = await self._on_the_wire(
            http_exchange(self.address, step.method, target, headers, self._step_timeout_s()), "complete HTTP response")
        self.log.add("http", "<", response.describe())
        self._check_http(step.response, response, [self._describe_http(step.response)])

    def _check_http(self, expectation: model.HttpExpectation, response: HttpResponse, expected: list[str]) -> None:
        if response.status != expectation.status:
            raise StepFailed(expected, response.describe())
        checks = [("body", expectation.body, response.text)] if expectation.has_body else []
        checks += [(f"header {name}", pattern, response.header(name)) for name, pattern in expectation.headers.items()]
        differences = []
        for what, pattern, value in checks:
            result = match_member(pattern, value, variables=self.variables)
            if not result.matched:
                raise StepFailed(expected, response.describe(), f"{what} {result.why}")
            self.variables.update(result.captures)
            differences += [f"{what} {difference}" for difference in result.differences]
        self._note_differences(differences)

    async def _on_the_wire(self, exchange, awaited: str):
        """Runs a connect-and-answer exchange; sorts what can go wrong into error, notrun and fail."""
        try:
            return await exchange
        except ConnectFailed as error:
            if await is_reachable(self.address) is not None:
                raise RelayGone(f"relay stopped answering: {error}") from None
            raise StepError(str(error)) from None
        except BadResponse as error:
            raise StepFailed([awaited], f"unreadable response: {error}") from None
        except asyncio.TimeoutError:
            raise StepFailed([awaited], f"no {awaited} within {self.settings.step_timeout_ms} ms") from None

    def _describe_http(self, expectation: model.HttpExpectation) -> str:
        parts = [f"HTTP {expectation.status}"]
        if expectation.has_body:
            parts.append(f"body {describe(expectation.body, self.variables)}")
        parts += [f"{name}: {describe(pattern, self.variables)}" for name, pattern in expectation.headers.items()]
        return ", ".join(parts)

    def _step_timeout_s(self) -> float:
        return self.settings.step_timeout_ms / 1000

    _HANDLERS = {**StepRunner._HANDLERS, model.OpenStep: _open, model.HttpStep: _http}


def _is_quiet(step: model.ExpectStep) -> bool:
    """A step with a `nothing` alternative passes when its wait ends without an event."""
    return any(isinstance(m, model.NothingMatcher) for m in step.alternatives)


def _within_ms(step: model.ExpectStep, step_timeout_ms: int) -> int:
    if step.within_ms is not None:
        return step.within_ms
    return model.DEFAULT_NOTHING_MS if _is_quiet(step) else step_timeout_ms


def _runner_fault(error: Exception) -> str:
    where = traceback.extract_tb(error.__traceback__)[-1]
    return (f"runner fault: {type(error).__name__}: {error} "
            f"(at {Path(where.filename).name}:{where.lineno} in {where.name})")


# --- event matchers ------------------------------------------------------------------------------

def _match_frame(matcher: model.FrameMatcher, event: Event, variables) -> MatchResult:
    if not event.is_frame:
        return MatchResult(False)
    if matcher.type and event.kind != matcher.type:
        return MatchResult(False, why=f"a {event.kind} frame, not {matcher.type}")
    if matcher.size is not None and len(event.data) != matcher.size:
        return MatchResult(False, why=f"{len(event.data)} bytes, not {matcher.size}")
    if matcher.binary is not None and event.data != matcher.binary:
        return MatchResult(False, why="different bytes")
    matched = MatchResult(True)
    if matcher.has_text:
        result = match(matcher.text, event.text, variables=variables)
        if not result.matched:
            return MatchResult(False, why=result.why)
        _merge(matched, result, "text")
    if matcher.has_json:
        value = _parse_json(event.text)
        if value is _NOT_JSON:
            return MatchResult(False, why="not JSON")
        result = match(matcher.json, value, subset=matcher.subset, variables=variables)
        if not result.matched:
            return MatchResult(False, why=result.why)
        _merge(matched, result, "JSON")
    if matcher.has_msgpack:
        try:
            value = msgpack_unpack(event.data)
        except NotMsgpack:
            return MatchResult(False, why="not MessagePack of a JSON value")
        result = match(matcher.msgpack, value, subset=matcher.subset, variables=variables)
        if not result.matched:
            return MatchResult(False, why=result.why)
        _merge(matched, result, "MessagePack")
    return matched


def _match_close(matcher: model.CloseMatcher, event: Event, variables) -> MatchResult:
    if event.kind != "close":
        return MatchResult(False)
    if matcher.codes and event.code not in matcher.codes:
        return MatchResult(False, why=f"code {event.code}, not {_codes(matcher.codes)}")
    matched = MatchResult(True)
    if matcher.code_pattern is not None:
        result = match(matcher.code_pattern, event.code, variables=variables)
        if not result.matched:
            return MatchResult(False, why=f"code {result.why}")
        _merge(matched, result, "code")
    if matcher.has_reason:
        result = match(matcher.reason, event.reason, variables=variables)
        if not result.matched:
            return MatchResult(False, why=f"reason {result.why}")
        _merge(matched, result, "reason")
    return matched


def _merge(into: MatchResult, result: MatchResult, what: str) -> None:
    """Adds a part's captures, and its non-strict differences saying which part they are about."""
    into.captures.update(result.captures)
    into.differences += [f"{what} {difference}" for difference in result.differences]


def _match_ended(matcher: model.EndedMatcher, event: Event, variables) -> MatchResult:
    return MatchResult(event.kind in ("close", "dropped"))


def _match_nothing(matcher: model.NothingMatcher, event: Event, variables) -> MatchResult:
    return MatchResult(False)


_MATCHERS = {
    model.FrameMatcher: _match_frame, model.CloseMatcher: _match_close,
    model.EndedMatcher: _match_ended, model.NothingMatcher: _match_nothing,
}

_NOT_JSON = object()


def _parse_json(text: str) -> Any:
    def reject(constant: str):
        raise ValueError(constant)  # NaN and Infinity are not JSON

    try:
        return json.loads(text, parse_constant=reject)
    except ValueError:
        return _NOT_JSON


def _describe_matcher(matcher: model.EventMatcher, variables) -> str:
    """Frame, close and ended matchers; a quiet period's description depends on the run's timing."""
    if isinstance(matcher, model.FrameMatcher):
        return _describe_frame(matcher, variables)
    if isinstance(matcher, model.CloseMatcher):
        text = "close frame"
        if matcher.codes:
            text += f" {_codes(matcher.codes)}"
        if matcher.code_pattern is not None:
            text += f" code {describe(matcher.code_pattern, variables)}"
        if matcher.has_reason:
            text += f" reason {describe(matcher.reason, variables)}"
        return text
    return "the connection ends (a close frame with any code, or a drop)"


def _describe_frame(matcher: model.FrameMatcher, variables) -> str:
    text = f"{matcher.type} frame" if matcher.type else "frame"
    if matcher.any:
        text = "any " + text
    if matcher.has_text and isinstance(matcher.text, str):
        text += f" {show_text(_substituted_for_display(matcher.text, variables))}"
    elif matcher.has_text:
        text += f" {describe(matcher.text, variables)}"
    if matcher.has_json:
        text += f" with JSON {describe(matcher.json, variables)}"
        text += " (other keys allowed)" if matcher.subset else ""
    if matcher.has_msgpack:
        text += f" with MessagePack {describe(matcher.msgpack, variables)}"
        text += " (other keys allowed)" if matcher.subset else ""
    if matcher.binary is not None:
        shown = matcher.binary[:32].hex() + ("..." if len(matcher.binary) > 32 else "")
        text += f" ({len(matcher.binary)} bytes) {shown}"
    if matcher.size is not None:
        text += f" of {matcher.size} bytes"
    return text


def _substituted_for_display(text: str, variables) -> str:
    try:
        return substitute(text, variables)
    except UnknownVariable:
        return text


def _codes(codes: tuple[int, ...]) -> str:
    return " or ".join(str(code) for code in codes)
