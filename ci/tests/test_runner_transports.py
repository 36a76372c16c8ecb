"""The C++ runner's transports on the wire, read byte by byte by a raw loopback server (the one
pyharness's own transport tests use): fragmented really splits every message into continuation
frames, and deflate offers exactly what Node's ws client offers and sends RSV1-compressed frames."""

import asyncio
import pathlib
import sys
import zlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "pyharness" / "tests"))
from wire import raw_websocket_server, read_frame, server_frame  # noqa: E402

RUNNER = ROOT / "build" / "relay-conformance"
SCENARIOS = pathlib.Path(__file__).parent / "data" / "transports"
OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2


def run_against_recorder(transport: str, extensions=None):
    frames, handshakes = [], []

    async def script(handshake, reader, writer):
        handshakes.append(handshake)
        while sum(frame.fin for frame in frames) < 3:
            frames.append(await read_frame(reader))
        writer.write(server_frame(OP_TEXT, b"done"))
        await writer.drain()
        await reader.read()

    async def main():
        async with raw_websocket_server(script, extensions) as url:
            runner = await asyncio.create_subprocess_exec(
                str(RUNNER), "run", "--url", url, "--scenarios", str(SCENARIOS), "--transport", transport, "--latency", "1",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            output, _ = await asyncio.wait_for(runner.communicate(), 30)
            return runner.returncode, output.decode()

    code, output = asyncio.run(main())
    assert code == 0, output
    return frames, handshakes[0]


def test_fragmented_sends_every_message_in_several_frames():
    frames, handshake = run_against_recorder("fragmented")
    assert handshake.header("sec-websocket-extensions") is None
    assert [(f.opcode, f.fin, f.payload) for f in frames] == [
        (OP_TEXT, False, b"hell"), (OP_CONT, False, b"o wo"), (OP_CONT, True, b"rld"),
        (OP_BINARY, False, b"\x00"), (OP_CONT, True, b"\x01"),
        (OP_TEXT, False, b""), (OP_CONT, True, b"")]


def test_deflate_offers_what_node_ws_offers_and_compresses_every_message():
    frames, handshake = run_against_recorder("deflate", extensions="permessage-deflate; client_max_window_bits=15")
    assert handshake.header("sec-websocket-extensions") == "permessage-deflate; client_max_window_bits"
    assert all(f.rsv1 and f.fin for f in frames)
    inflater = zlib.decompressobj(-15)  # one context for the connection: context takeover is allowed
    assert [(f.opcode, inflater.decompress(f.payload + b"\x00\x00\xff\xff")) for f in frames] == [
        (OP_TEXT, b"hello world"), (OP_BINARY, b"\x00\x01"), (OP_TEXT, b"")]


@pytest.mark.parametrize("transport", ["plain", "deflate", "fragmented"])
def test_the_library_passes_on_every_transport_against_the_reference_relay(transport, tmp_path):
    import subprocess
    done = subprocess.run([str(RUNNER), "run", "--transport", transport, "--exclude", "tag:slow"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
