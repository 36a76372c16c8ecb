#!/usr/bin/python3
"""A model Paseo app relay client, written from docs/client-protocol.md (APP-1..7, socket level).

It plays the app side of the relay protocol as far as a relay can see it: one socket at a time
(/ws?serverId=S&role=client&v=2, no connectionId), an E2EE hello `{"type":"e2ee_hello","key":K}` (K: 32
fresh random bytes in base64, a new one per socket) at once and every 1 s while the socket is open,
nothing else; an attempt still not established 15 s after it started is closed with 1001 and given up;
after every attempt it starts a new one 1.5 s x 2^n later (n: the reconnects so far, the delay capped at
30 s). It holds no daemon key, so no attempt is ever established: every one ends by the relay's doing or
by its own timeout, and the backoff never resets (APP-5 is not modelled). The client scenarios
(client-scenarios/app/) are checked against it in CI, in its correct mode and in deliberately broken ones:

  good            follows APP-1..4, 6, 7 at socket level (default)
  no-reconnect    once the relay has ended or refused one of its sockets, never opens another; its own
                  timeout (APP-3) still starts a new attempt: APP-4
  no-backoff      starts every new attempt at once: APP-4
  no-hello        sends nothing on its sockets: APP-2
  leak-timed-out  gives up a timed-out attempt without closing its socket, which stays open and keeps
                  sending hellos (as the official app does under a browser-style WebSocket): APP-7

Usage: model_app.py --url ws://127.0.0.1:PORT [--server-id S] [--mode MODE]
One line per action goes to stderr. SIGTERM (or SIGINT) ends it with exit status 0.
"""

import asyncio
import base64
import json
import secrets
import sys
import time
import urllib.parse

import websockets

from model_process import log, parse_args, run_until_signalled

MODES = ("good", "no-reconnect", "no-backoff", "no-hello", "leak-timed-out")

HELLO_INTERVAL_S = 1.0  # APP-2: the hello again every 1 s until the daemon answers
CONNECT_TIMEOUT_S = 15.0  # APP-3: an attempt not established by then is given up
BACKOFF_BASE_S = 1.5  # APP-4: min(1.5 s x 2^n, 30 s)
BACKOFF_CAP_S = 30.0



class App:
    def __init__(self, base_url, server_id, mode):
        self.base_url = base_url.rstrip("/")
        self.server_id = server_id
        self.mode = mode
        self.reconnects = 0  # since the last established connection: never reset here
        self.leaked = []  # (socket, hello task) of attempts given up without a close (leak-timed-out)
        self.closing = set()  # close handshakes of given-up attempts still under way

    def url(self):
        query = [("serverId", self.server_id), ("role", "client"), ("v", "2")]
        return f"{self.base_url}/ws?{urllib.parse.urlencode(query, quote_via=urllib.parse.quote)}"

    async def run(self):
        while True:
            outcome = await self.attempt()
            if outcome != "timed out" and self.mode == "no-reconnect":
                log("not reconnecting (mode no-reconnect)")
                await asyncio.Event().wait()
            delay = 0.0 if self.mode == "no-backoff" else min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** self.reconnects)
            self.reconnects += 1
            log(f"reconnect {self.reconnects} in {delay:g} s")
            await asyncio.sleep(delay)

    async def attempt(self):
        """One connection attempt, until the relay ends it or it times out: what ended it."""
        started = time.monotonic()

        def remaining():
            return CONNECT_TIMEOUT_S - (time.monotonic() - started)

        log(f"connecting {self.url()}")
        try:
            # No WebSocket-level pings of its own (APP-6); the handshake counts against the attempt.
            ws = await asyncio.wait_for(
                websockets.connect(self.url(), ping_interval=None, open_timeout=None, close_timeout=3,
                                   max_size=None),
                remaining())
        except asyncio.TimeoutError:
            log(f"no answer to the upgrade in {CONNECT_TIMEOUT_S:g} s: giving up")
            return "timed out"
        except Exception as error:  # refused upgrade, connection refused, ...
            log(f"connect failed: {error!r}")
            return "failed"
        log("opened")
        hellos = asyncio.create_task(self.send_hellos(ws))
        reader = asyncio.create_task(self.read(ws))
        done, _ = await asyncio.wait([reader], timeout=max(0.0, remaining()))
        if done:
            hellos.cancel()
            log(f"ended by the relay: {ws.close_code} {ws.close_reason!r}")
            return "ended"
        reader.cancel()
        if self.mode == "leak-timed-out":
            log(f"not established in {CONNECT_TIMEOUT_S:g} s: giving up, leaving the socket open "
                "(mode leak-timed-out)")
            self.leaked.append((ws, hellos))
        else:
            log(f"not established in {CONNECT_TIMEOUT_S:g} s: giving up, closing 1001")
            hellos.cancel()
            closing = asyncio.create_task(ws.close(1001, "Connection timed out"))
            self.closing.add(closing)
            closing.add_done_callback(self.closing.discard)
        return "timed out"

    async def send_hellos(self, ws):
        if self.mode == "no-hello":
            log("sending no hello (mode no-hello)")
            return
        key = base64.b64encode(secrets.token_bytes(32)).decode()  # a fresh key per socket
        hello = json.dumps({"type": "e2ee_hello", "key": key}, separators=(",", ":"))
        try:
            while True:
                await ws.send(hello)
                log("sent e2ee_hello")
                await asyncio.sleep(HELLO_INTERVAL_S)
        except websockets.ConnectionClosed:
            pass

    async def read(self, ws):
        try:
            async for message in ws:
                shown = message if isinstance(message, str) else message.hex()
                log(f"received {shown[:80]!r} (no E2EE here: ignored)")
        except websockets.ConnectionClosed:
            pass

    def abort_all(self):
        for ws, hellos in self.leaked:
            hellos.cancel()
            ws.transport.abort()


async def main(args):
    app = App(args.url, args.server_id, args.mode)
    log(f"model app mode={args.mode} serverId={args.server_id} relay={args.url}")

    async def stop():
        app.abort_all()
    await run_until_signalled(app.run(), stop)


if __name__ == "__main__":
    asyncio.run(main(parse_args(__doc__.splitlines()[0], MODES, "srv_" + secrets.token_hex(6), sys.argv[1:],
                                epilog="modes: " + ", ".join(MODES) + " (see the module docstring)")))
    sys.exit(0)
