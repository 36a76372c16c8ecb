#!/usr/bin/python3
"""Observe idle behaviour over a long wait (default 150 s; argument: seconds): a held connection
request, an introduction socket and a piped pair, all silent. Raw sockets, so any byte the relay sends
(a ping, a close) is seen. At the end: are they still open, and does the held one still pipe?
Usage: /usr/bin/python3 observe_idle.py [seconds]
"""
import asyncio
import socket
import sys
import time

from lfobs import connect, drain, join, log, relay, show, upgrade_request


def raw_ws(r, path):
    s = socket.create_connection((r.host, r.port))
    s.sendall(upgrade_request(path))
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    s.setblocking(False)
    return s, head.split(b"\r\n")[0].decode()


def pending(s):
    try:
        data = s.recv(65536)
        return data if data else b"<EOF>"
    except BlockingIOError:
        return b""


async def main(seconds):
    with relay() as r:
        held, st1 = raw_ws(r, "/connection/alice/bob/held")
        intro, st2 = raw_ws(r, "/introduction/idle")
        pa, st3 = raw_ws(r, "/connection/alice/bob/piped")
        pb, st4 = raw_ws(r, "/connection/bob/alice/piped")
        log("opened:", st1, st2, st3, st4)
        seen = {"held": b"", "intro": b"", "pa": b"", "pb": b""}
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            await asyncio.sleep(1)
            for name, s in [("held", held), ("intro", intro), ("pa", pa), ("pb", pb)]:
                data = pending(s)
                if data:
                    seen[name] += data
                    log(f"{name} received at {time.monotonic() - start:.1f}s:", data[:32].hex(" "))
        log(f"after {seconds}s of silence, bytes received:", {k: v.hex(" ") for k, v in seen.items()})
        # is the held request still matchable, and do the piped pair and the introduction socket still work?
        b = await connect(r, "/connection/bob/alice/held")
        mask = b"\x00\x00\x00\x00"
        held.setblocking(True)
        held.sendall(b"\x81\x84" + mask + b"late")  # masked text frame "late" (zero mask)
        show("bob, matching the held request now", await drain(b, 1.0))
        pa.setblocking(True)
        pa.sendall(b"\x82\x83" + mask + b"abc")
        time.sleep(0.3)
        log("piped peer received:", pending(pb).hex(" "))
        other = await connect(r, "/introduction/other")
        intro.setblocking(True)
        payload = join(["idle-doc"])
        intro.sendall(bytes([0x82, 0x80 | len(payload)]) + mask + payload)
        await other.send(join(["idle-doc"]))
        show("other joins idle-doc", await drain(other, 1.0))
        log("relay alive:", r.alive())


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 150))
