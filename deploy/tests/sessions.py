"""Small v2 sessions over raw websockets for the checks through HAProxy: a daemon's control socket, an
app's client socket and the daemon's data socket for it, and frames both ways between the two."""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
from pathlib import Path
from typing import Optional
from urllib.parse import urlencode

import websockets

RECV_TIMEOUT_S = 10


def server_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def trusting(ca: Optional[Path]) -> Optional[ssl.SSLContext]:
    return ssl.create_default_context(cafile=str(ca)) if ca else None


def connect(url: str, ca: Optional[Path] = None, **query: str):
    """websockets.connect to /ws with these query fields: no compression, no pings, no size cap."""
    return websockets.connect(f"{url}/ws?{urlencode(query)}", ssl=trusting(ca) if url.startswith("wss:") else None,
                              compression=None, ping_interval=None, max_size=None, open_timeout=15, close_timeout=2)


async def recv(socket) -> str | bytes:
    return await asyncio.wait_for(socket.recv(), RECV_TIMEOUT_S)


class Session:
    """One v2 session: control, and per connection id an app client and a daemon data socket."""

    def __init__(self, url: str, sid: str, ca: Optional[Path] = None) -> None:
        self.url, self.sid, self.ca = url, sid, ca
        self.control = None
        self.pairs: dict[str, tuple] = {}  # connection id -> (app, daemon)
        self.sent = 0  # frames sent by the app and the daemon together

    async def open(self, connection_id: str = "c1") -> "Session":
        """The daemon's control socket and the app, concurrently (as a daemon and an app reconnecting
        after a node died do), then the daemon's data socket once the control socket knows the app."""
        self.control, app = await asyncio.gather(
            connect(self.url, self.ca, serverId=self.sid, v="2", role="server"),
            connect(self.url, self.ca, serverId=self.sid, v="2", role="client", connectionId=connection_id))
        while True:
            message = json.loads(await recv(self.control))
            if connection_id in message.get("connectionIds", []) or message.get("connectionId") == connection_id:
                break
        daemon = await connect(self.url, self.ca, serverId=self.sid, v="2", role="server", connectionId=connection_id)
        self.pairs[connection_id] = (app, daemon)
        return self

    async def add_app(self, connection_id: str) -> None:
        """A second app on the live session: its client socket, then the daemon's data socket for it."""
        app = await connect(self.url, self.ca, serverId=self.sid, v="2", role="client", connectionId=connection_id)
        assert json.loads(await recv(self.control)) == {"type": "connected", "connectionId": connection_id}
        daemon = await connect(self.url, self.ca, serverId=self.sid, v="2", role="server", connectionId=connection_id)
        self.pairs[connection_id] = (app, daemon)

    async def exchange(self, tag: str, count: int = 1) -> None:
        """`count` frames each way on every connection id, each checked on arrival."""
        for connection_id, (app, daemon) in self.pairs.items():
            for n in range(count):
                await app.send(f"up {self.sid} {connection_id} {tag} {n}")
                assert await recv(daemon) == f"up {self.sid} {connection_id} {tag} {n}"
                await daemon.send(f"down {self.sid} {connection_id} {tag} {n}".encode())
                assert await recv(app) == f"down {self.sid} {connection_id} {tag} {n}".encode()
            self.sent += 2 * count

    def sockets(self) -> list:
        return [self.control, *(socket for pair in self.pairs.values() for socket in pair)]

    async def ended(self) -> list[Optional[int]]:
        """Waits for every socket to be closed by the other side; their close codes (None: no close frame)."""
        for socket in self.sockets():
            await asyncio.wait_for(socket.wait_closed(), RECV_TIMEOUT_S)
        return [socket.close_code if socket.close_code != 1006 else None for socket in self.sockets()]

    async def close(self) -> None:
        await asyncio.gather(*(socket.close() for socket in self.sockets()))
        self.pairs.clear()
