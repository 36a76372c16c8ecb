#!/usr/bin/python3
"""Observe HTTP-level answers: plain requests, upgrades to unknown paths, path matching rules,
invalid handshakes. Raw TCP, so every byte of the answer is shown (the WebSocket Accept and Date
vary; ETag depends on the body). Usage: /usr/bin/python3 observe_http.py
"""
import asyncio

from lfobs import connect, drain, join, log, raw_http, relay, show, upgrade_request


def show_raw(label, data):
    text = data.decode("latin-1")
    head, _, rest = text.partition("\r\n\r\n")
    log(f"{label}:")
    for line in head.split("\r\n"):
        if line.startswith("Date:"):
            line = "Date: <now>"
        log("   ", line)
    if rest:
        raw = rest.encode("latin-1")
        if head.startswith("HTTP/1.1 101"):
            log("    after the head (frames):", raw.hex(" "))
        else:
            log("    body:", repr(rest[:200]))


PLAIN = [
    ("GET /", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("HEAD /", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("GET /introduction/alice (no upgrade)", "GET /introduction/alice HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("GET /connection/a/b/d (no upgrade)", "GET /connection/a/b/d HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("GET /nope", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("POST /introduction/alice", "POST /introduction/alice HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
    ("GET /health", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"),
]

# upgrade paths: (label, path) -> 101 then what?
UPGRADES = [
    "/nope", "/", "/introduction", "/introduction/", "/introduction/alice/extra", "/connection/a/b",
    "/connection/a/b/d/e", "/introduction/%E0%A4%A", "/connection/a/b/%zz",
]

HANDSHAKES = [
    ("no Sec-WebSocket-Key", "GET /introduction/alice HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"),
    ("Sec-WebSocket-Version: 12", "GET /introduction/alice HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\n\r\n"),
    ("Sec-WebSocket-Version: 8", "GET /introduction/alice HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"),
    ("POST upgrade", "POST /introduction/alice HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
    ("key not base64/16", "GET /introduction/alice HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n\r\n"),
    ("subprotocol offered", "GET /introduction/alice HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
     "Sec-WebSocket-Protocol: foo\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
]


async def path_rules(r):
    """Which spellings reach the introduction route: case, trailing slash, query, encoded slash."""
    for path in ["/INTRODUCTION/Alice", "/introduction/alice2/", "/introduction/alice3?x=1",
                 "/introduction/a%2Fb", "//introduction/alice4"]:
        ws = await connect(r, path)
        await ws.send(join(["rules"]))
        got = await drain(ws, 0.4)
        show(f"{path} after Join (open: {ws.open})", got)
    probe = await connect(r, "/introduction/probe")
    await probe.send(join(["rules"]))
    show("probe joins 'rules': who is there?", await drain(probe, 0.5))
    a = await connect(r, "/CONNECTION/alice/bob/d1")
    b = await connect(r, "/connection/bob/alice/d1/")
    await a.send("case and slash")
    show("/connection/bob/alice/d1/ gets from /CONNECTION/alice/bob/d1", await drain(b, 0.4))


async def main():
    with relay() as r:
        for label, req in PLAIN:
            show_raw(label, raw_http(r, req.encode()))
        for path in UPGRADES:
            show_raw(f"upgrade {path}", raw_http(r, upgrade_request(path), read_after=1.0))
        for label, req in HANDSHAKES:
            show_raw(label, raw_http(r, req.encode()))
        show_raw("upgrade /introduction/alice (valid, for comparison)",
                 raw_http(r, upgrade_request("/introduction/alice"), read_after=1.0))
        await path_rules(r)
        log("relay alive:", r.alive())


if __name__ == "__main__":
    asyncio.run(main())
