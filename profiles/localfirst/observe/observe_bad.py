#!/usr/bin/python3
"""Observe what the introduction endpoint does with messages that are not a well-formed Join/Leave.

For each input: a fresh relay; alice opens /introduction/alice and sends it; we record what alice
gets (frames, close code) and whether the relay process survives; then, if alice is still open,
a probe (alice sends a valid Join d1, bob joins d1) shows whether the input changed alice's state and
whether she is still served. Usage: /usr/bin/python3 observe_bad.py [case ...]
"""
import asyncio
import sys

from lfobs import connect, drain, join, log, mp_pack, mp_unpack, relay, show

JSON_JOIN = '{"type":"Join","documentIds":["d1"]}'

CASES = {
    # name: (frame to send: str = text frame, bytes = binary frame, probe joins d1 first?)
    "json-join-text": JSON_JOIN,
    "json-join-binary": JSON_JOIN.encode(),
    "msgpack-join-as-text-frame": None,  # msgpack bytes are not UTF-8: sent raw, see below
    "not-msgpack-1-2-3": bytes([1, 2, 3]),
    "empty-binary": b"",
    "empty-text": "",
    "msgpack-string": mp_pack("hello"),
    "msgpack-int": mp_pack(7),
    "msgpack-array": mp_pack(["Join", ["d1"]]),
    "msgpack-map-no-type": mp_pack({"documentIds": ["d1"]}),
    "msgpack-unknown-type": mp_pack({"type": "Hello", "documentIds": ["d1"]}),
    "msgpack-introduction-from-client": mp_pack({"type": "Introduction", "peerId": "bob", "documentIds": ["d1"]}),
    "msgpack-join-lowercase-type": mp_pack({"type": "join", "documentIds": ["d1"]}),
    "join-documentIds-string": mp_pack({"type": "Join", "documentIds": "d1"}),
    "join-documentIds-ints": mp_pack({"type": "Join", "documentIds": [1, 2]}),
    "join-trailing-bytes": mp_pack({"type": "Join", "documentIds": ["d1"]}) + b"\x01\x02",
    "join-no-documentIds": mp_pack({"type": "Join"}),
    "msgpack-true": mp_pack(True),
    "msgpack-nil": mp_pack(None),
    "leave-no-documentIds-after-join": mp_pack({"type": "Leave"}),
    "leave-no-documentIds-before-join": mp_pack({"type": "Leave"}),
}


async def run_case(name, payload):
    with relay() as r:
        alice = await connect(r, "/introduction/alice")
        bob = await connect(r, "/introduction/bob")
        if name == "leave-no-documentIds-after-join":
            await alice.send(join(["d0"]))
            await asyncio.sleep(0.1)
        if name == "msgpack-join-as-text-frame":
            # a text frame whose payload is the msgpack Join (0x82 ... is not valid UTF-8)
            raw = join(["d1"])
            log("sending a text frame with payload", raw.hex(" "))
            from websockets.frames import Opcode
            await alice.write_frame(True, Opcode.TEXT, raw)
        else:
            log("sending", "text" if isinstance(payload, str) else "binary",
                repr(payload) if isinstance(payload, str) else payload.hex(" "))
            await alice.send(payload)
        got = await drain(alice, 0.7)
        show("alice", got)
        await asyncio.sleep(0.3)
        log("relay alive:", r.alive())
        if not r.alive():
            show("bob (an unrelated socket)", await drain(bob, 0.5))
            err = [line for line in r.stderr_tail().splitlines() if "assert' is deprecated" not in line]
            log("relay exit code", r.proc.returncode, "stderr:")
            for line in err[:12]:
                log("  |", line)
            return
        if got and isinstance(got[-1], tuple):
            return
        # Did the input itself join alice to something? bob joins d1, 1, 2, None-likes
        await bob.send(mp_pack({"type": "Join", "documentIds": ["d1", 1, 2]}))
        show("bob joins [d1,1,2] (is alice in any of them already?)", await drain(bob, 0.5))
        await drain(alice, 0.2)
        await alice.send(join(["d1"]))
        show("probe: alice sends a valid Join d1", await drain(alice, 0.5))


async def shared_pair(r):
    """alice and bob, both in d1 and introduced (drained): the start of the documentIds experiments."""
    alice = await connect(r, "/introduction/alice")
    bob = await connect(r, "/introduction/bob")
    await alice.send(join(["d1"]))
    await asyncio.sleep(0.1)
    await bob.send(join(["d1"]))
    await drain(alice, 0.3)
    await drain(bob, 0.3)
    return alice, bob


async def join_no_document_ids_while_sharing(r):
    """A Join without documentIds from a peer that shares d1: ignored, or taken as a Join?"""
    alice, bob = await shared_pair(r)
    await alice.send(mp_pack({"type": "Join"}))
    show("alice", await drain(alice, 0.4))
    show("bob", await drain(bob, 0.3))


async def both_join_no_document_ids(r):
    """alice and bob, sharing nothing, each send a Join without documentIds: are they introduced?"""
    alice = await connect(r, "/introduction/alice")
    bob = await connect(r, "/introduction/bob")
    await alice.send(mp_pack({"type": "Join"}))
    await asyncio.sleep(0.1)
    await bob.send(mp_pack({"type": "Join"}))
    show("alice", await drain(alice, 0.4))
    show("bob", await drain(bob, 0.3))


async def join_nested_array(r):
    """alice joins [["d1"]], bob joins ["d1"]: is the nested array flattened?"""
    alice = await connect(r, "/introduction/alice")
    bob = await connect(r, "/introduction/bob")
    await alice.send(mp_pack({"type": "Join", "documentIds": [["d1"]]}))
    await asyncio.sleep(0.1)
    await bob.send(join(["d1"]))
    show("alice", await drain(alice, 0.4))
    show("bob", await drain(bob, 0.3))


async def join_equal_maps(r):
    """alice and bob both join [{"x": 1}]: do equal maps match?"""
    alice = await connect(r, "/introduction/alice")
    bob = await connect(r, "/introduction/bob")
    await alice.send(mp_pack({"type": "Join", "documentIds": [{"x": 1}]}))
    await asyncio.sleep(0.1)
    await bob.send(mp_pack({"type": "Join", "documentIds": [{"x": 1}]}))
    show("alice", await drain(alice, 0.4))
    show("bob", await drain(bob, 0.3))


EXPERIMENTS = [join_no_document_ids_while_sharing, both_join_no_document_ids, join_nested_array, join_equal_maps]


async def main(names):
    for exp in EXPERIMENTS:
        if names and exp.__name__ not in names:
            continue
        print(f"\n== {exp.__name__}: {exp.__doc__.strip()}", flush=True)
        with relay() as r:
            await exp(r)
            log("relay alive:", r.alive())
    for name, payload in CASES.items():
        if names and name not in names:
            continue
        print(f"\n== {name}", flush=True)
        try:
            await run_case(name, payload)
        except Exception as e:  # an observation, not a failure
            log("exception:", type(e).__name__, e)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
