"""Interleaved text and binary frames under load keep their order and their types, both ways, in
v1 and v2 sessions running side by side."""

import asyncio

import pytest

from relay_clients import connect, server_id

SESSIONS = 20
FRAMES = 300
DEADLINE_S = 60


def frame(direction: str, n: int):
    payload = f"{direction}-{n}-" + "x" * (n % 97)
    return payload if n % 3 else payload.encode()  # every third frame binary


async def pump(sender, receiver, direction: str) -> None:
    async def send_all():
        for n in range(FRAMES):
            await sender.send(frame(direction, n))

    async def receive_all():
        for n in range(FRAMES):
            received = await receiver.recv()
            assert received == frame(direction, n), f"{direction} frame {n}: got {received[:40]!r}"

    await asyncio.gather(send_all(), receive_all())


async def session(relay_url: str, version: str, index: int) -> None:
    sid = server_id(f"order-{version}-{index}")
    server_query = {"serverId": sid, "v": version, "role": "server"}
    client_query = {"serverId": sid, "v": version, "role": "client"}
    if version == "2":
        server_query["connectionId"] = client_query["connectionId"] = "c1"
    async with connect(relay_url, **server_query) as server, connect(relay_url, **client_query) as client:
        await asyncio.gather(pump(client, server, "up"), pump(server, client, "down"))


@pytest.mark.parametrize("version", ["1", "2"])
def test_interleaved_frames_keep_order_and_type(relay_url, version):
    async def main():
        await asyncio.gather(*(session(relay_url, version, index) for index in range(SESSIONS)))

    asyncio.run(asyncio.wait_for(main(), DEADLINE_S))
