"""Frames at the size cap, on a reference relay started with --max-message-bytes 65536: a message of
exactly the cap passes, one byte more closes its sender with 1009 and is not forwarded."""

import asyncio

import pytest

from relay_clients import connect, server_id

CAP = 65536
DEADLINE_S = 20


async def exchange_at_the_cap(relay_url: str, message) -> tuple:
    sid = server_id("cap")
    async with connect(relay_url, serverId=sid, role="server") as server, \
            connect(relay_url, serverId=sid, role="client") as client:
        await client.send(message)
        return await server.recv(), sid


@pytest.mark.parametrize("message", [b"\x00" * CAP, "é" * (CAP // 2)], ids=["binary", "text"])
def test_message_of_exactly_the_cap_passes(start_relay, message):
    relay = start_relay("--max-message-bytes", str(CAP))
    received, _ = asyncio.run(asyncio.wait_for(exchange_at_the_cap(relay.url, message), DEADLINE_S))
    assert received == message


@pytest.mark.parametrize("message", [b"\x01" * (CAP + 1), "x" * (CAP + 1)], ids=["binary", "text"])
def test_one_byte_over_closes_the_sender_with_1009(start_relay, message):
    relay = start_relay("--max-message-bytes", str(CAP))

    async def main():
        sid = server_id("over")
        async with connect(relay.url, serverId=sid, role="server") as server:
            async with connect(relay.url, serverId=sid, role="client") as client:
                await client.send(message)
                await client.wait_closed()
                assert (client.close_code, client.close_reason) == (1009, f"Message is too large: {CAP + 1} > {CAP}")
            async with connect(relay.url, serverId=sid, role="client") as later:
                await later.send("after")
                assert await server.recv() == "after", "nothing of the big message may be forwarded"

    asyncio.run(asyncio.wait_for(main(), DEADLINE_S))
