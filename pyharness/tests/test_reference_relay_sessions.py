"""Many concurrent v2 sessions on the reference relay, each with a control, a data socket and a
client exchanging frames; none may see another's traffic."""

import asyncio
import json

from relay_clients import connect, server_id

SESSIONS = 200
DEADLINE_S = 60


async def one_session(relay_url: str, index: int) -> None:
    sid = server_id(f"many-{index}")
    async with connect(relay_url, serverId=sid, v="2", role="server") as control:
        assert json.loads(await control.recv()) == {"type": "sync", "connectionIds": []}
        async with connect(relay_url, serverId=sid, v="2", role="client", connectionId=f"c{index}") as app:
            assert json.loads(await control.recv()) == {"type": "connected", "connectionId": f"c{index}"}
            async with connect(relay_url, serverId=sid, v="2", role="server", connectionId=f"c{index}") as daemon:
                for n in range(5):
                    await app.send(f"up {index} {n}")
                    await daemon.send(f"down {index} {n}".encode())
                assert [await daemon.recv() for _ in range(5)] == [f"up {index} {n}" for n in range(5)]
                assert [await app.recv() for _ in range(5)] == [f"down {index} {n}".encode() for n in range(5)]
                await control.send('{"type":"ping"}')
                pong = json.loads(await control.recv())
                assert pong["type"] == "pong" and isinstance(pong["ts"], int)


def test_many_concurrent_sessions(relay_url):
    async def main():
        await asyncio.gather(*(one_session(relay_url, index) for index in range(SESSIONS)))

    asyncio.run(asyncio.wait_for(main(), DEADLINE_S))
