#!/usr/bin/python3
"""Observe the connection endpoint /connection/:A/:B/:documentId: matching, piping, holding, closing.

Each experiment runs on a fresh relay; no introduction socket is opened (the endpoint does not need
one). Usage: /usr/bin/python3 observe_conn.py [experiment ...]
"""
import asyncio
import sys

import websockets
from websockets.frames import Opcode

from lfobs import connect, drain, log, now, recv, relay, show

AB = "/connection/alice/bob/d1"
BA = "/connection/bob/alice/d1"


async def pair(r, first=AB, second=BA, gap=0.2):
    a = await connect(r, first)
    await asyncio.sleep(gap)
    b = await connect(r, second)
    await asyncio.sleep(0.1)
    return a, b


async def a_then_b(r):
    """alice connects, then bob: nothing is sent on open; frames flow both ways; types and bytes."""
    a = await connect(r, AB)
    show("alice alone (held)", await drain(a, 0.5))
    b = await connect(r, BA)
    show("bob on open", await drain(b, 0.3))
    show("alice when bob opened", await drain(a, 0.3))
    for payload in ["hello", b"\x00\x01\xff", "", b"", "é€😀"]:
        await a.send(payload)
        show(f"bob gets alice's {type(payload).__name__} {payload!r}", await drain(b, 0.3))
    await b.send("hi alice")
    show("alice gets bob's text 'hi alice'", await drain(a, 0.3))


async def b_then_a(r):
    """Same the other way round: bob first, alice second."""
    b = await connect(r, BA)
    await asyncio.sleep(0.3)
    a = await connect(r, AB)
    await asyncio.sleep(0.1)
    await a.send(b"from alice")
    show("bob", await drain(b, 0.3))
    await b.send(b"from bob")
    show("alice", await drain(a, 0.3))


async def held_messages(r):
    """What the first (held) socket sends before its match arrives, and in what form the match gets it."""
    a = await connect(r, AB)
    for payload in ["early text", b"\x01\x02\x03", "", b""]:
        await a.send(payload)
    await asyncio.sleep(0.3)
    b = await connect(r, BA)
    await a.send("after the match")
    show("bob", await drain(b, 0.5))
    log("and does bob's own early talk reach alice? bob (the second) is piped at once:")
    await b.send("bob right away")
    show("alice", await drain(a, 0.3))


async def held_large(r):
    """A held message of 70,000 bytes: its wrapping (bin 32 header)."""
    a = await connect(r, AB)
    await a.send(b"x" * 70000)
    await a.send("y" * 300)
    await asyncio.sleep(0.3)
    b = await connect(r, BA)
    got = await drain(b, 0.5)
    for m in got:
        log("bob:", type(m).__name__, len(m), "first bytes", m[:8].hex(" ") if isinstance(m, bytes) else m[:8])


async def no_match(r):
    """Requests that do not match: other document, same direction twice, a third peer. Held, silent."""
    a = await connect(r, AB)
    others = [await connect(r, p) for p in ["/connection/bob/alice/d2", "/connection/carol/alice/d1",
                                             "/connection/bob/carol/d1"]]
    await a.send("anyone?")
    for ws, name in zip([a] + others, ["alice/bob/d1", "bob/alice/d2", "carol/alice/d1", "bob/carol/d1"]):
        show(name, await drain(ws, 1.0))
        log(name, "open:", ws.open)


async def one_side_closes(r):
    """alice closes with 1000 (or 4001 + reason): what bob sees, and when."""
    for code, reason in [(1000, ""), (4001, "bye bob")]:
        a, b = await pair(r)
        t = now()
        await a.close(code, reason)
        log(f"alice closed with {code} {reason!r}; her handshake done: code={a.close_code} "
            f"reason={a.close_reason!r} in {now() - t:.3f}s")
        m = await recv(b, 2.0)
        log("bob:", m if isinstance(m, tuple) else m, f"(after {now() - t:.3f}s)")
        log("bob's close_code", b.close_code, "close_reason", repr(b.close_reason))


async def one_side_drops(r):
    """alice's TCP connection ends without a close frame: what bob sees."""
    a, b = await pair(r)
    t = now()
    a.transport.abort()
    m = await recv(b, 2.0)
    log("bob:", m, f"(after {now() - t:.3f}s)")


async def bob_closes_after_send(r):
    """bob sends then closes at once: alice gets the frame, then the close."""
    a, b = await pair(r)
    await b.send("last words")
    await b.close()
    show("alice", await drain(a, 1.0))


async def held_closes(r):
    """alice (held) closes before bob comes: bob is then held; a new alice pipes with bob."""
    a = await connect(r, AB)
    await a.send("lost?")
    await a.close()
    await asyncio.sleep(0.2)
    b = await connect(r, BA)
    show("bob (alice gone)", await drain(b, 0.7))
    a2 = await connect(r, AB)
    await a2.send("alice again")
    show("bob after alice2", await drain(b, 0.5))


async def second_pair(r):
    """A second pair for the same peers and document while the first is piped."""
    a1, b1 = await pair(r)
    a2, b2 = await pair(r)
    for name, s, targets in [("a1", a1, [("b1", b1), ("b2", b2), ("a2", a2)]),
                             ("a2", a2, [("b1", b1), ("b2", b2), ("a1", a1)])]:
        await s.send(f"from {name}")
        for tname, t in targets:
            show(f"{tname} after {name} sent", await drain(t, 0.3))
    log("a1 closes: does it affect the second pair?")
    await a1.close()
    show("b1", await drain(b1, 0.5))
    await a2.send("a2 still there?")
    show("b2", await drain(b2, 0.5))


async def duplicate_pending(r):
    """Two pending requests with the same key (alice/bob/d1), then bob: which one is piped?"""
    a1 = await connect(r, AB)
    await a1.send("a1 early")
    await asyncio.sleep(0.1)
    a2 = await connect(r, AB)
    await a2.send("a2 early")
    await asyncio.sleep(0.1)
    b = await connect(r, BA)
    show("bob", await drain(b, 0.5))
    await b.send("bob")
    show("a1", await drain(a1, 0.3))
    show("a2", await drain(a2, 0.3))
    log("a1 open:", a1.open)


async def stale_close_pending(r):
    """a1 pending, a2 replaces it; a1 closes; then bob: piped with a2 or held?"""
    a1 = await connect(r, AB)
    await asyncio.sleep(0.1)
    a2 = await connect(r, AB)
    await asyncio.sleep(0.1)
    await a1.close()
    await asyncio.sleep(0.2)
    b = await connect(r, BA)
    await a2.send("a2 to bob")
    show("bob", await drain(b, 0.7))
    await b.send("bob to a2")
    show("a2", await drain(a2, 0.5))


async def stale_close_after_pipe(r):
    """a1 held, b1 piped; a2 comes (held again); a1 closes (ending pair 1); then b2: piped with a2?"""
    a1, b1 = await pair(r)
    a2 = await connect(r, AB)
    await asyncio.sleep(0.1)
    await a1.close()
    show("b1 (its pair ended)", await drain(b1, 0.5))
    await asyncio.sleep(0.2)
    b2 = await connect(r, BA)
    await a2.send("a2 to b2")
    show("b2", await drain(b2, 0.7))
    await b2.send("b2 to a2")
    show("a2", await drain(a2, 0.5))


async def leaky_hold(r):
    """a1 (held first) is piped with b1; a2 comes and is held; a1 speaks; b2 comes: does b2 get a1's words?"""
    a1, b1 = await pair(r)
    a2 = await connect(r, AB)
    await asyncio.sleep(0.1)
    await a1.send("a1 to b1")
    show("b1", await drain(b1, 0.3))
    b2 = await connect(r, BA)
    show("b2 on open", await drain(b2, 0.5))


async def self_connection(r):
    """/connection/alice/alice/d1 twice: the two are piped to each other."""
    s1 = await connect(r, "/connection/alice/alice/d1")
    await asyncio.sleep(0.1)
    s2 = await connect(r, "/connection/alice/alice/d1")
    await asyncio.sleep(0.1)
    await s1.send("s1")
    show("s2", await drain(s2, 0.3))
    await s2.send("s2")
    show("s1", await drain(s1, 0.3))


async def ordering(r):
    """2000 numbered messages, alternating binary/text: order and type kept; held ones come first."""
    a, b = await pair(r)
    n = 2000
    for i in range(n):
        await a.send(str(i) if i % 2 else str(i).encode())
    got = []
    while len(got) < n:
        m = await recv(b, 2.0)
        if m is None or isinstance(m, tuple):
            break
        got.append(m)
    ok = got == [str(i) if i % 2 else str(i).encode() for i in range(n)]
    log(f"bob got {len(got)}/{n}, in order: {ok}, types: {sorted({type(m).__name__ for m in got})}")
    # held then live: three held, then the match, then live at once
    a2 = await connect(r, "/connection/alice/bob/d2")
    for i in range(3):
        await a2.send(f"held {i}")
    b2 = await connect(r, "/connection/bob/alice/d2")
    for i in range(3):
        await a2.send(f"live {i}")
    got = await drain(b2, 0.5)
    log("d2 order at bob:", [m.hex(" ") if isinstance(m, bytes) else m for m in got])


async def large(r):
    """16 MiB, 100 MiB (ws maxPayload 104857600), and one byte more."""
    for size in [16 * 1024 * 1024, 100 * 1024 * 1024, 100 * 1024 * 1024 + 1]:
        a, b = await pair(r, f"/connection/alice/bob/s{size}", f"/connection/bob/alice/s{size}")
        t = now()
        await a.send(b"z" * size)
        m = await recv(b, 20.0)
        if isinstance(m, bytes):
            log(f"{size}: bob got binary {len(m)} bytes in {now() - t:.2f}s, intact: {m == b'z' * size}")
        else:
            log(f"{size}: bob got {m}")
        ma = await recv(a, 3.0)
        log(f"{size}: alice (the sender) got {ma}")


async def text_size(r):
    """A text message of 1 MiB (512 Ki x "é"): arrives as the same text."""
    a, b = await pair(r)
    await a.send("é" * (512 * 1024))
    m = await recv(b, 5.0)
    log("bob got", type(m).__name__, len(m), "identical:", m == "é" * (512 * 1024))


async def fragmented(r):
    """A text message in three fragments and a binary in two: forwarded whole, each as one message."""
    a, b = await pair(r)
    await a.send(iter(["ab", "cd", "ef"]))
    await a.send(iter([b"\x01", b"\x02"]))
    show("bob", await drain(b, 0.5))


async def ping(r):
    """A ping from alice: answered by the relay itself (pong), not forwarded to bob."""
    a, b = await pair(r)
    t = now()
    waiter = await a.ping(b"p1")
    await asyncio.wait_for(waiter, 2)
    log(f"alice's ping answered in {now() - t:.4f}s")
    show("bob", await drain(b, 0.3))
    h = await connect(r, "/connection/carol/dave/d1")
    waiter = await h.ping(b"p2")
    await asyncio.wait_for(waiter, 2)
    log("a held socket's ping answered too")


async def simultaneous(r):
    """Both requests at the same instant, 20 times on different documents: always piped."""
    ok = 0
    for i in range(20):
        a, b = await asyncio.gather(connect(r, f"/connection/alice/bob/x{i}"), connect(r, f"/connection/bob/alice/x{i}"))
        await a.send("x")
        m = await recv(b, 1.0)
        ok += m == "x"
    log(f"piped {ok}/20")


async def bad_frame_when_piped(r):
    """A piped socket sends invalid UTF-8 text: closed 1007? the peer? the relay?"""
    a, b = await pair(r)
    await a.write_frame(True, Opcode.TEXT, b"\xff\xfe")
    show("alice", await drain(a, 1.0))
    show("bob", await drain(b, 1.0))
    log("relay alive:", r.alive())


async def bad_frame_when_held(r):
    """A held socket sends invalid UTF-8 text."""
    other = await connect(r, "/introduction/zed")
    a = await connect(r, AB)
    await a.write_frame(True, Opcode.TEXT, b"\xff\xfe")
    show("alice", await drain(a, 1.0))
    await asyncio.sleep(0.3)
    log("relay alive:", r.alive())
    show("an unrelated introduction socket", await drain(other, 0.3))


EXPERIMENTS = [a_then_b, b_then_a, held_messages, held_large, no_match, one_side_closes, one_side_drops,
               bob_closes_after_send, held_closes, second_pair, duplicate_pending, stale_close_pending,
               stale_close_after_pipe, leaky_hold, self_connection, ordering, large, text_size, fragmented, ping,
               simultaneous, bad_frame_when_piped, bad_frame_when_held]


async def main(names):
    for exp in EXPERIMENTS:
        if names and exp.__name__ not in names:
            continue
        print(f"\n== {exp.__name__}: {exp.__doc__.strip()}", flush=True)
        with relay() as r:
            try:
                await exp(r)
            except Exception as e:  # an observation, not a failure
                log("exception:", type(e).__name__, e)
            log("relay alive:", r.alive())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
