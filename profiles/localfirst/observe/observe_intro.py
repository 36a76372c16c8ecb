#!/usr/bin/python3
"""Observe the introduction endpoint: joining, introductions, late joiners, leaving, replacement.

Each experiment runs on a fresh relay. Usage: /usr/bin/python3 observe_intro.py [experiment ...]
"""
import asyncio
import sys

from lfobs import connect, drain, join, leave, log, mp_pack, relay, show


async def one_document(r):
    """alice joins d1, then bob joins d1: who is introduced, in what order, with which bytes."""
    alice = await connect(r, "/introduction/alice")
    show("alice on open", await drain(alice, 0.3))
    await alice.send(join(["d1"]))
    show("alice after her Join (alone)", await drain(alice, 0.5))
    bob = await connect(r, "/introduction/bob")
    await bob.send(join(["d1"]))
    show("bob after his Join", await drain(bob))
    show("alice after bob's Join", await drain(alice))
    log("Join bytes sent:", join(["d1"]).hex(" "))


async def order(r):
    """Which of the two gets its Introduction first: the joiner (bob) or the one already there?"""
    alice = await connect(r, "/introduction/alice")
    bob = await connect(r, "/introduction/bob")
    await alice.send(join(["d1"]))
    await asyncio.sleep(0.2)
    loop = asyncio.get_running_loop()
    arrivals = []

    async def watch(name, ws):
        m = await ws.recv()
        arrivals.append((loop.time(), name, m))

    await bob.send(join(["d1"]))
    await asyncio.gather(watch("alice", alice), watch("bob", bob))
    for t, name, m in sorted(arrivals):
        log(f"arrival {name} at {t:.6f}")


async def several_documents(r):
    """alice joins [d1,d2,d3] in one Join; bob joins [d4,d3,d2]: common keys and their order."""
    alice = await connect(r, "/introduction/alice")
    bob = await connect(r, "/introduction/bob")
    await alice.send(join(["d1", "d2", "d3"]))
    await asyncio.sleep(0.2)
    await bob.send(join(["d4", "d3", "d2"]))
    show("bob", await drain(bob))
    show("alice", await drain(alice))
    log("now alice joins d4 (a new common document): is the Introduction only for d4 or all common?")
    await alice.send(join(["d4"]))
    show("alice", await drain(alice))
    show("bob", await drain(bob))
    log("alice joins d1 again (already joined, bob not in it): re-introduced?")
    await alice.send(join(["d1"]))
    show("alice", await drain(alice))
    show("bob", await drain(bob))
    log("alice joins d2 again (already common): re-introduced?")
    await alice.send(join(["d2"]))
    show("alice", await drain(alice))
    show("bob", await drain(bob))


async def separate_joins(r):
    """Two Join messages on one socket accumulate; duplicates within a Join are dropped."""
    alice = await connect(r, "/introduction/alice")
    bob = await connect(r, "/introduction/bob")
    await alice.send(join(["d1"]))
    await alice.send(join(["d2", "d2", "d1"]))
    await asyncio.sleep(0.2)
    await bob.send(join(["d2", "d1", "d1"]))
    show("bob", await drain(bob))
    show("alice", await drain(alice))


async def late_joiner(r):
    """alice and bob share d1; carol joins d1 later: introduced to both, both to her."""
    alice = await connect(r, "/introduction/alice")
    bob = await connect(r, "/introduction/bob")
    await alice.send(join(["d1"]))
    await asyncio.sleep(0.1)
    await bob.send(join(["d1"]))
    show("alice (bob joined)", await drain(alice, 0.3))
    show("bob (bob joined)", await drain(bob, 0.3))
    carol = await connect(r, "/introduction/carol")
    await carol.send(join(["d1"]))
    show("carol (carol joined)", await drain(carol))
    show("alice (carol joined)", await drain(alice))
    show("bob (carol joined)", await drain(bob))


async def late_socket(r):
    """The introduction comes when the second peer Joins, not when it connects."""
    alice = await connect(r, "/introduction/alice")
    await alice.send(join(["d1"]))
    bob = await connect(r, "/introduction/bob")
    show("alice after bob connected, before his Join", await drain(alice, 0.5))
    await bob.send(join(["d2"]))
    show("alice after bob joined d2 (no common document)", await drain(alice, 0.5))
    show("bob", await drain(bob, 0.3))


async def leaving(r):
    """alice leaves d1; then carol joins d1; and what does bob see when alice leaves?"""
    alice = await connect(r, "/introduction/alice")
    bob = await connect(r, "/introduction/bob")
    await alice.send(join(["d1", "d2"]))
    await asyncio.sleep(0.1)
    await bob.send(join(["d1"]))
    await drain(alice, 0.3)
    await drain(bob, 0.3)
    await alice.send(leave(["d1"]))
    show("bob after alice's Leave", await drain(bob, 0.5))
    show("alice after her Leave", await drain(alice, 0.3))
    carol = await connect(r, "/introduction/carol")
    await carol.send(join(["d1", "d2"]))
    show("carol joins d1,d2", await drain(carol))
    show("alice", await drain(alice))
    show("bob", await drain(bob))
    log("Leave of a document never joined, then Leave of all: socket stays open?")
    await alice.send(leave(["nope"]))
    await alice.send(leave(["d2"]))
    show("alice", await drain(alice, 0.3))
    dave = await connect(r, "/introduction/dave")
    await dave.send(join(["d2"]))
    show("dave joins d2 (only carol has it now)", await drain(dave))
    show("alice", await drain(alice, 0.3))
    log("Leave bytes:", leave(["d1"]).hex(" "))


async def disconnecting(r):
    """alice's introduction socket closes: bob is not told; a later joiner is not introduced to her."""
    alice = await connect(r, "/introduction/alice")
    bob = await connect(r, "/introduction/bob")
    await alice.send(join(["d1"]))
    await asyncio.sleep(0.1)
    await bob.send(join(["d1"]))
    await drain(alice, 0.3)
    await drain(bob, 0.3)
    await alice.close()
    show("bob after alice closed", await drain(bob, 0.5))
    carol = await connect(r, "/introduction/carol")
    await carol.send(join(["d1"]))
    show("carol", await drain(carol))
    log("alice reconnects with the same id: her documents were forgotten; she must Join again")
    alice2 = await connect(r, "/introduction/alice")
    dave = await connect(r, "/introduction/dave")
    await dave.send(join(["d1"]))
    show("dave joins d1 (alice2 has not joined)", await drain(dave))
    show("alice2", await drain(alice2, 0.3))


async def same_peer_twice(r):
    """A second introduction socket for the same peerId: the first is not closed; who gets what."""
    alice1 = await connect(r, "/introduction/alice")
    await alice1.send(join(["d1"]))
    await asyncio.sleep(0.1)
    alice2 = await connect(r, "/introduction/alice")
    show("alice1 after alice2 opened", await drain(alice1, 0.5))
    bob = await connect(r, "/introduction/bob")
    await bob.send(join(["d1"]))
    show("bob (alice2 has not joined; alice1 did)", await drain(bob))
    show("alice1", await drain(alice1))
    show("alice2", await drain(alice2))
    log("alice1 sends Join d1 again: she is re-scanned but the relay sends to the socket of peers['alice']")
    await alice1.send(join(["d1"]))
    show("alice1", await drain(alice1))
    show("alice2", await drain(alice2))
    show("bob", await drain(bob))
    log("alice1 closes: does that drop alice2's registration?")
    await alice1.close()
    await asyncio.sleep(0.2)
    await alice2.send(join(["d2"]))
    carol = await connect(r, "/introduction/carol")
    await carol.send(join(["d1", "d2"]))
    show("carol joins d1,d2 (alice2 joined d2 after alice1 closed)", await drain(carol))
    show("alice2", await drain(alice2))
    log("alice2 (still open, forgotten) joins d1, which bob has: who is told?")
    await alice2.send(join(["d1"]))
    show("alice2", await drain(alice2))
    show("bob", await drain(bob))


async def self_and_empty(r):
    """A Join with no documents; a peer never introduced to itself; ids with odd characters."""
    a = await connect(r, "/introduction/a%20b%2Fc")
    await a.send(join([]))
    show("a after empty Join", await drain(a, 0.3))
    b = await connect(r, "/introduction/%C3%A9t%C3%A9")
    await a.send(join(["d1"]))
    await b.send(join(["d1"]))
    show("'a b/c' (percent-encoded in the path)", await drain(a))
    show("'été'", await drain(b))


async def many_peers(r):
    """Five peers join one document one after another: every pair introduced once each way."""
    socks = []
    for name in "abcde":
        ws = await connect(r, f"/introduction/{name}")
        socks.append((name, ws))
        await ws.send(join(["d1"]))
        await asyncio.sleep(0.1)
    for name, ws in socks:
        got = await drain(ws, 0.3)
        from lfobs import mp_unpack
        log(name, "got", [mp_unpack(m)[0]["peerId"] for m in got if isinstance(m, bytes)])


async def join_all_at_once(r):
    """Both peers Join in the same instant: each is introduced once or twice?"""
    alice = await connect(r, "/introduction/alice")
    bob = await connect(r, "/introduction/bob")
    await asyncio.gather(alice.send(join(["d1"])), bob.send(join(["d1"])))
    show("alice", await drain(alice))
    show("bob", await drain(bob))


async def heartbeat(r):
    """The package's own Client sends {type:'Heartbeat'} every 55 s; the server checks for '❤️'."""
    alice = await connect(r, "/introduction/alice")
    for msg in ({"type": "Heartbeat"}, {"type": "❤️"}):
        await alice.send(mp_pack(msg))
        show(f"after {msg}", await drain(alice, 0.3))
    bob = await connect(r, "/introduction/bob")
    await alice.send(join(["d1"]))
    await bob.send(join(["d1"]))
    show("alice still served after heartbeats", await drain(alice))


EXPERIMENTS = [one_document, order, several_documents, separate_joins, late_joiner, late_socket, leaving,
               disconnecting, same_peer_twice, self_and_empty, many_peers, join_all_at_once, heartbeat]


async def main(names):
    for exp in EXPERIMENTS:
        if names and exp.__name__ not in names:
            continue
        print(f"\n== {exp.__name__}: {exp.__doc__.strip()}", flush=True)
        with relay() as r:
            await exp(r)
            log("relay alive:", r.alive())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
