#!/usr/bin/python3
"""Slow readers and the relay's memory bound (docs/reliability.md, "Slow readers and memory").

Each case starts its own reference relay, floods sockets that never read (or a connection id with no
data socket), samples the relay's RSS from /proc, and meanwhile times round trips of a v1 echo pair on
another serverId, before the flood and during it. Prints a table. Exits 1 if the relay's peak RSS
passes the bound derived from its code (bound() below), if a flooder is not held back, if buffered
frames go missing, or if one of those round trips takes over MAX_FLOOD_RTT_S.

Usage: slow_readers.py RELAY_BINARY [--case NAME ...] [--buffered-frames N] [--frame-mib N]
"""
import argparse
import base64
import multiprocessing
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

MIB = 1 << 20
MESSAGE_CAP = 32 * MIB    # TransportOptions::max_message_bytes, the official runtime's cap
QUEUE_LIMIT = 8 * MIB     # TransportOptions::max_queue_bytes
READ_CHUNK = 1 * MIB      # websocket_session.cpp read_chunk_limit
KEPT_FRAMES = 200         # RelayOptions::pending_frames_per_connection (V2-BUF-2)
ALLOCATOR_SLACK = 32 * MIB  # heap fragmentation, Beast and zlib state, page rounding

URL_DEADLINE_S = 10
STEP_DEADLINE_S = 120     # any one read, write or wait of a case
HELD_AFTER_S = 1.5        # a flooder that makes no progress this long is held back
HELD_DEADLINE_S = 60      # ... and must be within this long
BASELINE_S = 3            # round trips timed before the flood
PROBE_INTERVAL_S = 0.05
# No round trip of another session may take this long during a flood. Before the relay capped what one
# socket reads per event-loop pass (coalescing_stream.hpp), frames being kept held them 1.6 to 2 s;
# since, the slowest seen on a busy 2-core machine (load 8) was 0.3 s.
MAX_FLOOD_RTT_S = 1.0

TEXT, BINARY, CLOSE = 0x1, 0x2, 0x8


# ---------------------------------------------------------------------------------------------
# A raw WebSocket client: frames are masked with the all-zero key (RFC 6455 allows any key), so a
# payload is sent as it is, without masking 32 MiB in Python.

class Ws:
    def __init__(self, port, query):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=STEP_DEADLINE_S)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /ws?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buffer = bytearray()
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"upgrade of ?{query} refused: {head.splitlines()[0]!r}")
        self.buffer = bytearray(rest)

    def _fill(self):
        chunk = self.sock.recv(READ_CHUNK)
        if not chunk:
            raise ConnectionError("the relay ended the connection")
        self.buffer += chunk

    def send(self, payload, opcode=BINARY):
        self.sock.sendall(frame_header(len(payload), opcode) + bytes(payload))

    def read_exact(self, n, into=None):
        """n bytes, into `into` (a memoryview of at least n) if given."""
        into = into if into is not None else memoryview(bytearray(n))
        got = min(n, len(self.buffer))
        into[:got] = self.buffer[:got]
        del self.buffer[:got]
        while got < n:
            read = self.sock.recv_into(into[got:n])
            if not read:
                raise ConnectionError("the relay ended the connection")
            got += read
        return into[:n]

    def read_frame(self, into=None):
        """(opcode, payload); large payloads go into `into`."""
        first, second = self.read_exact(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.read_exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.read_exact(8))[0]
        return first & 0x0F, self.read_exact(length, into)

    def close(self):
        self.sock.close()


def frame_header(length, opcode):
    if length < 126:
        size = struct.pack("!B", 0x80 | length)
    elif length <= 0xFFFF:
        size = struct.pack("!BH", 0x80 | 126, length)
    else:
        size = struct.pack("!BQ", 0x80 | 127, length)
    return struct.pack("!B", 0x80 | opcode) + size + b"\0\0\0\0"


# ---------------------------------------------------------------------------------------------
# The relay and its memory.

class Relay:
    def __init__(self, binary):
        self.process = subprocess.Popen([binary, "--port", "0", "--log-level", "warn"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], URL_DEADLINE_S)
        url = self.process.stdout.readline().strip() if ready else ""
        if not url.startswith("ws://"):
            self.process.kill()
            sys.exit(f"slow_readers: the reference relay printed no URL (got {url!r})")
        self.port = int(url.rsplit(":", 1)[1].split("/")[0])
        self.peak_rss = 0
        self._halt = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def status(self, field):
        """A /proc/PID/status figure in bytes (VmRSS: now, VmHWM: the peak so far)."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {field} for the relay")

    def _sample(self):
        while not self._halt.wait(0.02):
            self.peak_rss = max(self.peak_rss, self.status("VmRSS"))

    def steady_rss(self, seconds):
        """RSS once it has not moved by a MiB for `seconds`: the relay has read, or freed, what it will."""
        deadline = time.monotonic() + STEP_DEADLINE_S
        last, since = self.status("VmRSS"), time.monotonic()
        while time.monotonic() - since < seconds:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the relay's RSS did not settle within {STEP_DEADLINE_S} s")
            time.sleep(0.1)
            now = self.status("VmRSS")
            if abs(now - last) >= MIB:
                last, since = now, time.monotonic()
        return last

    def stop(self):
        self._halt.set()
        self._sampler.join()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ---------------------------------------------------------------------------------------------
# Flooders: as many frames as the relay takes, from a thread, counting what the kernel accepted.

class Flooder(threading.Thread):
    def __init__(self, ws, frame_bytes):
        super().__init__(daemon=True)
        self.ws = ws
        self.frame = memoryview(frame_header(frame_bytes, BINARY) + bytes(frame_bytes))
        self.sent = 0
        self.last_progress = time.monotonic()
        self.error = None
        self._halt = threading.Event()

    def run(self):
        self.last_progress = time.monotonic()
        self.ws.sock.setblocking(False)
        try:
            while not self._halt.is_set():
                offset = 0
                while offset < len(self.frame) and not self._halt.is_set():
                    _, writable, _ = select.select([], [self.ws.sock], [], 0.1)
                    if writable:
                        sent = self.ws.sock.send(self.frame[offset:offset + READ_CHUNK])
                        offset += sent
                        self.sent += sent
                        self.last_progress = time.monotonic()
        except OSError as e:
            self.error = e

    def stop(self):
        self._halt.set()
        self.join(timeout=STEP_DEADLINE_S)


def wait_held(flooders):
    """Seconds until no flooder has made progress for HELD_AFTER_S; None if they kept going."""
    start = time.monotonic()
    while time.monotonic() - start < HELD_DEADLINE_S:
        time.sleep(0.1)
        if any(f.error for f in flooders):
            raise RuntimeError(f"a flooder failed: {next(f.error for f in flooders if f.error)}")
        latest = max(f.last_progress for f in flooders)
        if time.monotonic() - latest >= HELD_AFTER_S:
            return latest - start
    return None


# ---------------------------------------------------------------------------------------------
# Another session's latency: a v1 pair on its own serverId, the client sending a small frame every
# 50 ms that its server echoes back. Its own process, so the flooders' threads do not delay it.

def probe(port, stop, out):
    server = Ws(port, "serverId=latency-probe&role=server")
    client = Ws(port, "serverId=latency-probe&role=client")
    samples, seq, next_at = [], 0, time.monotonic()
    while not stop.is_set():
        seq += 1
        sent_at = time.monotonic()
        client.send(b"%d" % seq, TEXT)
        _, echo = server.read_frame()
        server.send(echo, TEXT)
        _, back = client.read_frame()
        if bytes(back) != b"%d" % seq:
            raise RuntimeError(f"probe: sent {seq}, got {bytes(back)!r}")
        samples.append((sent_at, time.monotonic() - sent_at))
        next_at += PROBE_INTERVAL_S
        time.sleep(max(0.0, next_at - time.monotonic()))
    out.put(samples)


class Probe:
    def __init__(self, port):
        context = multiprocessing.get_context("fork")
        self._halt, self._out = context.Event(), context.Queue()
        self._process = context.Process(target=probe, args=(port, self._halt, self._out), daemon=True)
        self._process.start()

    def samples(self):
        self._halt.set()
        samples = self._out.get(timeout=STEP_DEADLINE_S)
        self._process.join(timeout=10)
        return samples


def percentiles(samples, start, end):
    """(count, p50, p99, max) in ms of the round trips sent in [start, end)."""
    rtts = sorted(rtt for at, rtt in samples if start <= at < end)
    if not rtts:
        return (0, float("nan"), float("nan"), float("nan"))
    pick = lambda q: rtts[min(len(rtts) - 1, int(q * len(rtts)))] * 1000
    return (len(rtts), pick(0.5), pick(0.99), rtts[-1] * 1000)


# ---------------------------------------------------------------------------------------------
# The bound, from the code (docs/reliability.md has the derivation):
# - a socket reading a message holds it (up to the cap, plus the 1 MiB read past it), and while its
#   buffer doubles, a copy of up to half of it: at most 2 x cap each;
# - a flooder that makes its target congested has handed over one more message before it stops reading;
# - each target queues up to max_queue_bytes before it counts as congested;
# - kept frames (V2-BUF) are held as they arrived, up to 200 per connection id.

def bound(baseline, flooders, targets, kept_bytes=0):
    return (baseline + flooders * (2 * MESSAGE_CAP + READ_CHUNK + MESSAGE_CAP) + targets * QUEUE_LIMIT
            + kept_bytes + ALLOCATOR_SLACK)


class Result:
    def __init__(self, name, description):
        self.name, self.description = name, description
        self.figures, self.problems = {}, []


def timed_flood(relay, result, flooders, description):
    """Starts the probe, floods until every flooder is held back, and fills `result`."""
    probe = Probe(relay.port)
    time.sleep(BASELINE_S)  # pacing: the baseline round trips, before any flood
    flood_start = time.monotonic()
    for f in flooders:
        f.start()
    held_after = wait_held(flooders)
    # Stay flooding while held a little longer, so round trips are timed during the hold too.
    time.sleep(BASELINE_S)
    flood_end = time.monotonic()
    samples = probe.samples()
    for f in flooders:
        f.stop()
    result.figures["accepted_mib"] = sum(f.sent for f in flooders) / MIB
    result.figures["held_after_s"] = held_after
    result.figures["baseline_rtt"] = percentiles(samples, 0, flood_start)
    result.figures["flood_rtt"] = percentiles(samples, flood_start, flood_end)
    if held_after is None:
        result.problems.append(f"{description}: still accepted bytes after {HELD_DEADLINE_S} s; "
                               "expected them held back by TCP once the relay's queues fill")


def check_latency(result):
    slowest = max(result.figures[key][3] for key in ("flood_rtt", "drain_rtt") if key in result.figures)
    if slowest > MAX_FLOOD_RTT_S * 1000:
        result.problems.append(f"another session's round trip took {slowest:.0f} ms during the flood; "
                               f"expected under {MAX_FLOOD_RTT_S * 1000:.0f} ms")


def check_bound(relay, result, baseline, limit):
    peak = max(relay.peak_rss, relay.status("VmHWM"))
    result.figures.update(baseline_mib=baseline / MIB, peak_mib=peak / MIB, bound_mib=limit / MIB)
    if peak > limit:
        result.problems.append(f"peak RSS {peak / MIB:.0f} MiB is over the bound of {limit / MIB:.0f} MiB")


# ---------------------------------------------------------------------------------------------
# The cases.

def flood_never_read(relay, result, reader_query, flooder_queries, openers=()):
    """Sockets of `flooder_queries` flood the socket of `reader_query`, which never reads."""
    opened = [Ws(relay.port, q) for q in openers]
    reader = Ws(relay.port, reader_query)
    flooders = [Flooder(Ws(relay.port, q), MESSAGE_CAP) for q in flooder_queries]
    baseline = relay.status("VmRSS")
    timed_flood(relay, result, flooders, result.description)
    check_bound(relay, result, baseline, bound(baseline, len(flooders), 1))
    check_latency(result)
    for ws in opened + [reader] + [f.ws for f in flooders]:
        ws.close()
    result.figures["after_mib"] = relay.steady_rss(0.5) / MIB


def case_v2_client(relay, result):
    flood_never_read(relay, result, "v=2&serverId=s&role=client&connectionId=c",
                     ["v=2&serverId=s&role=server&connectionId=c"], ["v=2&serverId=s&role=server"])


def case_v2_data(relay, result, clients=4):
    flood_never_read(relay, result, "v=2&serverId=s&role=server&connectionId=c",
                     ["v=2&serverId=s&role=client&connectionId=c"] * clients, ["v=2&serverId=s&role=server"])


def case_v1_client(relay, result):
    flood_never_read(relay, result, "serverId=s&role=client", ["serverId=s&role=server"])


def case_v1_server(relay, result):
    flood_never_read(relay, result, "serverId=s&role=server", ["serverId=s&role=client"])


def case_buffered(relay, result, frames, frame_bytes):
    """`frames` frames for a connection id with no data socket; then one opens and reads the kept ones."""
    client = Ws(relay.port, "v=2&serverId=s&role=client&connectionId=c")
    baseline = relay.status("VmRSS")
    probe = Probe(relay.port)
    time.sleep(BASELINE_S)  # pacing: the baseline round trips
    payload = bytearray(frame_bytes)
    header = frame_header(frame_bytes, BINARY)
    start = time.monotonic()
    for index in range(frames):
        payload[:8] = struct.pack("!Q", index)
        client.sock.sendall(header)
        client.sock.sendall(payload)
    kept_rss = relay.steady_rss(1.0)
    buffered = time.monotonic()
    data = Ws(relay.port, "v=2&serverId=s&role=server&connectionId=c")
    into = memoryview(bytearray(frame_bytes))
    expected = list(range(max(0, frames - KEPT_FRAMES), frames))
    got = []
    for _ in expected:
        opcode, payload_in = data.read_frame(into)
        if opcode != BINARY or len(payload_in) != frame_bytes:
            result.problems.append(f"kept frame {len(got)}: opcode {opcode}, {len(payload_in)} bytes; "
                                   f"expected a binary frame of {frame_bytes}")
            break
        got.append(struct.unpack("!Q", payload_in[:8])[0])
    drained = time.monotonic()
    samples = probe.samples()
    if got != expected:
        result.problems.append(f"kept frames arrived as {summary(got)}; expected {summary(expected)} (V2-BUF-1, -2)")
    kept = min(frames, KEPT_FRAMES) * frame_bytes
    result.figures.update(accepted_mib=frames * frame_bytes / MIB, kept_rss_mib=kept_rss / MIB,
                          buffer_rate_mib_s=frames * frame_bytes / MIB / (buffered - start),
                          drain_rate_mib_s=len(got) * frame_bytes / MIB / (drained - buffered),
                          baseline_rtt=percentiles(samples, 0, start),
                          flood_rtt=percentiles(samples, start, buffered),
                          drain_rtt=percentiles(samples, buffered, drained))
    # Kept frames, and one more message being read while the oldest is dropped.
    check_bound(relay, result, baseline, bound(baseline, 1, 1, kept))
    check_latency(result)
    data.close()
    client.close()
    result.figures["after_mib"] = relay.steady_rss(0.5) / MIB


def summary(indexes):
    return f"{len(indexes)} frames" + (f", {indexes[0]}..{indexes[-1]}" if indexes else "")


CASES = {
    "v2-client": ("v2 client never reads; its data socket floods it", case_v2_client),
    "v2-data": ("v2 data socket never reads; 4 clients of its id flood it", case_v2_data),
    "v1-client": ("v1 client never reads; its server floods it", case_v1_client),
    "v1-server": ("v1 server never reads; its client floods it", case_v1_server),
    "buffered": ("frames kept for a v2 id with no data socket, then read", None),
}


def run_case(binary, name, args):
    description, run = CASES[name]
    result = Result(name, description)
    relay = Relay(binary)
    try:
        if run:
            run(relay, result)
        else:
            case_buffered(relay, result, args.buffered_frames, args.frame_mib * MIB)
    except (OSError, RuntimeError, TimeoutError) as e:
        result.problems.append(f"{description}: {e}")
    finally:
        relay.stop()
    return result


def print_table(results):
    print(f"{'case':<10} {'accepted':>9} {'held':>6} {'base':>5} {'peak':>6} {'bound':>6} {'after':>5}  "
          f"{'rtt p50/p99/max ms, no flood':>29}  {'rtt p50/p99/max ms, flood':>26}")
    for r in results:
        f = r.figures
        held = f.get("held_after_s")
        rtt = lambda key: "{1:.2f}/{2:.2f}/{3:.1f} (n={0})".format(*f[key]) if key in f else "-"
        print(f"{r.name:<10} {f.get('accepted_mib', 0):>7.0f}Mi {'-' if held is None else f'{held:.1f}s':>6} "
              f"{f.get('baseline_mib', 0):>5.0f} {f.get('peak_mib', 0):>6.0f} {f.get('bound_mib', 0):>6.0f} "
              f"{f.get('after_mib', 0):>5.0f}  "
              f"{rtt('baseline_rtt'):>29}  {rtt('flood_rtt'):>26}")
        if "buffer_rate_mib_s" in f:
            print(f"{'':<10} kept: RSS {f['kept_rss_mib']:.0f} MiB; buffered at {f['buffer_rate_mib_s']:.0f} MiB/s, "
                  f"drained at {f['drain_rate_mib_s']:.0f} MiB/s; rtt while draining {rtt('drain_rtt')}")
    print("(MiB: accepted = bytes the relay's TCP took from the flooders; base, peak, after = relay RSS before, "
          "at its highest, and once the case's sockets closed; held = seconds until the flooders were held back)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("relay")
    parser.add_argument("--case", action="append", choices=list(CASES), help="run only these (default: all)")
    parser.add_argument("--buffered-frames", type=int, default=KEPT_FRAMES)
    parser.add_argument("--frame-mib", type=int, default=MESSAGE_CAP // MIB)
    args = parser.parse_args()
    started = time.monotonic()
    results = [run_case(args.relay, name, args) for name in args.case or CASES]
    print_table(results)
    problems = [f"{r.name}: {p}" for r in results for p in r.problems]
    for p in problems:
        print(f"slow_readers: {p}", file=sys.stderr)
    print(f"{len(results) - len({p.split(':')[0] for p in problems})} of {len(results)} cases within bounds, "
          f"{time.monotonic() - started:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
