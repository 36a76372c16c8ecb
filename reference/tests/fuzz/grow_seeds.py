#!/usr/bin/python3
"""Writes the seed corpora of every fuzz target (docs/reliability.md, "Fuzzing") from the scenario library
and the hostile HTTP tests' requests: the seed-NN files of reference/tests/fuzz/corpus/<target>/ and
conformance/tests/fuzz/corpus/<target>/. Run it when the library changes."""
import json
import pathlib
import struct
import urllib.parse
import zlib

ROOT = pathlib.Path(__file__).resolve().parents[3]
RELAY = ROOT / "reference/tests/fuzz/corpus"
RUNNER = ROOT / "conformance/tests/fuzz/corpus"
MOST = 40  # seeds per target: enough variety, small enough to run through in a second

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
UPGRADE = f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n"
# From reference/tests/integration/hostile_http_integration_test.cpp: what the relay must answer or refuse.
HOSTILE_REQUESTS = [
    "\x01\x02garbage\r\n\r\n",
    "FOO /health HTTP/1.1\r\nHost: a\r\n\r\n",
    "M-SEARCH /health HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /health FOO/1.1\r\nHost: a\r\n\r\n",
    "GET /health HTTP/1.0\r\n\r\n",
    "GET /health HTTP/1.1\r\nHost: \r\n\r\n",
    "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "GET /health HTTP/1.1\r\nHost: a\r\nBogus\r\n\r\n",
    "GET /health HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n",
    "GET /health HTTP/1.1\r\nHost: a\r\nX-Big: " + "a" * 300 + "\r\n\r\n",
    "GET http://a/health HTTP/1.1\r\nHost: a\r\n\r\n",
    "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "HEAD /health HTTP/1.1\r\n\r\n",
    "POST /health HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    "POST /health HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
    "POST /health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "POST /health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "POST /health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
    "GET /ws HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    "GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n",
    f"GET /ws?serverId=a&role=server HTTP/1.1\r\nHost: a\r\n{UPGRADE}Content-Length: 5\r\n\r\nhello",
    "GET /ws?serverId=a&role=server HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n\r\n",
]


def scenarios():
    for path in sorted((ROOT / "scenarios").rglob("*.json")):
        if path.name.endswith((".schema.json", "-vectors.json")):
            continue
        doc = json.loads(path.read_text())
        for scenario in doc["scenarios"]:
            yield doc.get("section", ""), scenario


def socket_target(spec):
    if "query" in spec:
        query = spec["query"]
    else:
        params = {"serverId": spec.get("serverId", "${serverId}")}
        for key in ("v", "role", "connectionId"):
            if key in spec:
                params[key] = spec[key]
        query = urllib.parse.urlencode(params, safe="${}")
    return (spec.get("path", "/ws") + "?" + query).replace("${serverId}", "srv")


def library_requests():
    """Every request the library makes: its upgrades and its plain HTTP steps."""
    for _, scenario in scenarios():
        for spec in scenario["sockets"].values():
            headers = "".join(f"{k}: {v}\r\n" for k, v in spec.get("headers", {}).items())
            yield socket_target(spec), f"GET {socket_target(spec)} HTTP/1.1\r\nHost: 127.0.0.1\r\n{UPGRADE}{headers}\r\n"
        for step in scenario["steps"]:
            if "http" in step:
                http = step["http"]
                target = http.get("path", "/") + ("?" + http["query"] if "query" in http else "")
                headers = "".join(f"{k}: {v}\r\n" for k, v in http.get("headers", {}).items())
                yield target, f"{http.get('method', 'GET')} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n"


def spread(items, most=MOST):
    """At most `most` of `items`, distinct and taken evenly across the list."""
    unique = list(dict.fromkeys(items))
    if len(unique) <= most:
        return unique
    return [unique[i * len(unique) // most] for i in range(most)]


def write(folder, seeds):
    """Replaces the folder's seed-NN files; inputs a target once failed on (found-*) stay."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("seed-*"):
        old.unlink()
    for i, seed in enumerate(seeds):
        (folder / f"seed-{i:02d}").write_bytes(seed if isinstance(seed, bytes) else seed.encode("utf-8", "surrogateescape"))


def frame(opcode, payload=b"", fin=True, rsv1=False, mask=True, length=None):
    """A frame as on the wire (RFC 6455 5.2); masked with the zero key, so the payload reads as it is."""
    length = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([bit | length])
    elif length < 65536:
        head += bytes([bit | 126]) + struct.pack(">H", length)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", length)
    return head + (b"\0\0\0\0" if mask else b"") + payload


def deflated(payload):
    raw = zlib.compressobj(wbits=-15)
    out = raw.compress(payload) + raw.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]  # RFC 7692 7.2.1: without the final empty block's 00 00 ff ff


def library_sends():
    """Every message the library sends, as (binary, bytes)."""
    for _, scenario in scenarios():
        for step in scenario["steps"]:
            if "text" in step and "send" in step:
                yield False, step["text"].replace("${serverId}", "srv").encode()
            elif "json" in step and "send" in step:
                yield False, json.dumps(step["json"], separators=(",", ":")).encode()
            elif "binary_hex" in step:
                yield True, bytes.fromhex(step["binary_hex"])
            elif "fill" in step:
                yield step["fill"]["type"] == "binary", bytes([step["fill"].get("byte", 120)]) * min(step["fill"]["size"], 300)


def close_payload(code, reason=b""):
    return struct.pack(">H", code) + reason


def client_frames():
    """What a client sends the relay: the library's messages, plain, fragmented and compressed, and the
    hostile frames of issue 12 (unmasked, reserved bits, bad opcodes, long control frames, bad UTF-8, bad
    close codes, pings inside a fragmented message, a message that never finishes, one over the cap)."""
    seeds = []
    for i, (binary, payload) in enumerate(spread(list(library_sends()), 12)):
        opcode = 2 if binary else 1
        seeds.append(bytes([4 * i]) + frame(opcode, payload) + frame(8, close_payload(1000)))
        seeds.append(bytes([4 * i + 1]) + frame(opcode, deflated(payload), rsv1=True) + frame(8, close_payload(1000)))
        half = len(payload) // 2
        seeds.append(bytes([4 * i + 2]) + frame(opcode, payload[:half], fin=False) + frame(9, b"p") + frame(0, payload[half:]))
    seeds += [
        b"\x00" + frame(1, b"unmasked", mask=False),
        b"\x00" + bytes([0x81 | 0x20]) + b"\x80\0\0\0\0",
        b"\x00" + frame(3, b"x") + frame(11, b""),
        b"\x00" + frame(9, b"p" * 126),
        b"\x00" + frame(1, b"\xff\xfe\xc3\x28"),
        b"\x00" + frame(8, close_payload(1005)) + frame(8, close_payload(999)),
        b"\x00" + frame(8, b"\x03"),
        b"\x00" + frame(1, b"never", fin=False) + frame(0, b" finishes", fin=False),
        b"\x04" + frame(2, length=1 << 20),
        b"\x01" + frame(1, deflated(b"a" * 4000), rsv1=True),
    ]
    return seeds


def server_frame(opcode, payload=b"", **kw):
    return frame(opcode, payload, mask=False, **kw)


def relay_answers():
    """What a relay answers the runner's handshake: the 101 with and without compression, then frames;
    refusals as the reference relay gives them (hostile HTTP tests); and broken frames."""
    switching = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
    plain = (switching + "\r\n").encode()
    compressed = (switching + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n\r\n").encode()
    seeds = []
    for binary, payload in spread(list(library_sends()), 12):
        opcode = 2 if binary else 1
        seeds.append(plain + server_frame(opcode, payload) + server_frame(8, close_payload(1000)))
        seeds.append(compressed + server_frame(opcode, deflated(payload), rsv1=True) + server_frame(8, close_payload(1001, b"bye")))
    seeds += [
        plain + server_frame(1, b"a", fin=False) + server_frame(9, b"p") + server_frame(0, b"b"),
        plain + frame(1, b"masked"),
        plain + server_frame(1, b"\xc3\x28"),
        plain + bytes([0xC1]) + b"\x01x",
        plain + server_frame(8, close_payload(1012, b"Server disconnected")),
        plain + server_frame(2, length=1 << 30) + b"partial",
        plain + server_frame(8, b"\x03\xe8\xff"),
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 26\r\n\r\nMissing serverId parameter",
        b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 16\r\n\r\nUpgrade Required",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n",
    ]
    return seeds


def http_answers():
    """What a server answers an HTTP request: the relay's answers from the hostile HTTP tests, and framings."""
    answers = [
        'HTTP/1.1 200 OK\r\nContent-Length: 15\r\nContent-Type: application/json\r\n\r\n{"status":"ok"}',
        "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nContent-Type: text/plain;charset=UTF-8\r\n\r\nNot found",
        "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 24\r\n"
        "Content-Type: text/plain\r\n\r\nERROR: header too large.",
        "HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 35\r\nContent-Type: text/plain\r\n\r\n"
        "ERROR: Unrecognized request method.",
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nBad Request",
        "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 21\r\n\r\nInternal Server Error",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nhello",
        "HTTP/1.1 200 OK\r\n\r\nuntil the end",
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut short",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi",
        "HTTP/1.0 204 No Content\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "HTTP/1.1 999 \r\nX: " + "y" * 200 + "\r\n\r\n",
        "garbage\r\n\r\n",
    ]
    return [bytes([i % 2]) + a.encode() for i, a in enumerate(answers)]


def command_script(scenario):
    """A scenario as relay_core_fuzz commands: its opens, sends, closes and drops, close frames answered."""
    names = []
    lines = []
    for step in scenario["steps"]:
        if "open" in step:
            names.append(step["open"])
            lines.append("open " + socket_target(scenario["sockets"][step["open"]]))
        elif "send" in step and step["send"] in names:
            index = names.index(step["send"])
            if "json" in step:
                lines.append(f"text {index} " + json.dumps(step["json"], separators=(",", ":")))
            elif "text" in step:
                lines.append(f"text {index} " + step["text"].replace("\n", " "))
            else:
                lines.append(f"binary {index} payload")
        elif ("close" in step or "drop" in step) and "expect" not in step:
            lines.append(("close " if "close" in step else "drop ") + str(names.index(step.get("close", step.get("drop")))))
        elif "expect" in step and "close" in step:
            lines.append("answer")
    return "\n".join(lines + ["timer", "timer"]) + "\n"


def single_scenario_files():
    return [json.dumps({"section": section, "scenarios": [scenario]}, indent=1) for section, scenario in scenarios()]


def patterns():
    """Matcher vectors: the shared ones, then the library's own patterns against values a relay might send."""
    vectors = json.loads((ROOT / "scenarios/matcher-vectors.json").read_text())["vectors"]
    seeds = [json.dumps({k: v[k] for k in ("pattern", "value", "subset", "vars") if k in v}) for v in vectors]
    found = []
    for _, scenario in scenarios():
        for step in scenario["steps"]:
            if "expect" not in step and "http" not in step:
                continue
            frame_matcher = step.get("frame", {})
            for pattern in (frame_matcher.get("json"), frame_matcher.get("text"), step.get("close", {}).get("reason"),
                            step.get("response", {}).get("body")):
                if pattern is not None:
                    found.append(json.dumps({"pattern": pattern, "value": "conn_0123456789abcdef", "vars": {"serverId": "srv"}}))
    return spread(seeds, 24) + spread(found, 16)


def main():
    requests = list(library_requests())
    library = spread(requests, MOST - len(HOSTILE_REQUESTS))
    # Byte 0: the pieces the bytes arrive in; byte 1: the head limit (request_parser_fuzz.cpp).
    write(RELAY / "request_parser_fuzz", [b"\xff\xff" + r.encode("latin-1") for _, r in library]
          + [bytes([i % 7, 255]) + r.encode("latin-1") for i, r in enumerate(HOSTILE_REQUESTS)])
    write(RELAY / "http_router_fuzz", [f"{t}\nwebsocket\n13\n{KEY}" for t, _ in spread(requests, MOST - 2)]
          + ["/health", "/ws?serverId=%zz&v=2%20"])
    write(RELAY / "relay_core_fuzz", spread([command_script(s) for _, s in scenarios()]))
    write(RELAY / "websocket_frames_fuzz", client_frames())
    write(RUNNER / "scenario_loader_fuzz", spread(single_scenario_files()))
    write(RUNNER / "pattern_fuzz", patterns())
    write(RUNNER / "http_client_fuzz", http_answers())
    write(RUNNER / "ws_client_fuzz", relay_answers())


if __name__ == "__main__":
    main()
