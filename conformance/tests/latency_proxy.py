#!/usr/bin/python3
"""A loopback TCP proxy that adds latency, for tests of the runners under a slow network.

    latency_proxy.py --target 127.0.0.1:8787 [--listen 127.0.0.1:0] --delay-ms 50 --jitter-ms 20 [--seed N]

The first stdout line is the proxy's own URL, `ws://HOST:PORT`, so a script can start it on port 0 and
read where it listens. Every accepted connection is forwarded to --target. Each chunk read from either
side is held until `arrival + delay ± jitter` (uniform), but never released before the chunk ahead of it
in the same direction: bytes within a direction are never reordered, so jitter only ever makes a chunk
later, as on a real link. A half-close (EOF) or a reset travels the same way, after the data read
before it. SIGTERM or SIGINT stops the proxy (connections are cut), prints to stderr how late it woke for
release times (a loaded machine delays the proxy too), and exits 0. Exit 2 on bad arguments, 1 if
it cannot bind.

From Python:

    async with LatencyProxy(("127.0.0.1", 8787), delay_ms=50, jitter_ms=20) as proxy:
        ... proxy.url ...
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ipaddress
import random
import signal
import socket
import struct
import sys

CHUNK_BYTES = 64 * 1024
MAX_QUEUED_BYTES = 8 * 1024 * 1024  # per direction of one connection: stop reading its source above this
_EOF, _RESET = "eof", "reset"       # queue items that end a direction


def parse_address(text: str, what: str) -> tuple[str, int]:
    """HOST:PORT or [V6]:PORT, HOST a loopback IP or `localhost`; raises ValueError with one readable line."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{what}: expected HOST:PORT, got {text!r}")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if host == "localhost":
        host = "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        raise ValueError(f"{what}: {host!r} is not an IP address (only loopback addresses are accepted)") from None
    if not loopback:
        raise ValueError(f"{what}: {host} is not a loopback address; this test proxy only works on loopback")
    return host, int(port)


def abort_with_reset(writer: asyncio.StreamWriter) -> None:
    """Cuts the connection with an RST, not a FIN, so the peer sees the reset we were passing on."""
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


class _Direction:
    """One direction of one connection: what is read from `source` waits in a FIFO until its release time,
    then is written to `sink`. Reading (`pump_in`) and writing (`pump_out`) are separate tasks, so a chunk
    waiting out its delay never stops the next one from being read and timed from its own arrival."""

    def __init__(self, proxy: "LatencyProxy", source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        self._proxy, self._source, self._sink = proxy, source, sink
        self._loop = asyncio.get_running_loop()
        self._queue: collections.deque = collections.deque()
        self._arrived = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._queued_bytes = 0
        self._last_release = 0.0
        self._ended = False        # EOF or reset queued: nothing more is read
        self._sink_dead = False    # writing failed: what is read now is dropped
        self.reverse: "_Direction | None" = None
        self.reset_sent = False

    def push(self, item) -> None:
        """Queues a chunk, EOF or reset with its release time; never earlier than the item before it."""
        if self._ended:
            return
        release = max(self._last_release, self._loop.time() + self._proxy.sample_delay_s())
        self._last_release = release
        self._queue.append((release, item))
        if isinstance(item, bytes):
            self._queued_bytes += len(item)
            if self._queued_bytes > MAX_QUEUED_BYTES:
                self._room.clear()
        else:
            self._ended = True
        self._arrived.set()

    async def pump_in(self) -> None:
        try:
            while not self._ended:
                await self._room.wait()  # backpressure: the source is not read while too much waits
                data = await self._source.read(CHUNK_BYTES)
                if not data:
                    self.push(_EOF)
                elif not self._sink_dead:
                    self.push(data)
        except OSError:  # ConnectionResetError and kin: pass the reset on, after the data before it
            self.push(_RESET)

    async def pump_out(self) -> None:
        while True:
            while not self._queue:
                self._arrived.clear()
                await self._arrived.wait()
            release, item = self._queue.popleft()
            wait = release - self._loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                self._proxy.note_lag(self._loop.time() - release)
            try:
                if item == _RESET:
                    abort_with_reset(self._sink)
                    self.reset_sent = True
                    return
                if item == _EOF:
                    await self._sink.drain()
                    if self._sink.can_write_eof():
                        self._sink.write_eof()
                    return
                self._sink.write(item)
                self._queued_bytes -= len(item)
                if self._queued_bytes <= MAX_QUEUED_BYTES // 2:
                    self._room.set()
                await self._sink.drain()
            except OSError:
                # The sink is gone. Its peer learns by a reset, after what is already on its way to it.
                self._sink_dead = True
                self._queue.clear()
                self._room.set()
                if self.reverse is not None:
                    self.reverse.push(_RESET)
                return


class LatencyProxy:
    """Listens on `listen`, forwards each connection to `target` with added latency in both directions."""

    def __init__(self, target: tuple[str, int], delay_ms: float = 0.0, jitter_ms: float = 0.0,
                 listen: tuple[str, int] = ("127.0.0.1", 0), seed: int | None = None) -> None:
        if delay_ms < 0 or jitter_ms < 0:
            raise ValueError("delay and jitter must not be negative")
        self.target, self.listen = target, listen
        self.delay_ms, self.jitter_ms = delay_ms, jitter_ms
        self._random = random.Random(seed)
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task] = set()
        self.url = ""
        # How late the proxy woke for a chunk's release time: a busy machine delays the proxy too. (A chunk
        # that waits for a slow receiver to take the one before it is flow control, not counted.)
        self.connections = self.timed_releases = self.lags_over_10ms = 0
        self.worst_lag_s = 0.0

    def note_lag(self, lag_s: float) -> None:
        self.timed_releases += 1
        self.lags_over_10ms += lag_s > 0.010
        self.worst_lag_s = max(self.worst_lag_s, lag_s)

    def summary(self) -> str:
        return (f"{self.connections} connections; woke late for {self.lags_over_10ms} of {self.timed_releases} "
                f"release times by more than 10 ms, the worst by {self.worst_lag_s * 1000:.0f} ms")

    def sample_delay_s(self) -> float:
        return max(0.0, self.delay_ms + self._random.uniform(-self.jitter_ms, self.jitter_ms)) / 1000.0

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._accepted, self.listen[0], self.listen[1])
        host, port = self._server.sockets[0].getsockname()[:2]
        self.url = f"ws://{'[' + host + ']' if ':' in host else host}:{port}"
        return self.url

    async def close(self) -> None:
        """Stops listening and cuts every connection still open."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def __aenter__(self) -> "LatencyProxy":
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def _accepted(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        self.connections += 1
        try:
            await self._forward(client_reader, client_writer)
        finally:
            self._connections.discard(task)

    async def _forward(self, client_reader, client_writer) -> None:
        try:
            target_reader, target_writer = await asyncio.open_connection(*self.target)
        except OSError as error:
            print(f"latency_proxy: cannot reach {self.target[0]}:{self.target[1]}: {error}", file=sys.stderr, flush=True)
            abort_with_reset(client_writer)
            return
        upstream = _Direction(self, client_reader, target_writer)
        downstream = _Direction(self, target_reader, client_writer)
        upstream.reverse, downstream.reverse = downstream, upstream
        tasks = [asyncio.create_task(coroutine) for coroutine in
                 (upstream.pump_in(), upstream.pump_out(), downstream.pump_in(), downstream.pump_out())]
        try:
            # Done when both directions have delivered their EOF or reset; a reset ends the pair at once.
            outs = {tasks[1], tasks[3]}
            while outs:
                done, outs = await asyncio.wait(outs, return_when=asyncio.FIRST_COMPLETED)
                if upstream.reset_sent or downstream.reset_sent:
                    break
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for writer in (client_writer, target_writer):
                if upstream.reset_sent or downstream.reset_sent:
                    abort_with_reset(writer)
                else:
                    writer.close()


async def _serve(proxy: LatencyProxy) -> int:
    try:
        url = await proxy.start()
    except OSError as error:
        print(f"latency_proxy: cannot listen on {proxy.listen[0]}:{proxy.listen[1]}: {error}", file=sys.stderr)
        return 1
    print(url, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await proxy.close()
    print(f"latency_proxy: {proxy.summary()}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Loopback TCP proxy adding latency to every chunk, in order.")
    parser.add_argument("--target", required=True, help="HOST:PORT to forward to (loopback only)")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on (default 127.0.0.1:0)")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="added latency per direction, ms")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="uniform jitter, ± ms (never reorders)")
    parser.add_argument("--seed", type=int, help="seed for the jitter, for repeatable runs")
    args = parser.parse_args(argv)
    try:
        target = parse_address(args.target.removeprefix("ws://"), "--target")
        listen = parse_address(args.listen, "--listen")
        proxy = LatencyProxy(target, args.delay_ms, args.jitter_ms, listen, args.seed)
    except ValueError as error:
        print(f"latency_proxy: {error}", file=sys.stderr)
        return 2
    return asyncio.run(_serve(proxy))


if __name__ == "__main__":
    sys.exit(main())
