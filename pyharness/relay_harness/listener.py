"""The relay's side of the wire, for client checks (the runner plays the relay): a loopback listener
that reads each connection's handshake request, stamps when it was fully read, and holds it
unanswered until an `accept` step claims it (a 101, then a WebSocket of client.py over the websockets
package's server-side Sans-I/O layer: no extension negotiated, no pings of its own, 32 MiB messages) or
refuses it (an HTTP response, then the TCP connection closed). A socket's pattern is matched against
the request here: path, the profile's query fields percent-decoded, headers."""

from __future__ import annotations

import asyncio
import http
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import unquote_plus

from websockets.server import ServerConnection

from . import model
from .client import MAX_HEAD_BYTES, MAX_MESSAGE_BYTES, WebSocket, WireLog, loop_ms
from .patterns import MISSING, MatchResult, compact, describe, match_member
from .profile import Profile

HEAD_TIMEOUT_S = 10.0  # a connection that sends no complete request head by then is cut
HOST = "127.0.0.1"


@dataclass
class Arrival:
    """A connection whose handshake request has been read, not yet answered."""
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    connection: ServerConnection  # has parsed the request; answers it and then frames the WebSocket
    request: Any  # websockets.http11.Request
    at: float  # loop_ms when the request head was fully read
    number: int  # in arrival order, from 1

    @property
    def target(self) -> str:
        return self.request.path

    @property
    def gone(self) -> bool:
        """The client gave up on it before it was answered."""
        return (self.reader.at_eof() or self.reader.exception() is not None
                or self.writer.transport.is_closing())

    def describe(self) -> str:
        return f"connection #{self.number} GET {self.target}"

    def parts(self) -> tuple[str, dict[str, str], str]:
        """Path, query parameters (percent-decoded, `+` as a space; the first of a repeated name), raw query."""
        path, _, query = self.target.partition("?")
        parameters: dict[str, str] = {}
        for item in filter(None, query.split("&")):
            name, _, value = item.partition("=")
            parameters.setdefault(unquote_plus(name), unquote_plus(value))
        return path, parameters, query

    def header(self, name: str):
        values = self.request.headers.get_all(name)
        return ", ".join(values) if values else MISSING


def match_request(spec: model.SocketSpec, arrival: Arrival, profile: Profile, variables: dict[str, Any]) -> MatchResult:
    """Whether the request matches a client scenario's socket pattern: path (default the profile's),
    each named query field (`$absent`: not in the query), the raw query if given, each named header.
    Captures of earlier parts are visible to later ones."""
    path, parameters, query = arrival.parts()
    checks = [("path", spec.path if spec.path is not None else profile.socket_path, path)]
    checks += [(f"query {name}", pattern, parameters.get(name, MISSING)) for name, pattern in spec.fields.items()]
    checks += [("query", spec.query, query)] if spec.query is not None else []
    checks += [(f"header {name}", pattern, arrival.header(name)) for name, pattern in spec.headers.items()]
    matched = MatchResult(True)
    for what, pattern, value in checks:
        result = match_member(pattern, value, variables={**variables, **matched.captures})
        if not result.matched:
            return MatchResult(False, why=f"{what} {result.why}")
        matched.captures.update(result.captures)
        matched.differences += [f"{what} {difference}" for difference in result.differences]
    return matched


def describe_request_pattern(spec: model.SocketSpec, profile: Profile, variables: dict[str, Any]) -> str:
    parts = [f"path {describe(spec.path if spec.path is not None else profile.socket_path, variables)}"]
    parts += [f"{name} {describe(pattern, variables)}" for name, pattern in spec.fields.items()]
    parts += [f"query {describe(spec.query, variables)}"] if spec.query is not None else []
    parts += [f"header {name} {describe(pattern, variables)}" for name, pattern in spec.headers.items()]
    return ", ".join(parts)


@dataclass
class Listener:
    """Listens on 127.0.0.1; every connection's request waits in `pending`, in arrival order."""
    server: Optional[asyncio.base_events.Server] = None
    port: int = 0
    pending: list[Arrival] = field(default_factory=list)
    log: WireLog = field(default_factory=WireLog)  # the current scenario's: arrivals are logged there
    _waiters: list[asyncio.Future] = field(default_factory=list)
    _count: int = 0
    _handlers: set = field(default_factory=set)

    @classmethod
    async def start(cls, port: int = 0) -> "Listener":
        listener = cls()
        listener.server = await asyncio.start_server(listener._on_connection, HOST, port, limit=MAX_HEAD_BYTES)
        listener.port = listener.server.sockets[0].getsockname()[1]
        return listener

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}"

    async def stop(self) -> None:
        """Stops listening and cuts every connection still waiting for an answer."""
        if self.server:
            self.server.close()
        for arrival in self.pending:
            arrival.writer.transport.abort()
        self.pending.clear()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    # -- arrivals

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._handlers.add(asyncio.current_task())
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            self.log.add("(listener)", "<", "a connection that sent no complete request head; cut")
            writer.transport.abort()
            return
        finally:
            self._handlers.discard(asyncio.current_task())
        at = loop_ms()
        connection = ServerConnection(max_size=MAX_MESSAGE_BYTES)  # no extensions offered back, no origin check
        connection.receive_data(head)
        requests = connection.events_received()
        if not requests:
            why = connection.parser_exc or "not an HTTP/1.1 GET request"
            self.log.add("(listener)", "<", f"an unreadable request ({why}): {compact(head[:120].decode('latin-1'))}; cut")
            writer.transport.abort()
            return
        self._count += 1
        arrival = Arrival(reader, writer, connection, requests[0], at, self._count)
        self.log.add("(listener)", "<", f"{arrival.describe()}")
        self.pending.append(arrival)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait_arrival(self, deadline: float) -> bool:
        """Waits for the next arrival until `deadline` (loop_ms); False if none came."""
        remaining = deadline - loop_ms()
        if remaining <= 0:
            return False
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, remaining / 1000)
            return True
        except asyncio.TimeoutError:
            return False

    def find(self, spec: model.SocketSpec, profile: Profile, variables: dict[str, Any]):
        """The first pending arrival matching `spec` (connections the client gave up are dropped from the
        queue), with its match; else (None, the non-matching arrivals with why each did not match)."""
        misses = []
        for arrival in list(self.pending):
            if arrival.gone:
                self.pending.remove(arrival)
                self.log.add("(listener)", "<", f"{arrival.describe()}: the client gave it up unanswered")
                continue
            result = match_request(spec, arrival, profile, variables)
            if result.matched:
                return arrival, result
            misses.append((arrival, result.why))
        return None, misses

    # -- answers

    async def accept(self, arrival: Arrival, name: str, log: WireLog) -> WebSocket:
        """Answers with a 101 (no extension, whatever the client offered); the connection becomes a
        socket named `name`. Raises HandshakeRejected when the request is no valid WebSocket handshake
        (it has then been answered as websockets answers one)."""
        self.pending.remove(arrival)
        connection = arrival.connection
        response = connection.accept(arrival.request)
        connection.send_response(response)
        for data in connection.data_to_send():
            if data:
                arrival.writer.write(data)
        if response.status_code != 101:
            arrival.writer.close()
            why = (response.body or b"").decode("utf-8", "replace").strip()
            log.add(name, ">", f"HTTP {response.status_code} {response.reason_phrase}: {why}")
            raise HandshakeRejected(f"{arrival.describe()} is not a valid WebSocket handshake: {why}")
        log.add(name, "<", f"GET {arrival.target}")
        log.add(name, ">", "HTTP 101 Switching Protocols")
        return WebSocket(name, arrival.reader, arrival.writer, connection, log)

    async def refuse(self, arrival: Arrival, refusal: model.Refusal, name: str, log: WireLog) -> None:
        """Answers with the refusal's HTTP response and closes the TCP connection."""
        self.pending.remove(arrival)
        try:
            phrase = http.HTTPStatus(refusal.status).phrase
        except ValueError:
            phrase = "Refused"
        body = refusal.body.encode("utf-8")
        headers = {"Content-Type": "text/plain; charset=utf-8", **refusal.headers,
                   "Content-Length": str(len(body)), "Connection": "close"}
        head = f"HTTP/1.1 {refusal.status} {phrase}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        arrival.writer.write(head.encode("latin-1") + b"\r\n" + body)
        arrival.writer.close()
        log.add(name, "<", f"GET {arrival.target}")
        log.add(name, ">", f"HTTP {refusal.status} {phrase} (refused)")


class HandshakeRejected(Exception):
    """The client's request to be accepted is no valid WebSocket handshake."""
