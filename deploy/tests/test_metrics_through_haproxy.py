"""Known traffic through HAProxy, counted by the nodes: the sum over the three nodes' /metrics of
sockets opened, frames received and frames forwarded is exactly what the clients opened and sent
(HAProxy's health checks are plain HTTP requests, no sockets; the relay's own control messages are
not forwarded frames)."""

from __future__ import annotations

import asyncio

import pytest

from sessions import Session, server_id
from test_stickiness import run

SESSIONS = 12
FRAMES = 5  # each way, on each connection id
COUNTERS = ("relay_sockets_opened_total", "relay_frames_received_total", "relay_frames_forwarded_total")


def counter_sums(text: str) -> dict[str, float]:
    """Each counter in COUNTERS summed over its labels, from Prometheus text exposition."""
    sums = dict.fromkeys(COUNTERS, 0.0)
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.split("{", 1)[0].split(" ", 1)[0], line.rsplit(" ", 1)[1]
        if name in sums:
            sums[name] += float(value)
    return sums


def cluster_sums(cluster) -> dict[str, float]:
    totals = dict.fromkeys(COUNTERS, 0.0)
    for node in cluster.nodes:
        for name, value in counter_sums(node.get("/metrics")[1]).items():
            totals[name] += value
    return totals


def test_the_nodes_metrics_sum_to_what_went_through_haproxy(start_cluster):
    cluster = start_cluster()
    status, _ = cluster.nodes[0].get("/metrics")
    if status == 404:
        pytest.skip("this reference-relay has no GET /metrics on its admin port yet")
    before = cluster_sums(cluster)

    async def main():
        sessions = await asyncio.gather(*(Session(cluster.ws_url(), server_id("counted")).open() for _ in range(SESSIONS)))
        await asyncio.gather(*(session.add_app("c2") for session in sessions[::2]))
        await asyncio.gather(*(session.exchange("counted", FRAMES) for session in sessions))
        after = cluster_sums(cluster)
        sockets = sum(len(session.sockets()) for session in sessions)
        sent = sum(session.sent for session in sessions)
        assert {name: after[name] - before[name] for name in COUNTERS} == {
            "relay_sockets_opened_total": sockets, "relay_frames_received_total": sent,
            "relay_frames_forwarded_total": sent}
        assert len({node.name for node in cluster.nodes if counter_sums(node.get("/metrics")[1])["relay_frames_received_total"]}) > 1
        await asyncio.gather(*(session.close() for session in sessions))

    run(main())
