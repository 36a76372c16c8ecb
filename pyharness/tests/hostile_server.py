#!/usr/bin/python3
"""A relay that attacks the runner, as conformance/tests/scripted_server.cpp's hostile modes do, for the
scenarios in conformance/tests/data/hostile/: a thread per connection on blocking loopback sockets, so
a flood goes at the speed of the socket. Every mode answers `GET /` (the latency calibration) at once;
a WebSocket whose serverId ends in "-quiet" hears nothing. For measuring by hand (docs/reliability.md):

    pyharness/tests/hostile_server.py MODE    # prints its ws:// URL, serves until interrupted
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import socket
import struct
import threading
import time

from wire import GUID

MODES = {
    # 16 KiB, where the C++ server sends 1 KiB: pyharness parses frames in pure Python, and smaller ones
    # may not fill its queue within hostile-unread's quiet period on a busy machine.
    "flood": "16 KiB text frames without end",
    "endless_frame": "a frame header announcing 2^63 - 1 bytes, then its payload without end",
    "max_frames": "text frames of 32 MiB, the longest a relay forwards, without end",
    "mute": "nothing after the 101, and no answer to a close frame",
    "dribble": "every answer but to GET / one byte per 100 ms, without end",
    "reset": "half a frame (half an HTTP head on /health), then a TCP reset",
}


class HostileServer:
    def __init__(self, mode: str) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stopping = False
        self.bytes_flooded = 0  # written by the endless modes (flood, endless_frame, max_frames)
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def __enter__(self) -> "HostileServer":
        return self

    def __exit__(self, *_) -> None:
        self._stopping = True
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept
        self._listener.close()
        # Connection threads end when the runner's sockets are gone and their next write fails.
        for thread in self._threads:
            thread.join(10)

    def _accept(self) -> None:
        while not self._stopping:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                head += chunk
            self._attack(connection, head.decode("latin-1"))
        except OSError:
            pass  # the runner hung up: how every attack ends
        finally:
            connection.close()

    def _send_forever(self, connection: socket.socket, data: bytes) -> None:
        while not self._stopping:
            connection.sendall(data)
            self.bytes_flooded += len(data)

    def _attack(self, connection: socket.socket, head: str) -> None:
        target = head.split(" ")[1]
        if target == "/":
            connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        if self.mode == "dribble":
            for byte in itertools.chain(b"HTTP/1.1 101 Switching Protocols\r\nX-Pad: ", itertools.repeat(ord("a"))):
                if self._stopping:
                    return
                connection.sendall(bytes([byte]))
                time.sleep(0.1)
        if target.startswith("/health"):
            if self.mode != "reset":
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                return
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Le")
            return _reset(connection)
        key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())
        connection.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        if self.mode == "mute" or "-quiet" in target:
            while connection.recv(65536):
                pass
        elif self.mode == "flood":
            self._send_forever(connection, (b"\x81\x7e" + struct.pack("!H", 16384) + b"x" * 16384) * 64)
        elif self.mode == "endless_frame":
            connection.sendall(b"\x81\x7f" + struct.pack("!Q", 2**63 - 1))
            self._send_forever(connection, b"x" * (1 << 20))
        elif self.mode == "max_frames":
            self._send_forever(connection, b"\x81\x7f" + struct.pack("!Q", 32 << 20) + b"x" * (32 << 20))
        elif self.mode == "reset":
            connection.sendall(b"\x81\x7e" + struct.pack("!H", 1000) + b"x" * 500)  # a 1,000-byte frame cut after 500
            _reset(connection)


def _reset(connection: socket.socket) -> None:
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="a relay that attacks the runner")
    parser.add_argument("mode", choices=sorted(MODES))
    with HostileServer(parser.parse_args().mode) as hostile:
        print(hostile.url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print(f"{hostile.bytes_flooded / 1e9:.2f} GB flooded", flush=True)
