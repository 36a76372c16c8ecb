"""Runs one scenario against a relay and says what happened: a ScenarioResult with the verdict
(pass, fail, error, notrun), the failing step, the requirement it is attributed to, every accepted
alternative, what arrived instead, and the wire log."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import quote

from . import model
from .client import (BadResponse, ConnectFailed, Event, HandshakeInvalid, HttpResponse,
                     RelayAddress, WebSocket, WireLog, http_exchange, is_reachable, open_websocket, show_text)
from .patterns import MatchResult, UnknownVariable, compact, describe, match, match_member, substitute, \
    substitute_json

DEFAULT_STEP_TIMEOUT_MS = 5000


@dataclass
class ScenarioResult:
    id: str
    verdict: str  # "pass" | "fail" | "error" | "notrun"
    requirement: str = ""
    level: str = ""
    step_index: Optional[int] = None
    step: Optional[dict] = None  # the step as written
    expected: list[str] = field(default_factory=list)  # every accepted alternative
    actual: str = ""  # what arrived instead, or for error/notrun what went wrong
    wire_log: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    def as_json(self) -> dict:
        """The shape of the C++ runner's --json entries."""
        report = {"id": self.id, "verdict": self.verdict, "duration_ms": round(self.duration_s * 1000)}
        if self.verdict != "pass":
            report.update(requirement=self.requirement, step=self.step_index, expected=self.expected,
                          actual=self.actual)
        return report


class StepFailed(Exception):
    """The relay deviates: an expectation did not hold."""

    def __init__(self, expected: list[str], actual: str) -> None:
        super().__init__(actual)
        self.expected, self.actual = expected, actual


class StepError(Exception):
    """The runner could not carry out a step; says nothing about the protocol."""


class RelayGone(Exception):
    """The relay stopped answering mid-run."""


async def run_scenario(scenario: model.Scenario, address: RelayAddress,
                       step_timeout_ms: int = DEFAULT_STEP_TIMEOUT_MS) -> ScenarioResult:
    return await _ScenarioRun(scenario, address, step_timeout_ms).run()


class _ScenarioRun:
    def __init__(self, scenario: model.Scenario, address: RelayAddress, step_timeout_ms: int) -> None:
        self.scenario, self.address, self.step_timeout_ms = scenario, address, step_timeout_ms
        self.variables: dict[str, Any] = {"serverId": f"{scenario.id}-{secrets.token_hex(8)}"}
        self.sockets: dict[str, WebSocket] = {}
        self.marks: dict[str, float] = {}
        self.log = WireLog()
        self.current: Optional[int] = None

    async def run(self) -> ScenarioResult:
        started = time.monotonic()
        try:
            await asyncio.wait_for(self._steps(), self.scenario.timeout_ms / 1000)
            result = ScenarioResult(self.scenario.id, "pass")
        except StepFailed as failure:
            result = self._result("fail", failure.actual, failure.expected)
        except (StepError, UnknownVariable) as error:
            result = self._result("error", str(error))
        except RelayGone as gone:
            result = self._result("notrun", str(gone))
        except asyncio.TimeoutError:
            result = self._timed_out()
        finally:
            await asyncio.gather(*(socket.shut() for socket in self.sockets.values()))
        result.duration_s = time.monotonic() - started
        result.wire_log = self.log.lines
        return result

    def _result(self, verdict: str, actual: str, expected: Optional[list[str]] = None) -> ScenarioResult:
        step = self.scenario.steps[self.current] if self.current is not None else None
        return ScenarioResult(self.scenario.id, verdict, self.scenario.requirement_of(self.current),
                              self.scenario.level, self.current, step.source if step else None,
                              expected or [], actual)

    def _timed_out(self) -> ScenarioResult:
        why = f"the scenario's timeout ({self.scenario.timeout_ms} ms) ran out during this step"
        step = self.scenario.steps[self.current]
        if isinstance(step.action, model.ExpectStep):
            return self._result("fail", f"nothing that matched before {why}", self._describe_expect(step.action))
        return self._result("error", f"step did not complete: {why}")

    async def _steps(self) -> None:
        for index, step in enumerate(self.scenario.steps):
            self.current = index
            await self._HANDLERS[type(step.action)](self, step.action)
            if step.mark:
                self.marks[step.mark] = asyncio.get_running_loop().time()

    # --- open ------------------------------------------------------------------------------

    async def _open(self, step: model.OpenStep) -> None:
        spec = self.scenario.sockets[step.socket]
        target = substitute(spec.path, self.variables) + "?" + self._query(spec)
        headers = {name: substitute(value, self.variables) for name, value in spec.headers.items()}
        outcome = await self._on_the_wire(
            open_websocket(step.socket, self.address, target, headers, self._step_timeout_s(), self.log),
            "handshake response")
        if step.refused is None:
            self._check_opened(step.socket, outcome)
        else:
            await self._check_refused(step.refused, outcome)

    def _query(self, spec: model.SocketSpec) -> str:
        if spec.query is not None:
            return substitute(spec.query, self.variables)
        fields = (("serverId", spec.server_id), ("v", spec.v), ("role", spec.role),
                  ("connectionId", spec.connection_id))
        return "&".join(f"{name}={quote(substitute(value, self.variables), safe='')}"
                        for name, value in fields if value is not None)

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

    # --- send, close, drop -------------------------------------------------------------------

    async def _send(self, step: model.SendStep) -> None:
        socket = self.sockets[step.socket]
        for i in range(step.repeat):
            await socket.send(step.type, self._payload(step, {**self.variables, "i": i}))

    @staticmethod
    def _payload(step: model.SendStep, variables: dict[str, Any]) -> bytes:
        if step.json:
            return compact(substitute_json(step.json_value, variables)).encode("utf-8")
        if isinstance(step.payload, str):
            return substitute(step.payload, variables).encode("utf-8")
        return step.payload

    async def _close(self, step: model.CloseStep) -> None:
        await self.sockets[step.socket].close(step.code, step.reason)

    async def _drop(self, step: model.DropStep) -> None:
        self.sockets[step.socket].drop()

    async def _mark(self, step: model.MarkStep) -> None:
        pass  # the mark itself is set after every step that names one

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
        for what, pattern, value in checks:
            result = match_member(pattern, value, variables=self.variables)
            if not result.matched:
                raise StepFailed(expected, f"{response.describe()} ({what} {result.why})")
            self.variables.update(result.captures)

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
            raise StepFailed([awaited], f"no {awaited} within {self.step_timeout_ms} ms") from None

    # --- expect ----------------------------------------------------------------------------------

    async def _expect(self, step: model.ExpectStep) -> None:
        for i in range(step.repeat):
            variables = {**self.variables, "i": i}
            await self._expect_one(step, variables, f" (event {i + 1} of {step.repeat})" if step.repeat > 1 else "")

    async def _expect_one(self, step: model.ExpectStep, variables: dict[str, Any], which: str) -> None:
        socket = self.sockets[step.socket]
        opens, closes = self._time_bounds(step)
        expected = [d + which for d in self._describe_expect(step, variables)]
        while True:
            event = await socket.next_event(closes)
            if event is None:
                if any(isinstance(m, model.NothingMatcher) for m in step.alternatives):
                    return
                raise StepFailed(expected, self._nothing_came(step))
            result, why = self._match_event(step.alternatives, event, variables)
            if result is not None:
                self._check_timing(step, event, opens, closes, expected)
                self.variables.update(result.captures)
                return
            if step.skip_other_frames and event.is_frame:
                continue
            raise StepFailed(expected, event.describe() + (f" ({why})" if why else ""))

    def _nothing_came(self, step: model.ExpectStep) -> str:
        if step.window:
            return f"nothing by {step.window.max_ms} ms after {step.window.after}"
        return f"nothing within {self._waited_ms(step)} ms"

    def _time_bounds(self, step: model.ExpectStep) -> tuple[Optional[float], float]:
        """(earliest, latest) loop times an event may arrive at."""
        if step.window:
            mark = self.marks[step.window.after]
            return mark + step.window.min_ms / 1000, mark + step.window.max_ms / 1000
        return None, asyncio.get_running_loop().time() + self._waited_ms(step) / 1000

    def _waited_ms(self, step: model.ExpectStep) -> int:
        if step.within_ms is not None:
            return step.within_ms
        if step.window:
            return step.window.max_ms
        if any(isinstance(m, model.NothingMatcher) for m in step.alternatives):
            return model.DEFAULT_NOTHING_MS
        return self.step_timeout_ms

    def _check_timing(self, step: model.ExpectStep, event: Event, opens: Optional[float], closes: float,
                      expected: list[str]) -> None:
        if not step.window:
            return
        after_ms = round((event.at - self.marks[step.window.after]) * 1000)
        if opens is not None and event.at < opens:
            raise StepFailed(expected, f"{event.describe()} too early, {after_ms} ms after {step.window.after}")
        if event.at > closes:
            raise StepFailed(expected, f"{event.describe()} too late, {after_ms} ms after {step.window.after}")

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

    def _describe_expect(self, step: model.ExpectStep, variables: Optional[dict] = None) -> list[str]:
        variables = variables if variables is not None else self.variables
        suffix = ""
        if step.window:
            suffix = f", between {step.window.min_ms} and {step.window.max_ms} ms after {step.window.after}"
        return [_describe_matcher(m, variables, self._waited_ms(step)) + suffix for m in step.alternatives]

    def _describe_http(self, expectation: model.HttpExpectation) -> str:
        parts = [f"HTTP {expectation.status}"]
        if expectation.has_body:
            parts.append(f"body {describe(expectation.body, self.variables)}")
        parts += [f"{name}: {describe(pattern, self.variables)}" for name, pattern in expectation.headers.items()]
        return ", ".join(parts)

    def _step_timeout_s(self) -> float:
        return self.step_timeout_ms / 1000

    _HANDLERS = {
        model.OpenStep: _open, model.SendStep: _send, model.ExpectStep: _expect, model.CloseStep: _close,
        model.DropStep: _drop, model.HttpStep: _http, model.MarkStep: _mark,
    }


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
    captures: dict[str, Any] = {}
    if matcher.has_text:
        result = match(matcher.text, event.text, variables=variables)
        if not result.matched:
            return MatchResult(False, why=result.why)
        captures.update(result.captures)
    if matcher.has_json:
        value = _parse_json(event.text)
        if value is _NOT_JSON:
            return MatchResult(False, why="not JSON")
        result = match(matcher.json, value, subset=matcher.subset, variables=variables)
        if not result.matched:
            return MatchResult(False, why=result.why)
        captures.update(result.captures)
    return MatchResult(True, captures)


def _match_close(matcher: model.CloseMatcher, event: Event, variables) -> MatchResult:
    if event.kind != "close":
        return MatchResult(False)
    if matcher.codes and event.code not in matcher.codes:
        return MatchResult(False, why=f"code {event.code}, not {_codes(matcher.codes)}")
    if matcher.has_reason:
        result = match(matcher.reason, event.reason, variables=variables)
        return result if result.matched else MatchResult(False, why=f"reason {result.why}")
    return MatchResult(True)


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


def _describe_matcher(matcher: model.EventMatcher, variables, waited_ms: int) -> str:
    if isinstance(matcher, model.FrameMatcher):
        return _describe_frame(matcher, variables)
    if isinstance(matcher, model.CloseMatcher):
        text = "close frame"
        if matcher.codes:
            text += f" {_codes(matcher.codes)}"
        if matcher.has_reason:
            text += f" reason {describe(matcher.reason, variables)}"
        return text
    if isinstance(matcher, model.EndedMatcher):
        return "the connection ends (a close frame with any code, or a drop)"
    return f"nothing for {waited_ms} ms"


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
