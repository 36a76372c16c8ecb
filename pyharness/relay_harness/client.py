"""The wire side: raw HTTP/1.1 over asyncio streams, and WebSocket clients whose handshake we do
ourselves (so a refusal's status, headers and body are all visible) and whose framing is the websockets
package's Sans-I/O layer (so a close frame is sent without waiting for an answer, and every event the
relay causes lands, in order, in the socket's own queue, stamped with when its bytes arrived). How
messages are framed (compressed, fragmented) is the socket's Transport, applied in open_websocket and
WebSocket.send only."""

from __future__ import annotations

import asyncio
import secrets
import struct
import time
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from websockets.client import ClientConnection
from websockets.connection import CLIENT, OPEN, Connection
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHandshake, PayloadTooBig
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import OP_BINARY, OP_CLOSE, OP_CONT, OP_TEXT
from websockets.http11 import Response
from websockets.uri import parse_uri
from websockets.utils import apply_mask

from .patterns import MISSING, compact

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
# The longest message a relay forwards (docs/protocol.md, LIMIT-1): a longer one is refused on its
# frame header, so a header announcing more costs no memory.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
# Events held back for a flooding relay, payloads and bookkeeping: past this the socket is dropped and
# the scenario errs, as in the C++ runner.
MAX_QUEUED_BYTES = 64 * 1024 * 1024
EVENT_BYTES = 200  # a queued Event beside its payload: 177 bytes, measured with tracemalloc
# A flooding relay must not grow the wire log, and every report, without bound.
MAX_WIRE_LOG_LINES = 10_000
# websockets masks in pure Python (Debian 12's 10.4 has no C speedups): 32 MiB at once holds the loop
# for about 120 ms, holding up every other scenario's sockets and stamping their events late by as
# much. Uncompressed messages from this size on are framed here, masked a slice at a time.
SLICED_MASKING_BYTES = 1024 * 1024
MASK_SLICE_BYTES = 1024 * 1024  # a multiple of 4: every slice starts on the mask's first byte
# Playing the relay (client checks): how long the runner's closing handshake may take before it cuts TCP.
CLOSE_TIMEOUT_S = 10.0


class ConnectFailed(Exception):
    """The relay could not be reached at TCP level."""


class BadResponse(Exception):
    """What came back is not an HTTP/1.1 response we can read."""


# --- the relay's address ------------------------------------------------------------------------

@dataclass(frozen=True)
class RelayAddress:
    host: str
    port: int

    @property
    def host_header(self) -> str:
        return f"{self.host}:{self.port}"


def parse_relay_url(url: str) -> RelayAddress:
    """ws://HOST:PORT (a path, if any, is ignored: scenarios give their own). Raises ValueError."""
    parts = urlsplit(url)
    if parts.scheme != "ws":
        raise ValueError(f"expected a ws:// URL, got {url!r}")
    try:
        port = parts.port or 80
    except ValueError:
        raise ValueError(f"bad port in {url!r}") from None
    if not parts.hostname:
        raise ValueError(f"no host in {url!r}")
    return RelayAddress(parts.hostname, port)


async def connect_tcp(address: RelayAddress, timeout_s: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        return await asyncio.wait_for(asyncio.open_connection(address.host, address.port, limit=MAX_HEAD_BYTES),
                                      timeout_s)
    except asyncio.TimeoutError:
        raise ConnectFailed(f"cannot connect to {address.host_header}: no answer within {timeout_s:g} s") from None
    except OSError as error:
        raise ConnectFailed(f"cannot connect to {address.host_header}: {error.strerror or error}") from None


async def is_reachable(address: RelayAddress, timeout_s: float = 2.0) -> Optional[str]:
    """None if a TCP connection opens, else why not."""
    try:
        _, writer = await connect_tcp(address, timeout_s)
    except ConnectFailed as error:
        return str(error)
    writer.transport.abort()
    return None


# --- plain HTTP -----------------------------------------------------------------------------------

@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str):
        """The value (repeated headers joined with ", "), or MISSING."""
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ", ".join(values) if values else MISSING

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def describe(self) -> str:
        headers = "; ".join(f"{key.lower()}: {value}" for key, value in self.headers)
        body = compact(self.text if len(self.text) <= 200 else self.text[:197] + "...")
        return f"HTTP {self.status} {self.reason} [{headers}] body {body}"


def request_bytes(method: str, target: str, host: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    if not any(name.lower() == "host" for name in headers):
        lines.append(f"Host: {host}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


async def read_response(reader: asyncio.StreamReader, method: str) -> HttpResponse:
    """One response; the caller bounds the wait. A 101 has no body: what follows is the WebSocket."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        response = _parse_head(head)
        if method != "HEAD" and response.status not in (101, 204, 304) and response.status >= 200:
            response.body = await _read_body(reader, response)
        return response
    except asyncio.IncompleteReadError as error:
        raise BadResponse("connection closed before a complete HTTP response"
                          + (f" (got {error.partial[:80]!r})" if error.partial else "")) from None
    except asyncio.LimitOverrunError:
        raise BadResponse(f"HTTP response head larger than {MAX_HEAD_BYTES} bytes") from None
    except ConnectionError as error:
        raise BadResponse(f"connection failed before a complete HTTP response: {error.strerror or error}") from None


def _parse_head(head: bytes) -> HttpResponse:
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise BadResponse(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers = []
    for line in filter(None, lines[1:]):
        name, colon, value = line.partition(":")
        if not colon:
            raise BadResponse(f"malformed header line: {line[:80]!r}")
        headers.append((name.strip(), value.strip()))
    return HttpResponse(int(code), reason, headers)


async def _read_body(reader: asyncio.StreamReader, response: HttpResponse) -> bytes:
    if "chunked" in str(response.header("transfer-encoding")).lower():
        return await _read_chunked(reader)
    length = response.header("content-length")
    if length is MISSING:
        return await _read_to_end(reader)
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        raise BadResponse(f"unusable Content-Length {length!r}")
    try:
        return await reader.readexactly(int(length))
    except asyncio.IncompleteReadError as error:
        raise BadResponse(f"body cut short: {len(error.partial)} of {length} bytes") from None


async def _read_to_end(reader: asyncio.StreamReader) -> bytes:
    """A body without a length ends when the server closes; one read() returns only what has come so far."""
    body = b""
    while chunk := await reader.read(1 << 16):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadResponse(f"body larger than {MAX_BODY_BYTES} bytes")
    return body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = b""
    try:
        while True:
            size = _chunk_size(await reader.readuntil(b"\r\n"))
            if size == 0:
                await reader.readuntil(b"\r\n")  # the empty trailer section
                return body
            if len(body) + size > MAX_BODY_BYTES:
                raise BadResponse(f"chunked body larger than {MAX_BODY_BYTES} bytes")
            body += await reader.readexactly(size)
            if await reader.readexactly(2) != b"\r\n":
                raise BadResponse(f"chunk of {size} bytes not followed by CRLF")
    except asyncio.IncompleteReadError:
        raise BadResponse(f"chunked body cut short: the connection closed before the last chunk "
                          f"({len(body)} body bytes in complete chunks)") from None
    except asyncio.LimitOverrunError:
        raise BadResponse(f"chunk size line longer than {MAX_HEAD_BYTES} bytes") from None


def _chunk_size(line: bytes) -> int:
    digits = line.split(b";")[0].strip()
    try:
        return int(digits, 16)
    except ValueError:
        raise BadResponse(f"malformed chunk size line {line[:80]!r}") from None


async def http_exchange(address: RelayAddress, method: str, target: str, headers: dict[str, str],
                        timeout_s: float) -> HttpResponse:
    """Connect, send one request, read one response, hang up. Raises ConnectFailed, BadResponse,
    asyncio.TimeoutError (no complete response in time)."""
    reader, writer = await connect_tcp(address, timeout_s)
    try:
        writer.write(request_bytes(method, target, address.host_header, headers))
        return await asyncio.wait_for(read_response(reader, method), timeout_s)
    finally:
        writer.transport.abort()


# --- WebSocket -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Transport:
    """How the runner frames what it sends. `deflate` offers permessage-deflate exactly as Node's `ws`
    client does by default and compresses when the relay accepts; `fragments` > 1 splits every message
    into that many frames. Receiving is the same for every transport."""
    name: str
    deflate: bool = False
    fragments: int = 1


TRANSPORTS = {transport.name: transport for transport in
              (Transport("plain"), Transport("deflate", deflate=True), Transport("fragmented", fragments=3))}
PLAIN = TRANSPORTS["plain"]


async def masked_frame(opcode: int, payload: bytes, fin: bool) -> list[bytes]:
    """A client frame as websockets writes one without extensions (RFC 6455 5.2, a fresh random mask),
    its payload masked a slice at a time with the loop free in between."""
    head1 = (0x80 if fin else 0) | opcode
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", head1, 0x80 | length)
    elif length < 65536:
        head = struct.pack("!BBH", head1, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", head1, 0x80 | 127, length)
    mask = secrets.token_bytes(4)
    parts = [head, mask]
    for start in range(0, length, MASK_SLICE_BYTES):
        parts.append(apply_mask(payload[start:start + MASK_SLICE_BYTES], mask))
        await asyncio.sleep(0)
    return parts


def split_message(payload: bytes, fragments: int) -> list[bytes]:
    """The frame payloads of one message: up to `fragments` pieces, never fewer than two when
    fragmenting (a message shorter than that gets empty pieces, which the protocol allows)."""
    if fragments < 2:
        return [payload]
    size = max(1, -(-len(payload) // fragments))
    pieces = [payload[start:start + size] for start in range(0, len(payload), size)]
    return pieces + [b""] * (2 - len(pieces))


@dataclass(frozen=True)
class Event:
    """What the relay did to one socket: a message, a close frame, a dropped connection, or something
    no client accepts (an invalid frame, which ends the connection as a client would end it)."""
    kind: str  # "text" | "binary" | "close" | "dropped" | "invalid"
    at: float  # loop time in ms at which the bytes completing it were read off the socket
    data: bytes = b""
    code: int = 1006
    reason: str = ""  # a close frame's reason; for "invalid", what was wrong

    @property
    def is_frame(self) -> bool:
        return self.kind in ("text", "binary")

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def describe(self) -> str:
        if self.kind == "text":
            text = self.text  # decoded once: a message may be 32 MiB
            suffix = f" ({len(self.data)} bytes)" if len(text) > 300 else ""
            return f"text frame {show_text(text)}{suffix}"
        if self.kind == "binary":
            shown = self.data[:32].hex() + ("..." if len(self.data) > 32 else "")
            return f"binary frame ({len(self.data)} bytes) {shown}"
        if self.kind == "close":
            return f"close frame {self.code} {compact(self.reason)}"
        if self.kind == "invalid":
            return f"the relay sent an invalid frame: {self.reason}"
        return "connection dropped without a close frame (1006)"


def show_text(text: str, limit: int = 300) -> str:
    """Text between backticks as it is when printable, else JSON-escaped; long text cut."""
    shown = text if len(text) <= limit else text[:limit - 3] + "..."
    return f"`{shown}`" if shown.isprintable() else compact(shown)


def loop_ms() -> float:
    """The clock every event, mark and deadline is on: the running loop's monotonic time, in ms."""
    return asyncio.get_running_loop().time() * 1000


class WireLog:
    """Everything that crossed the wire in one scenario, timestamped from its start: the first
    MAX_WIRE_LOG_LINES lines, then only how many more there were."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.kept: list[str] = []
        self.unlogged = 0

    def add(self, socket: str, direction: str, what: str) -> None:
        if len(self.kept) >= MAX_WIRE_LOG_LINES:
            self.unlogged += 1
            return
        self.kept.append(f"+{time.monotonic() - self.start:7.3f}s {socket:>12} {direction} {what}")

    @property
    def lines(self) -> list[str]:
        return self.kept + ([f"({self.unlogged} more wire events not logged)"] if self.unlogged else [])


@dataclass
class Refused:
    """The handshake did not get a 101."""
    response: HttpResponse


@dataclass
class HandshakeInvalid:
    """A 101 that a WebSocket client must reject (wrong accept key, unrequested extension...)."""
    response: HttpResponse
    why: str


class WebSocket:
    """One open WebSocket: events queue up as they arrive; sends never wait for the peer's answer.
    Usually the runner's client socket to a relay; with a server-side connection (client checks, the
    runner playing the relay) it is a socket the runner accepted, and closes as a server does."""

    def __init__(self, name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 connection: Connection, log: WireLog, transport: Transport = PLAIN) -> None:
        self.name = name
        self._reader, self._writer, self._conn, self._log = reader, writer, connection, log
        self._transport = transport
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._queued_bytes = 0
        self.overflowed = False  # more than MAX_QUEUED_BYTES came unread: the socket was dropped
        self._fragments: list[bytes] = []
        self._fragment_kind = ""
        self._ended = False  # a close frame, a drop or an invalid frame has been queued
        self._rejected = False  # the relay sent something invalid, or overflowed the queue: stop reading
        self._dropped_by_us = False
        self._is_client = connection.side is CLIENT
        self._close_timer: Optional[asyncio.TimerHandle] = None
        self._pump_task = asyncio.get_running_loop().create_task(self._pump())

    # -- receiving

    async def next_event(self, deadline: float) -> Optional[Event]:
        """The oldest unread event, waiting until `deadline` (loop_ms); None if nothing came."""
        try:
            return self._taken(self._events.get_nowait())
        except asyncio.QueueEmpty:
            pass
        remaining = deadline - loop_ms()
        if remaining <= 0:
            return None
        try:
            return self._taken(await asyncio.wait_for(self._events.get(), remaining / 1000))
        except asyncio.TimeoutError:
            return None

    def _taken(self, event: Event) -> Event:
        self._queued_bytes -= EVENT_BYTES + len(event.data)
        return event

    async def _pump(self) -> None:
        try:
            while not self._rejected:
                data = await self._reader.read(1 << 16)
                arrived = loop_ms()  # before parsing: an event's time is when its bytes came in
                if not data:
                    self._conn.receive_eof()
                    break
                self._conn.receive_data(data)
                for frame in self._conn.events_received():
                    self._on_frame(frame, arrived)
                self._check_parser(arrived)
                self._flush()
        except (ConnectionError, OSError):
            pass
        finally:
            self._on_connection_end()

    def _on_frame(self, frame, arrived: float) -> None:
        if self._rejected:
            return  # a client reads nothing after failing the connection
        if frame.opcode in (OP_TEXT, OP_BINARY):
            self._fragment_kind = "text" if frame.opcode == OP_TEXT else "binary"
            self._fragments = [frame.data]
        elif frame.opcode == OP_CONT:
            self._fragments.append(frame.data)
        elif frame.opcode == OP_CLOSE and not self._ended:
            close = self._conn.close_rcvd
            self._push(Event("close", arrived, code=close.code, reason=close.reason))
            return
        else:
            return  # pings are answered by the Sans-I/O layer; pongs mean nothing here
        if frame.fin:
            data, self._fragments = b"".join(self._fragments), []
            why = _invalid_utf8(data) if self._fragment_kind == "text" else ""
            if why:
                # The Sans-I/O layer leaves text validation to its callers; a client closes with 1007.
                self._conn.fail(1007, "invalid UTF-8")
                self._reject(arrived, f"a text message that is not valid UTF-8 ({why})")
            else:
                self._push(Event(self._fragment_kind, arrived, data=data))

    def _check_parser(self, arrived: float) -> None:
        """The Sans-I/O layer failed the connection (and queued its close frame) on a frame no client
        accepts; an unexpected end of stream is a drop, reported when the stream ends."""
        error = self._conn.parser_exc
        if error is not None and not isinstance(error, EOFError) and not self._rejected:
            self._reject(arrived, _invalid_frame_why(error))

    def _reject(self, arrived: float, why: str) -> None:
        self._rejected = True
        if not self._ended:
            self._push(Event("invalid", arrived, reason=why))

    def _on_connection_end(self) -> None:
        if not self._ended and not self._dropped_by_us:
            self._push(Event("dropped", loop_ms()))
        if self._close_timer:
            self._close_timer.cancel()
        self._writer.transport.abort()

    def _push(self, event: Event) -> None:
        self._queued_bytes += EVENT_BYTES + len(event.data)
        if self._queued_bytes > MAX_QUEUED_BYTES:
            self.overflowed = self._rejected = self._dropped_by_us = True
            self._writer.transport.abort()
            return
        self._ended = self._ended or not event.is_frame
        self._log.add(self.name, "<", event.describe())
        self._events.put_nowait(event)

    # -- sending

    async def send(self, kind: str, payload: bytes) -> None:
        if not self._can_send("frame"):
            return
        pieces = split_message(payload, self._transport.fragments)
        if len(payload) >= SLICED_MASKING_BYTES and not self._conn.extensions and self._is_client:
            first = OP_TEXT if kind == "text" else OP_BINARY
            frames = [await masked_frame(OP_CONT if number else first, piece, number == len(pieces) - 1)
                      for number, piece in enumerate(pieces)]
            if not self._can_send("frame"):  # the relay ended the connection meanwhile
                return
            self._flush()  # whatever the Sans-I/O layer queued first (a pong) goes first
            for parts in frames:
                self._writer.writelines(parts)
        else:
            start = self._conn.send_text if kind == "text" else self._conn.send_binary
            start(pieces[0], fin=len(pieces) == 1)
            for number, piece in enumerate(pieces[1:], start=2):
                self._conn.send_continuation(piece, fin=number == len(pieces))
        framing = f" in {len(pieces)} frames" if len(pieces) > 1 else ""
        self._log.add(self.name, ">", Event(kind, 0, data=payload).describe() + framing)
        await self._drain()

    async def close(self, code: int, reason: str) -> None:
        """Sends a close frame and returns: the official relay does not answer close frames. A server-side
        socket then completes the closing handshake in the background: the peer's answering close frame
        ends it (the Sans-I/O layer then asks to close TCP), else TCP is cut after CLOSE_TIMEOUT_S."""
        if not self._can_send("close frame"):
            return
        self._conn.send_close(code, reason)
        self._log.add(self.name, ">", f"close frame {code} {compact(reason)}")
        if not self._is_client:
            self._close_timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, self._writer.transport.abort)
        await self._drain()

    @property
    def is_open(self) -> bool:
        return self._conn.state is OPEN and not self._writer.transport.is_closing()

    def drop(self) -> None:
        """Cuts the TCP connection without a close frame."""
        self._dropped_by_us = True
        self._log.add(self.name, ">", "drop (TCP connection cut, no close frame)")
        self._writer.transport.abort()

    async def shut(self) -> None:
        """End of scenario: cut the connection and stop reading."""
        self._dropped_by_us = True
        self._writer.transport.abort()
        self._pump_task.cancel()
        await asyncio.gather(self._pump_task, return_exceptions=True)

    def _can_send(self, what: str) -> bool:
        # Sending on a connection the relay has already ended is not a fault of the runner: the
        # steps that follow say whether the relay was right to end it.
        if self.is_open:
            return True
        self._log.add(self.name, ">", f"({what} not sent: the connection is already closing)")
        return False

    def _flush(self) -> None:
        for data in self._conn.data_to_send():
            if data:
                self._writer.write(data)
            elif not self._is_client:
                self._writer.close()  # a server closes TCP once the closing handshake is done
            elif self._writer.can_write_eof() and not self._writer.transport.is_closing():
                self._writer.write_eof()

    async def _drain(self) -> None:
        self._flush()
        try:
            await self._writer.drain()
        except (ConnectionError, OSError):
            self._log.add(self.name, ">", "(send interrupted: the connection was lost)")


def _invalid_utf8(data: bytes) -> str:
    """Why `data` is not UTF-8, or ""."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"{error.reason} at byte {error.start}"
    return ""


def _invalid_frame_why(error: Exception) -> str:
    if isinstance(error, PayloadTooBig):
        return f"a message longer than {MAX_MESSAGE_BYTES} bytes, more than a relay forwards ({error})"
    if isinstance(error, UnicodeDecodeError):
        return f"a close frame whose reason is not valid UTF-8 ({error.reason} at byte {error.start})"
    return str(error) or type(error).__name__


async def open_websocket(name: str, address: RelayAddress, target: str, headers: dict[str, str],
                         timeout_s: float, log: WireLog, transport: Transport = PLAIN):
    """WebSocket on a 101, else Refused or HandshakeInvalid. Raises ConnectFailed, BadResponse,
    asyncio.TimeoutError (no handshake answer in time)."""
    # A bare factory offers `permessage-deflate; client_max_window_bits`, as Node's ws client does.
    offers = [ClientPerMessageDeflateFactory()] if transport.deflate else None
    handshake = ClientConnection(parse_uri(f"ws://{address.host_header}{target}"), extensions=offers)
    request = handshake.connect()
    for header, value in headers.items():
        if header in request.headers:
            del request.headers[header]  # a scenario's header replaces the default of that name
        request.headers[header] = value
    reader, writer = await connect_tcp(address, timeout_s)
    log.add(name, ">", f"GET {target}")
    try:
        writer.write(request.serialize())
        response = await asyncio.wait_for(read_response(reader, "GET"), timeout_s)
    except BaseException:
        writer.transport.abort()
        raise
    extensions = response.header("sec-websocket-extensions")
    log.add(name, "<", f"HTTP {response.status} {response.reason}" + (f" ({extensions})" if extensions is not MISSING else ""))
    if response.status != 101:
        writer.transport.abort()
        return Refused(response)
    why = _handshake_problem(handshake, response)
    if why:
        writer.transport.abort()
        return HandshakeInvalid(response, why)
    # A fresh connection object in the OPEN state parses frames from the first byte after the 101,
    # with the extensions the handshake negotiated.
    connection = ClientConnection(handshake.wsuri, state=OPEN, max_size=MAX_MESSAGE_BYTES)
    connection.extensions = handshake.extensions
    return WebSocket(name, reader, writer, connection, log, transport)


def _handshake_problem(handshake: ClientConnection, response: HttpResponse) -> str:
    headers = Headers()
    for name, value in response.headers:
        headers[name] = value
    try:
        handshake.process_response(Response(101, response.reason, headers))
    except InvalidHandshake as error:
        return str(error)
    return ""
