"""Raw WebSocket server side for tests that need to see or write exact bytes (RFC 6455 by hand, so
the checks do not lean on the framing library the harness itself uses)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import struct
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3


@dataclass
class Frame:
    fin: bool
    rsv1: bool
    opcode: int
    payload: bytes


@dataclass
class Handshake:
    request_head: str

    def header(self, name: str) -> Optional[str]:
        for line in self.request_head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


def server_frame(opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
    """An unmasked frame as a server sends it (payloads under 64 KiB)."""
    head = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    if len(payload) < 126:
        return bytes([head, len(payload)]) + payload
    return bytes([head, 126]) + struct.pack("!H", len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> Frame:
    """One masked client frame, unmasked."""
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", await reader.readexactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", await reader.readexactly(8))[0]
    assert second & 0x80, "client frames must be masked"
    mask = await reader.readexactly(4)
    data = await reader.readexactly(length)
    payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(data))
    return Frame(bool(first & 0x80), bool(first & 0x40), first & 0x0F, payload)


Script = Callable[[Handshake, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_websocket_server(script: Script, extensions: Optional[str] = None):
    """Accepts every handshake with a 101 (answering `extensions` in Sec-WebSocket-Extensions if
    given), then hands the connection to script(handshake, reader, writer)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handshake = Handshake((await reader.readuntil(b"\r\n\r\n")).decode("latin-1"))
        accept = base64.b64encode(hashlib.sha1(handshake.header("sec-websocket-key").encode() + GUID).digest())
        answer = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Accept: " + accept + b"\r\n")
        if extensions:
            answer += f"Sec-WebSocket-Extensions: {extensions}\r\n".encode()
        writer.write(answer + b"\r\n")
        try:
            await script(handshake, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the harness hung up: that is how every scenario ends
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
