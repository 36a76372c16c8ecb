#!/usr/bin/python3
"""A model Paseo daemon relay client, written from docs/client-protocol.md (DAEMON-1..11).

It plays the daemon side of the relay protocol and nothing else: one control socket
(/ws?serverId=S&role=server&v=2), JSON pings on it, one data socket per connection id the relay
names, reconnects with backoff. The client scenarios (client-scenarios/daemon/) are checked against
it in CI, in its correct mode and in deliberately broken ones:

  good               follows every DAEMON requirement (default)
  no-data-sockets    never opens data sockets for the ids in a sync (still for `connected`): DAEMON-3
  late-data          opens every data socket 11 s after the sync/connected naming it: DAEMON-5
  no-backoff         reconnects its control at once, every time: DAEMON-8
  no-ping            never pings on the control: DAEMON-2
  reopen-after-1001  reopens a data socket at once when the relay ends it (a close with 1001 or any
                     other code, or a TCP drop) instead of waiting for the id to be named again: DAEMON-7

Usage: model_daemon.py --url ws://127.0.0.1:PORT [--mode MODE] [--server-id ID]
One line per action goes to stderr. SIGTERM (or SIGINT) ends it with exit status 0.
"""

import asyncio
import json
import secrets
import sys
import time
import urllib.parse

import websockets

from model_process import log, parse_args, run_until_signalled

MODES = ("good", "no-data-sockets", "late-data", "no-backoff", "no-ping", "reopen-after-1001")

PING_INTERVAL_S = 10  # DAEMON-2: at most 10 s apart
READY_TIMEOUT_S = 8  # DAEMON-9: a control that delivered no control message by then is dropped
STALE_TIMEOUT_S = 30  # DAEMON-10: nothing at all arrived for this long: drop the control
MAX_BACKOFF_S = 30  # DAEMON-8: the n-th consecutive attempt waits min(30, n) s
LATE_DATA_S = 11  # mode late-data: past the relay's 10 s watchdog



def now_ms():
    return int(time.time() * 1000)


def parse_control(message):
    """A control message as (type, value), or None for anything the daemon does not know (DAEMON-11)."""
    if not isinstance(message, str):
        return None  # binary frames carry no control message
    try:
        parsed = json.loads(message)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    kind = parsed.get("type")
    if kind in ("ping", "pong"):
        return kind, None
    if kind == "sync" and isinstance(parsed.get("connectionIds"), list):
        ids = [i.strip() for i in parsed["connectionIds"] if isinstance(i, str) and i.strip()]
        return kind, ids
    if kind in ("connected", "disconnected"):
        cid = parsed.get("connectionId")
        if isinstance(cid, str) and cid.strip():
            return kind, cid.strip()
    return None


class DataSocket:
    """One data socket for one connection id, from the moment it is wanted until it ends."""

    def __init__(self, daemon, cid):
        self.daemon = daemon
        self.cid = cid
        self.ws = None
        self.closed_by_us = False
        self.task = asyncio.create_task(self.run())

    async def run(self):
        d = self.daemon
        relay_ended = False
        try:
            if d.mode == "late-data":
                log(f"waiting {LATE_DATA_S} s before opening data {self.cid} (mode late-data)")
                await asyncio.sleep(LATE_DATA_S)
            log(f"opening data {self.cid}")
            self.ws = await d.connect(self.cid)
            log(f"opened data {self.cid}")
            try:
                async for message in self.ws:
                    log(f"data {self.cid}: received {len(message)} {'chars' if isinstance(message, str) else 'bytes'}")
            except websockets.ConnectionClosed:
                pass
            code, reason = self.ws.close_code, self.ws.close_reason
            if self.closed_by_us:
                log(f"closed data {self.cid} {code} {reason!r} (our close)")
            else:
                relay_ended = True
                log(f"data {self.cid} ended by the relay: {code} {reason!r}")
        except asyncio.CancelledError:
            if self.ws is not None:
                self.ws.transport.abort()
            raise
        except Exception as error:  # handshake refused, connection refused, ...
            log(f"data {self.cid} failed to open: {error!r}")
        finally:
            if d.data.get(self.cid) is self:
                del d.data[self.cid]  # forgotten: reopened only when named again (DAEMON-7)
        if relay_ended and d.mode == "reopen-after-1001" and not d.stopping:
            log(f"reopening data {self.cid} at once (mode reopen-after-1001)")
            d.ensure_data(self.cid)

    def close(self):
        """DAEMON-6: close with 1001 "Client disconnected"."""
        self.closed_by_us = True
        if self.ws is None:
            log(f"cancelling data {self.cid} before it opened")
            self.task.cancel()
            return
        log(f"closing data {self.cid} 1001")
        asyncio.create_task(self.ws.close(1001, "Client disconnected"))


class Daemon:
    def __init__(self, base_url, server_id, mode):
        self.base_url = base_url.rstrip("/")
        self.server_id = server_id
        self.mode = mode
        self.attempt = 0  # consecutive control attempts without a control message
        self.data = {}  # connection id -> DataSocket
        self.stopping = False

    def url(self, cid=None):
        query = [("serverId", self.server_id), ("role", "server"), ("v", "2")]
        if cid is not None:
            query.append(("connectionId", cid))
        return f"{self.base_url}/ws?{urllib.parse.urlencode(query, quote_via=urllib.parse.quote)}"

    def connect(self, cid=None):
        # No extension offered, no WebSocket-level pings: the daemon's keepalive is JSON (DAEMON-2).
        return websockets.connect(self.url(cid), compression=None, ping_interval=None,
                                  open_timeout=10, close_timeout=3, max_size=None)

    def ensure_data(self, cid):
        if cid in self.data:
            log(f"data {cid} already open or opening")
            return
        self.data[cid] = DataSocket(self, cid)

    async def run(self):
        while True:
            log("connecting control")
            try:
                ws = await self.connect()
            except Exception as error:
                log(f"control handshake failed: {error!r}")
            else:
                log("opened control")
                await self.serve_control(ws)
            self.attempt += 1
            delay = 0 if self.mode == "no-backoff" else min(MAX_BACKOFF_S, self.attempt)
            log(f"reconnect in {delay} s (attempt {self.attempt})")
            await asyncio.sleep(delay)

    async def serve_control(self, ws):
        opened = time.monotonic()
        state = {"ready": False, "last_seen": opened}

        def drop(why):
            log(f"dropping control: {why}")
            ws.transport.abort()

        async def keepalive():
            while True:
                if self.mode != "no-ping":
                    try:
                        await ws.send(json.dumps({"type": "ping", "ts": now_ms()}))
                        log("sent ping")
                    except websockets.ConnectionClosed:
                        return
                await asyncio.sleep(PING_INTERVAL_S)

        async def watchdog():
            while True:
                await asyncio.sleep(0.25)
                t = time.monotonic()
                if not state["ready"] and t - opened >= READY_TIMEOUT_S:
                    return drop(f"no control message within {READY_TIMEOUT_S} s of opening")
                if t - state["last_seen"] >= STALE_TIMEOUT_S:
                    return drop(f"nothing arrived for {STALE_TIMEOUT_S} s")

        tasks = [asyncio.create_task(keepalive()), asyncio.create_task(watchdog())]
        try:
            async for message in ws:
                state["last_seen"] = time.monotonic()
                parsed = parse_control(message)
                if parsed is None:
                    shown = message if isinstance(message, str) else message.hex()
                    log(f"ignored control frame {shown[:80]!r}")
                    continue
                if not state["ready"]:
                    state["ready"] = True
                    self.attempt = 0
                await self.on_control(ws, *parsed)
        except websockets.ConnectionClosed:
            pass
        finally:
            for task in tasks:
                task.cancel()
        log(f"control ended: {ws.close_code} {ws.close_reason!r}")

    async def on_control(self, ws, kind, value):
        if kind == "ping":
            log("received ping, sending pong")
            try:
                await ws.send(json.dumps({"type": "pong", "ts": now_ms()}))
            except websockets.ConnectionClosed:
                pass
        elif kind == "pong":
            log("received pong")
        elif kind == "sync":
            log(f"received sync {value}")
            if self.mode == "no-data-sockets":
                log("ignoring the sync's ids (mode no-data-sockets)")
                return
            for cid in value:
                self.ensure_data(cid)
        elif kind == "connected":
            log(f"received connected {value}")
            self.ensure_data(value)
        elif kind == "disconnected":
            log(f"received disconnected {value}")
            existing = self.data.pop(value, None)
            if existing is not None:
                existing.close()


async def main(args):
    daemon = Daemon(args.url, args.server_id, args.mode)
    log(f"model daemon mode={args.mode} serverId={args.server_id} relay={args.url}")

    async def stop():
        daemon.stopping = True
        for entry in list(daemon.data.values()):
            entry.task.cancel()
        await asyncio.gather(*(e.task for e in daemon.data.values()), return_exceptions=True)
    await run_until_signalled(daemon.run(), stop)


if __name__ == "__main__":
    asyncio.run(main(parse_args(__doc__.splitlines()[0], MODES, "srv-" + secrets.token_hex(4), sys.argv[1:])))
    sys.exit(0)
