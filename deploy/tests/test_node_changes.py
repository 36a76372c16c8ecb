"""Nodes coming and going under live sessions: a node killed ends only its own sockets and its
sessions meet again on one surviving node; a node added splits no live session while new sessions
reach it; a draining node is taken out by HAProxy's /ready check before it closes its sockets."""

from __future__ import annotations

import asyncio
import collections
import json
import signal
import time

from cluster import BACKEND, wait_for
from sessions import Session, connect, recv, server_id
from test_stickiness import node_of, run

SESSIONS = 15
DRAIN_S = 10


async def open_sessions(url: str, prefix: str, count: int = SESSIONS) -> list[Session]:
    sessions = await asyncio.gather(*(Session(url, server_id(prefix)).open() for _ in range(count)))
    await asyncio.gather(*(session.exchange("first") for session in sessions))
    return sessions


def busiest(homes: dict[str, str]) -> str:
    return collections.Counter(homes.values()).most_common(1)[0][0]


def test_a_killed_node_ends_only_its_sockets_and_its_sessions_meet_again_on_one_survivor(start_cluster):
    cluster = start_cluster()

    async def main():
        sessions = await open_sessions(cluster.ws_url(), "kill")
        homes = {session.sid: node_of(cluster, session) for session in sessions}
        victim = busiest(homes)
        lost = [session for session in sessions if homes[session.sid] == victim]
        kept = [session for session in sessions if homes[session.sid] != victim]
        assert kept, homes

        cluster.node(victim).signal(signal.SIGKILL)
        codes = await asyncio.gather(*(session.ended() for session in lost))
        assert all(code is None for session_codes in codes for code in session_codes), codes  # no close frame: 1006
        assert all(socket.open for session in kept for socket in session.sockets())
        await asyncio.gather(*(session.exchange("after the kill") for session in kept))

        # Each lost session's daemon and app reconnect at once, as they would.
        reconnecting = time.monotonic()
        again = await asyncio.gather(*(Session(cluster.ws_url(), session.sid).open() for session in lost))
        await asyncio.gather(*(session.exchange("reconnected") for session in again))
        print(f"{len(lost)} sessions of the killed {victim} together again in {time.monotonic() - reconnecting:.2f} s, "
              f"{len(kept)} others untouched")
        table = cluster.balancer.table()
        for session in again:
            home = node_of(cluster, session)
            assert home != victim
            assert cluster.balancer.server_name(table[session.sid]["server_id"]) == home
        await asyncio.gather(*(session.close() for session in [*kept, *again]))

    run(main())


def test_a_node_added_mid_run_splits_no_live_session(start_cluster):
    """relay4 joins through the runtime API (add server: the same process, so the same table). Every
    new socket of a live session still reaches its node; new sessions reach relay4 too; and hashing
    alone would have moved some live sessions to relay4: after they end and their entries are
    cleared, their serverIds land there."""
    cluster = start_cluster(spare_nodes=1)
    balancer, spare = cluster.balancer, cluster.nodes[3]
    live_count = 30

    async def main():
        live = await open_sessions(cluster.ws_url(), "live", live_count)
        homes = {session.sid: node_of(cluster, session) for session in live}

        answer = balancer.command(f"add server relays/relay4 {spare.address} check inter 1s fall 2 rise 2 weight 100")
        assert "New server registered" in answer, answer
        balancer.command("enable health relays/relay4")
        balancer.command("enable server relays/relay4")
        balancer.wait_status("relay4", "UP", 10)

        await asyncio.gather(*(session.add_app("c2") for session in live))
        await asyncio.gather(*(session.exchange("after the add") for session in live))
        assert {session.sid: node_of(cluster, session) for session in live} == homes

        fresh = await open_sessions(cluster.ws_url(), "fresh", live_count)
        assert "relay4" in {node_of(cluster, session) for session in fresh}
        await asyncio.gather(*(session.close() for session in [*live, *fresh]))

        def cleared() -> bool:
            balancer.command(f"clear table {BACKEND}")
            return not set(homes) & set(balancer.table())

        wait_for(cleared, 15, "the ended sessions' entries are cleared")
        probes = await asyncio.gather(*(connect(cluster.ws_url(), serverId=sid, v="2", role="server") for sid in homes))
        assert [json.loads(await recv(probe))["type"] for probe in probes] == ["sync"] * len(probes)
        moved = [sid for sid, nodes in cluster.placement().items() if sid in homes and nodes == ["relay4"]]
        assert moved, "no live serverId would have moved to relay4 by hashing alone: the test shows nothing"
        await asyncio.gather(*(probe.close() for probe in probes))

    run(main())



def test_a_draining_node_is_taken_out_before_it_closes_its_sockets(start_cluster):
    """SIGTERM with --drain-seconds: /ready turns 503, HAProxy takes the node out within two checks,
    new sessions go elsewhere while the node's own sessions keep forwarding (and their new sockets
    still reach it), then the node closes its sockets with 1001 and exits 0."""
    cluster = start_cluster(node_args=("--drain-seconds", str(DRAIN_S)))
    balancer = cluster.balancer

    async def main():
        sessions = await open_sessions(cluster.ws_url(), "drain")
        homes = {session.sid: node_of(cluster, session) for session in sessions}
        victim = busiest(homes)
        draining = [session for session in sessions if homes[session.sid] == victim]

        signalled = time.monotonic()
        cluster.node(victim).signal(signal.SIGTERM)
        balancer.wait_status(victim, "DOWN", DRAIN_S / 2)
        print(f"{victim} taken out {time.monotonic() - signalled:.2f} s after SIGTERM")
        assert cluster.node(victim).alive()
        await asyncio.gather(*(session.exchange("while draining") for session in draining))
        await draining[0].add_app("c2")
        assert node_of(cluster, draining[0]) == victim

        fresh = await open_sessions(cluster.ws_url(), "fresh", 12)
        assert victim not in {node_of(cluster, session) for session in fresh}

        codes = await asyncio.gather(*(session.ended() for session in draining))
        assert {code for session_codes in codes for code in session_codes} == {1001}, codes
        assert cluster.node(victim).process.wait(10) == 0
        await asyncio.gather(*(session.close() for session in sessions + fresh if session not in draining))

    run(main())
