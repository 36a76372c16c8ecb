#!/usr/bin/python3
"""A loopback proxy in front of a local-first relay that breaks one requirement on purpose: the
"deliberately broken variant" the profile's scenarios must catch (ci/tests/test_localfirst_profile.py).

    deviating_proxy.py --target 127.0.0.1:PORT --deviation NAME [--listen 127.0.0.1:0]

The first stdout line is the proxy's own URL, `ws://HOST:PORT`. Every connection is forwarded to
--target byte for byte (plain HTTP, handshakes, frames both ways, closes and drops), except for what
the one deviation changes:

  text-as-binary  LF-CONN-3   a text message the relay sends on a /connection socket reaches the
                              client as a binary one (same payload)
  close-held      LF-CONN-5   a connection request still without a match 3 s after its 101 is closed:
                              the client gets a close frame without status, the relay a TCP close
  late-joiner     LF-INTRO-5  a Join is answered with one Introduction at most: a late joiner meets
                              only the first peer already there (the others still meet it)
  http-404        LF-HTTP-2   an upgrade to a path that is no route is refused with HTTP 404 instead
                              of the relay's 101 and close

The proxy parses only what it needs: the request head (method, path, Upgrade), the response's status
line and WebSocket frame headers; late-joiner also decodes the MessagePack on introduction sockets.
Each deviation keeps its own bookkeeping of what it forwarded: close-held takes a request as held until
one with its key swapped opens after it; late-joiner takes an Introduction to S about P as an answer to
S's Join when S's last Join went through the proxy after P's. SIGTERM or SIGINT stops it (connections
are cut), exit 0; exit 2 on bad arguments, 1 if it cannot listen. Our own code, written for these tests:
nothing of the relay's package is in it.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

import msgpack

DEVIATIONS = {
    "text-as-binary": "LF-CONN-3",
    "close-held": "LF-CONN-5",
    "late-joiner": "LF-INTRO-5",
    "http-404": "LF-HTTP-2",
}
CHUNK_BYTES = 64 * 1024
MAX_HEAD_BYTES = 64 * 1024
HOLD_S = 3.0           # close-held: how long a request may wait for its match
LINGER_S = 2.0         # how long a client's last bytes are still read once the relay's side has ended
OP_TEXT, OP_BINARY = 0x1, 0x2

INTRODUCTION = re.compile(r"/introduction/([^/]+)/?", re.IGNORECASE)
CONNECTION = re.compile(r"/connection/([^/]+)/([^/]+)/([^/]+)/?", re.IGNORECASE)
PERCENT_ENCODED = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")


def route(path: str) -> tuple[str, tuple[str, ...]] | None:
    """("introduction", (peer,)) or ("connection", (A, B, doc)) as the relay's Express routes read the
    path (case-insensitive, an optional trailing slash, parameters percent-decoded as UTF-8), or None."""
    for kind, pattern in (("introduction", INTRODUCTION), ("connection", CONNECTION)):
        found = pattern.fullmatch(path)
        if found is None:
            continue
        params = []
        for raw in found.groups():
            if not PERCENT_ENCODED.fullmatch(raw):
                return None
            try:
                params.append(unquote_to_bytes(raw).decode("utf-8"))
            except UnicodeDecodeError:
                return None
        return kind, tuple(params)
    return None


@dataclass
class FrameHead:
    opcode: int
    length: int
    raw: bytes


class FrameCutter:
    """Cuts one direction of a WebSocket stream into frame headers and payload pieces as bytes arrive,
    so a frame is never held back whole: `feed` returns ("head", FrameHead) and ("data", bytes) items,
    and ("end", FrameHead) once a frame's payload is complete."""

    def __init__(self) -> None:
        self._head = b""  # an incomplete frame header
        self._left = 0    # payload bytes of the current frame still to come
        self._current: FrameHead | None = None

    def at_boundary(self) -> bool:
        return not self._head and not self._left

    def feed(self, data: bytes) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        while data:
            if self._left:
                piece, data = data[:self._left], data[self._left:]
                self._left -= len(piece)
                out.append(("data", piece))
                if not self._left:
                    out.append(("end", self._current))
                continue
            self._head += data
            data = b""
            size = self._head_size()
            if size is None or len(self._head) < size:
                break
            raw, data, self._head = self._head[:size], self._head[size:], b""
            length = raw[1] & 0x7F
            if length == 126:
                length = int.from_bytes(raw[2:4], "big")
            elif length == 127:
                length = int.from_bytes(raw[2:10], "big")
            self._left, self._current = length, FrameHead(raw[0] & 0x0F, length, raw)
            out.append(("head", self._current))
            if not length:
                out.append(("end", self._current))
        return out

    def _head_size(self) -> int | None:
        if len(self._head) < 2:
            return None
        length = self._head[1] & 0x7F
        extended = 2 if length == 126 else 8 if length == 127 else 0
        return 2 + extended + (4 if self._head[1] & 0x80 else 0)


class Messages:
    """The client's messages on one socket, unmasked and decoded as MessagePack (None if they are not
    one value), for late-joiner's bookkeeping."""

    def __init__(self) -> None:
        self._cutter = FrameCutter()
        self._frame: list[bytes] = []
        self._message: list[bytes] = []

    def feed(self, data: bytes) -> list[object]:
        out = []
        for item, value in self._cutter.feed(data):
            if item == "data":
                self._frame.append(value)
            elif item == "end":
                payload, self._frame = b"".join(self._frame), []
                if value.raw[1] & 0x80:  # masked, as every client frame is
                    key = value.raw[-4:]
                    payload = bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))
                if value.opcode in (OP_TEXT, OP_BINARY, 0x0):
                    self._message.append(payload)
                    if value.raw[0] & 0x80:  # FIN
                        out.append(self._unpack(b"".join(self._message)))
                        self._message = []
        return out

    @staticmethod
    def _unpack(payload: bytes) -> object:
        try:
            return msgpack.unpackb(payload, raw=False, strict_map_key=False)
        except Exception:  # not one MessagePack value: the relay ignores it too
            return None

    @classmethod
    def decode(cls, frame: bytes) -> object:
        """One whole unmasked frame from the relay: its payload decoded, or None."""
        items = FrameCutter().feed(frame)
        if not items or items[0][1].opcode not in (OP_TEXT, OP_BINARY):
            return None
        return cls._unpack(b"".join(value for item, value in items if item == "data"))


@dataclass(eq=False)
class Request:
    """A connection request the proxy forwarded, for close-held's own matching."""
    key: tuple[str, ...]
    held: bool = True
    close: asyncio.Event = field(default_factory=asyncio.Event)


class DeviatingProxy:
    def __init__(self, target: tuple[str, int], deviation: str, listen: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        if deviation not in DEVIATIONS:
            raise ValueError(f"unknown deviation {deviation!r}; one of {', '.join(DEVIATIONS)}")
        self.target, self.deviation, self.listen = target, deviation, listen
        self.url = ""
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._requests: list[Request] = []  # close-held: open connection requests, oldest first
        self._joins = 0                     # late-joiner: Joins forwarded so far
        self._last_join: dict[str, int] = {}  # late-joiner: peer id -> the number of its last Join

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._accepted, self.listen[0], self.listen[1], limit=MAX_HEAD_BYTES)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.url = f"ws://{host}:{port}"
        return self.url

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = request_line.split(" ")
        path = parts[1].split("?", 1)[0] if len(parts) == 3 else ""
        upgrade = any(line.lower().replace(" ", "").startswith("upgrade:websocket") for line in header_lines)
        found = route(path) if upgrade else None
        if self.deviation == "http-404" and upgrade and found is None:
            body = b"Not Found\n"
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n%s" % (len(body), body))
            await writer.drain()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target, limit=MAX_HEAD_BYTES)
        try:
            up_writer.write(head)
            await self._pipe(reader, writer, up_reader, up_writer, found)
        finally:
            up_writer.transport.abort()

    async def _pipe(self, reader, writer, up_reader, up_writer, found) -> None:
        kind = found[0] if found else None
        joiners = kind == "introduction" and self.deviation == "late-joiner"
        peer = found[1][0] if joiners else ""
        answers = 0  # late-joiner: Introductions answering this socket's last Join
        request = None

        async def upstream() -> None:
            """Client to relay, as it comes; late-joiner notes the Joins on an introduction socket."""
            nonlocal answers
            messages = Messages() if joiners else None
            relay_gone = False
            while data := await reader.read(CHUNK_BYTES):
                for value in messages.feed(data) if messages else ():
                    if isinstance(value, dict) and value.get("type") == "Join":
                        self._joins += 1
                        self._last_join[peer], answers = self._joins, 0
                if relay_gone:
                    continue  # the relay closed: what the client still sends goes nowhere
                try:
                    up_writer.write(data)
                    await up_writer.drain()
                except OSError:
                    relay_gone = True
            up_writer.close()

        def answered_too_often(frame: bytes) -> bool:
            """late-joiner: whether this whole frame from the relay is an Introduction to drop."""
            nonlocal answers
            value = Messages.decode(frame)
            if not isinstance(value, dict) or value.get("type") != "Introduction":
                return False
            if self._last_join.get(peer, -1) <= self._last_join.get(value.get("peerId"), -1):
                return False  # the other peer's Join brought it
            answers += 1
            return answers > 1

        async def downstream() -> None:
            """Relay to client: the response head, then frames, changed as the deviation says."""
            nonlocal request
            status = await up_reader.readuntil(b"\r\n\r\n")
            writer.write(status)
            switched = status.startswith(b"HTTP/1.1 101")
            if switched and kind == "connection" and self.deviation == "close-held":
                request = self._open_request(found[1])
            cutter = FrameCutter() if switched and kind else None
            frame: list[bytes] = []  # late-joiner: a frame is forwarded once whole
            reads = asyncio.ensure_future(up_reader.read(CHUNK_BYTES))
            closing = asyncio.ensure_future(request.close.wait()) if request else None
            try:
                while True:
                    await writer.drain()
                    waiting = {reads} | ({closing} if closing else set())
                    done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    if closing in done and cutter.at_boundary():
                        writer.write(b"\x88\x00")  # a close frame without status, then the relay is cut off
                        return
                    if reads not in done:
                        closing = None  # mid-frame: close once this read is through
                        continue
                    data = reads.result()
                    if not data:
                        return
                    if cutter is None:
                        writer.write(data)
                    else:
                        for item, value in cutter.feed(data):
                            if joiners:
                                frame.append(value.raw if item == "head" else value if item == "data" else b"")
                                if item == "end":
                                    whole, frame = b"".join(frame), []
                                    if not answered_too_often(whole):
                                        writer.write(whole)
                            elif item == "head":
                                writer.write(self._changed(kind, value))
                            elif item == "data":
                                writer.write(value)
                    reads = asyncio.ensure_future(up_reader.read(CHUNK_BYTES))
            finally:
                for future in (reads, closing):
                    if future is not None:
                        future.cancel()
                await writer.drain()

        tasks = [asyncio.ensure_future(upstream()), asyncio.ensure_future(downstream())]
        try:
            await tasks[1]  # the client's side ends when the relay's does (or a deviation ends it)
            # The relay learns at once; the client gets a FIN after the last bytes, and what it is
            # still sending is read and dropped for a while, so that no reset overtakes them.
            up_writer.transport.abort()
            if writer.can_write_eof():
                writer.write_eof()
            await asyncio.wait([tasks[0]], timeout=LINGER_S)
        finally:
            tasks[0].cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if request is not None:
                self._requests.remove(request)

    def _changed(self, kind: str, head: FrameHead) -> bytes:
        if self.deviation == "text-as-binary" and kind == "connection" and head.opcode == OP_TEXT:
            return bytes([(head.raw[0] & 0xF0) | OP_BINARY]) + head.raw[1:]
        return head.raw

    def _open_request(self, key: tuple[str, ...]) -> Request:
        """close-held: the new request matches every held one with its key swapped; else it is held."""
        request = Request(key)
        swapped = (key[1], key[0], key[2])
        matched = [other for other in self._requests if other.held and other.key == swapped]
        for other in matched:
            other.held = False
        request.held = not matched
        self._requests.append(request)
        if request.held:
            asyncio.get_running_loop().call_later(HOLD_S, lambda: request.held and request.close.set())
        return request


def parse_address(text: str, what: str) -> tuple[str, int]:
    host, sep, port = text.removeprefix("ws://").rpartition(":")
    if not sep or not port.isdigit() or host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        raise ValueError(f"{what}: expected a loopback HOST:PORT, got {text!r}")
    return host.strip("[]").replace("localhost", "127.0.0.1"), int(port)


async def _run(proxy: DeviatingProxy) -> int:
    try:
        print(await proxy.start(), flush=True)
    except OSError as error:
        print(f"deviating_proxy: cannot listen on {proxy.listen[0]}:{proxy.listen[1]}: {error}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    await proxy.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Loopback proxy that breaks one local-first requirement.")
    parser.add_argument("--target", required=True, help="the relay, HOST:PORT or ws://HOST:PORT (loopback)")
    parser.add_argument("--deviation", required=True, choices=sorted(DEVIATIONS), help="what to break")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on (default 127.0.0.1:0)")
    args = parser.parse_args(argv)
    try:
        proxy = DeviatingProxy(parse_address(args.target, "--target"), args.deviation,
                               parse_address(args.listen, "--listen"))
    except ValueError as error:
        print(f"deviating_proxy: {error}", file=sys.stderr)
        return 2
    return asyncio.run(_run(proxy))


if __name__ == "__main__":
    sys.exit(main())
