"""Routing by serverId through HAProxy: every socket of a session on one node, sessions spread over
the nodes, the stick table holding a live session's entry past its expiry, and the table shared by
two HAProxy instances and given back to one after its reload (the peers section)."""

from __future__ import annotations

import asyncio
import time

from cluster import wait_for
from sessions import Session, server_id

SESSIONS = 24
DEADLINE_S = 60


def run(coroutine) -> None:
    asyncio.run(asyncio.wait_for(coroutine, DEADLINE_S))


def node_of(cluster, session: Session) -> str:
    """The one node holding every socket of the session (fails if they are split or missing)."""
    placed = cluster.placement().get(session.sid, [])
    assert len(placed) == len(session.sockets()) and len(set(placed)) == 1, f"{session.sid} on {placed}"
    return placed[0]


def test_every_socket_of_a_session_reaches_one_node_and_sessions_spread(start_cluster):
    cluster = start_cluster()

    async def main():
        sessions = await asyncio.gather(*(Session(cluster.ws_url(), server_id("spread")).open() for _ in range(SESSIONS)))
        await asyncio.gather(*(session.add_app("c2") for session in sessions))
        await asyncio.gather(*(session.exchange("hello") for session in sessions))
        homes = {session.sid: node_of(cluster, session) for session in sessions}
        assert set(homes.values()) == {"relay1", "relay2", "relay3"}, homes
        assert sum(node.stats()["sessions"] for node in cluster.nodes) == SESSIONS
        table = cluster.balancer.table()
        for session in sessions:
            assert cluster.balancer.server_name(table[session.sid]["server_id"]) == homes[session.sid]
            assert table[session.sid]["conn_cur"] == 5  # control, two apps, two data sockets
        await asyncio.gather(*(session.close() for session in sessions))

    run(main())


def test_a_live_session_keeps_its_entry_past_the_expiry(start_cluster):
    """With entries expiring 1 s after their last socket, a session that closed loses its entry while
    one that stays open keeps it (its sockets hold it) and its next socket reaches the same node."""
    cluster = start_cluster(stick_expire="1s")

    async def main():
        live, gone = await asyncio.gather(Session(cluster.ws_url(), server_id("live")).open(),
                                          Session(cluster.ws_url(), server_id("gone")).open())
        home = node_of(cluster, live)
        server = cluster.balancer.table()[live.sid]["server_id"]
        await gone.close()
        wait_for(lambda: gone.sid not in cluster.balancer.table(), 15, "the closed session's entry expires")
        assert cluster.balancer.table()[live.sid]["server_id"] == server
        await live.add_app("c2")
        await live.exchange("after the expiry")
        assert node_of(cluster, live) == home
        await live.close()
        wait_for(lambda: live.sid not in cluster.balancer.table(), 15, "the live session's entry expires once closed")

    run(main())


def test_two_haproxy_instances_share_the_table(start_cluster):
    """A session opened through one instance is in the other's table with the same node within a
    moment, and an app coming through the other instance joins it there."""
    cluster = start_cluster(balancers=2)
    first, second = cluster.balancers

    async def main():
        session = await Session(cluster.ws_url(0), server_id("shared")).open()
        server = first.table()[session.sid]["server_id"]
        wait_for(lambda: second.table().get(session.sid, {}).get("server_id") == server, 10,
                 "the second instance learns the entry from its peer")
        home = node_of(cluster, session)
        joined = Session(cluster.ws_url(1), session.sid)
        joined.control = session.control
        await joined.add_app("c2")
        session.pairs.update(joined.pairs)
        await session.exchange("across instances")
        assert node_of(cluster, session) == home
        await session.close()

    run(main())


def test_a_reloaded_instance_gets_the_table_back_from_its_peer(start_cluster):
    """After a reload through the master CLI the new worker learns the entries from the other instance
    (a full resync, about 5 s after the reload) and routes a live session's next socket to its node.
    (HAProxy 2.6.12 did not pass the table from the old worker through the local peer in our runs: a
    lone instance starts its new worker with an empty table.)"""
    cluster = start_cluster(balancers=2)
    first, second = cluster.balancers

    async def main():
        session = await Session(cluster.ws_url(0), server_id("reload")).open()
        server = first.table()[session.sid]["server_id"]
        home = node_of(cluster, session)
        wait_for(lambda: session.sid in second.table(), 10, "the second instance learns the entry")
        reloaded = time.monotonic()
        first.reload()
        wait_for(lambda: first.table().get(session.sid, {}).get("server_id") == server, 15,
                 "the new worker gets the entry back from its peer")
        print(f"table back {time.monotonic() - reloaded:.2f} s after the reload")
        await session.add_app("c2")
        await session.exchange("after the reload")
        assert node_of(cluster, session) == home
        await session.close()

    run(main())
