"""Shared helpers for observing the real local-first relay (@localfirst/relay, profiles/localfirst/server).

Each observe_*.py script starts its own relay on an ephemeral loopback port (start.mjs, port 0),
drives it with python3-websockets, and prints one line per observation: what was sent, what came
back (frame type, hex bytes, decoded MessagePack), close codes and elapsed times.

Environment: LF_NODE picks the node binary (default: `node` on PATH); LF_SERVER_DIR the server
folder (default: ../server beside this one, after `npm ci` there).
"""
import asyncio
import contextlib
import os
import pathlib
import signal
import socket
import struct
import subprocess
import time

import websockets

SERVER_DIR = pathlib.Path(os.environ.get("LF_SERVER_DIR", pathlib.Path(__file__).resolve().parent.parent / "server"))
NODE = os.environ.get("LF_NODE", "node")

# ---------------------------------------------------------------------------------------------
# The relay process


@contextlib.contextmanager
def relay():
    """Start the relay on 127.0.0.1 port 0; yield its ws:// URL; SIGTERM it afterwards."""
    proc = subprocess.Popen(NODE.split() + ["start.mjs"], cwd=SERVER_DIR, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("ws://"):
        proc.kill()
        raise RuntimeError(f"relay did not print its URL: {url!r} {proc.stderr.read()}")
    try:
        yield Relay(url, proc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Relay:
    def __init__(self, url, proc):
        self.url = url
        self.proc = proc
        hostport = url[len("ws://"):]
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)

    def alive(self):
        return self.proc.poll() is None

    def stderr_tail(self):
        """The relay's stderr once it has exited (the process must be gone)."""
        return self.proc.stderr.read() if self.proc.poll() is not None else "(running)"


# ---------------------------------------------------------------------------------------------
# MessagePack, the subset the relay's msgpackr speaks (maps, arrays, strings, bin, ints, nil, bools)


def mp_pack(value):
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        if 0 <= value < 0x80:
            return bytes([value])
        if -32 <= value < 0:
            return struct.pack("b", value)
        return b"\xd3" + struct.pack(">q", value)
    if isinstance(value, str):
        raw = value.encode()
        n = len(raw)
        if n < 32:
            return bytes([0xA0 | n]) + raw
        if n < 0x100:
            return b"\xd9" + bytes([n]) + raw
        if n < 0x10000:
            return b"\xda" + struct.pack(">H", n) + raw
        return b"\xdb" + struct.pack(">I", n) + raw
    if isinstance(value, (bytes, bytearray)):
        n = len(value)
        if n < 0x100:
            return b"\xc4" + bytes([n]) + bytes(value)
        if n < 0x10000:
            return b"\xc5" + struct.pack(">H", n) + bytes(value)
        return b"\xc6" + struct.pack(">I", n) + bytes(value)
    if isinstance(value, (list, tuple)):
        n = len(value)
        head = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
        return head + b"".join(mp_pack(v) for v in value)
    if isinstance(value, dict):
        n = len(value)
        head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(mp_pack(k) + mp_pack(v) for k, v in value.items())
    raise TypeError(type(value))


def mp_unpack(data):
    """Decode one MessagePack value; returns (value, bytes_left)."""
    value, pos = _mp(data, 0)
    return value, len(data) - pos


def _mp(b, i):
    t = b[i]
    i += 1
    if t < 0x80:
        return t, i
    if t >= 0xE0:
        return t - 0x100, i
    if 0x80 <= t <= 0x8F:
        return _mp_map(b, i, t & 0x0F)
    if 0x90 <= t <= 0x9F:
        return _mp_arr(b, i, t & 0x0F)
    if 0xA0 <= t <= 0xBF:
        n = t & 0x1F
        return b[i:i + n].decode(), i + n
    simple = {0xC0: None, 0xC2: False, 0xC3: True}
    if t in simple:
        return simple[t], i
    sized = {0xC4: (1, "bin"), 0xC5: (2, "bin"), 0xC6: (4, "bin"), 0xD9: (1, "str"), 0xDA: (2, "str"),
             0xDB: (4, "str")}
    if t in sized:
        width, kind = sized[t]
        n = int.from_bytes(b[i:i + width], "big")
        i += width
        raw = bytes(b[i:i + n])
        return (raw if kind == "bin" else raw.decode()), i + n
    ints = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q",
            0xCA: ">f", 0xCB: ">d"}
    if t in ints:
        fmt = ints[t]
        n = struct.calcsize(fmt)
        return struct.unpack(fmt, b[i:i + n])[0], i + n
    if t == 0xDC:
        return _mp_arr(b, i + 2, int.from_bytes(b[i:i + 2], "big"))
    if t == 0xDE:
        return _mp_map(b, i + 2, int.from_bytes(b[i:i + 2], "big"))
    raise ValueError(f"msgpack type 0x{t:02x} not handled")


def _mp_map(b, i, n):
    out = {}
    for _ in range(n):
        k, i = _mp(b, i)
        v, i = _mp(b, i)
        out[k] = v
    return out, i


def _mp_arr(b, i, n):
    out = []
    for _ in range(n):
        v, i = _mp(b, i)
        out.append(v)
    return out, i


# ---------------------------------------------------------------------------------------------
# Sockets and reporting

T0 = time.monotonic()


def now():
    return time.monotonic()


def log(*parts):
    print(f"[{now() - T0:8.3f}]", *parts, flush=True)


def describe(msg, limit=96):
    """A received message as 'binary N bytes: hex' or 'text N chars: repr', with msgpack decoded."""
    if isinstance(msg, str):
        return f"text {len(msg)} chars: {msg[:limit]!r}"
    head = msg[:limit].hex(" ")
    more = " ..." if len(msg) > limit else ""
    try:
        value, left = mp_unpack(msg)
        decoded = f" = msgpack {value!r}" + (f" (+{left} bytes)" if left else "")
    except Exception:
        decoded = " (not msgpack)"
    if len(msg) > limit:
        decoded = ""
    return f"binary {len(msg)} bytes: {head}{more}{decoded}"


async def connect(r, path, **kw):
    kw.setdefault("max_size", None)
    kw.setdefault("compression", None)
    kw.setdefault("ping_interval", None)
    return await websockets.connect(r.url + path, open_timeout=5, **kw)


async def recv(ws, timeout=1.0):
    """Next message, or None after timeout, or ('closed', code, reason, seconds_waited) if it closes."""
    start = now()
    try:
        return await asyncio.wait_for(ws.recv(), timeout)
    except asyncio.TimeoutError:
        return None
    except websockets.ConnectionClosed:
        return ("closed", ws.close_code, ws.close_reason, round(now() - start, 3))


async def drain(ws, timeout=0.5):
    """All messages until `timeout` of silence (or a close, included as its tuple)."""
    out = []
    while True:
        m = await recv(ws, timeout)
        if m is None:
            return out
        out.append(m)
        if isinstance(m, tuple):
            return out


def show(label, items):
    if not items:
        log(f"{label}: nothing")
    for m in items if isinstance(items, list) else [items]:
        log(f"{label}: " + (f"CLOSED code={m[1]} reason={m[2]!r} after {m[3]}s" if isinstance(m, tuple)
                            else describe(m)))


def join(ids):
    return mp_pack({"type": "Join", "documentIds": list(ids)})


def leave(ids):
    return mp_pack({"type": "Leave", "documentIds": list(ids)})


def raw_http(r, request: bytes, timeout=2.0, read_after=0.5):
    """Send raw bytes over TCP; return everything received until the peer closes or goes quiet."""
    s = socket.create_connection((r.host, r.port), timeout=timeout)
    s.sendall(request)
    s.settimeout(read_after)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                data += b"<EOF>"
                break
            data += chunk
    except socket.timeout:
        pass
    s.close()
    return data


def upgrade_request(path, host="127.0.0.1", key="dGhlIHNhbXBsZSBub25jZQ==", extra=""):
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode()
