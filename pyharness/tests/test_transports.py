"""Transports on the wire, checked byte by byte by a raw loopback server: fragmented messages really
are split across continuation frames, deflate really offers what Node's ws client offers and sends
RSV1-compressed frames, and compressed frames from the relay are read back."""

from __future__ import annotations

import asyncio
import zlib

import pytest

from relay_harness.client import SLICED_MASKING_BYTES, TRANSPORTS, parse_relay_url, split_message
from relay_harness.interpreter import RunSettings, run_scenario
from wire import raw_websocket_server, read_frame, server_frame

CONTROL = {"control": {"v": "2", "role": "server"}}
SENDS = [{"send": "control", "text": "hello world"}, {"send": "control", "binary_hex": "0001"},
         {"send": "control", "text": ""}]
TEST_TIMEOUT_S = 10
OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2


def replay_against_recorder(scenario, transport: str, extensions=None, answer: bytes = b""):
    """Runs the scenario against a raw server that records every client frame until it has three whole
    messages, then sends `answer` (or a plain "done") and waits for the harness to hang up."""
    frames, handshakes = [], []

    async def script(handshake, reader, writer):
        handshakes.append(handshake)
        while sum(frame.fin for frame in frames) < 3:
            frames.append(await read_frame(reader))
        writer.write(answer or server_frame(OP_TEXT, b"done"))
        await reader.read()

    async def main():
        async with raw_websocket_server(script, extensions) as url:
            return await run_scenario(scenario, parse_relay_url(url),
                                      RunSettings(step_timeout_ms=2000, transport=TRANSPORTS[transport]))

    result = asyncio.run(asyncio.wait_for(main(), TEST_TIMEOUT_S))
    return result, frames, handshakes[0]


@pytest.mark.parametrize("size, pieces", [(0, [0, 0]), (1, [1, 0]), (2, [1, 1]), (3, [1, 1, 1]), (11, [4, 4, 3])])
def test_split_message(size, pieces):
    payload = bytes(range(size))
    split = split_message(payload, 3)
    assert [len(piece) for piece in split] == pieces and b"".join(split) == payload


def test_plain_sends_whole_frames_and_offers_nothing(make_scenario):
    scenario = make_scenario([{"open": "control"}, *SENDS, {"expect": "control", "frame": {"text": "done"}}], CONTROL)
    result, frames, handshake = replay_against_recorder(scenario, "plain")
    assert result.verdict == "pass", result.failure
    assert handshake.header("sec-websocket-extensions") is None
    assert [(f.opcode, f.fin, f.rsv1, f.payload) for f in frames] == [
        (OP_TEXT, True, False, b"hello world"), (OP_BINARY, True, False, b"\x00\x01"), (OP_TEXT, True, False, b"")]


def test_fragmented_splits_every_message(make_scenario):
    scenario = make_scenario([{"open": "control"}, *SENDS, {"expect": "control", "frame": {"text": "done"}}], CONTROL)
    result, frames, _ = replay_against_recorder(scenario, "fragmented")
    assert result.verdict == "pass", result.failure
    assert [(f.opcode, f.fin, f.payload) for f in frames] == [
        (OP_TEXT, False, b"hell"), (OP_CONT, False, b"o wo"), (OP_CONT, True, b"rld"),
        (OP_BINARY, False, b"\x00"), (OP_CONT, True, b"\x01"),
        (OP_TEXT, False, b""), (OP_CONT, True, b""),
    ]
    assert any(line.endswith("text frame `hello world` in 3 frames") for line in result.wire_log)


@pytest.mark.parametrize("transport, frames_per_message", [("plain", 1), ("fragmented", 3)])
def test_large_messages_masked_a_slice_at_a_time_arrive_whole(make_scenario, transport, frames_per_message):
    size = SLICED_MASKING_BYTES + 3  # two slices, the second not a multiple of the mask's 4 bytes
    sends = [{"send": "control", "fill": {"type": "binary", "size": size, "byte": 55}}, *SENDS[:2]]
    scenario = make_scenario([{"open": "control"}, *sends, {"expect": "control", "frame": {"text": "done"}}], CONTROL)
    result, frames, _ = replay_against_recorder(scenario, transport)
    assert result.verdict == "pass", result.failure
    big, rest = frames[:frames_per_message], frames[frames_per_message:]
    assert [(f.opcode, f.fin, f.rsv1) for f in big] == [
        (OP_BINARY if i == 0 else OP_CONT, i == frames_per_message - 1, False) for i in range(frames_per_message)]
    assert b"".join(f.payload for f in big) == b"7" * size
    messages = []
    for f in rest:
        if f.opcode == OP_CONT:
            messages[-1][1] += f.payload
        else:
            messages.append([f.opcode, f.payload])
    assert messages == [[OP_TEXT, b"hello world"], [OP_BINARY, b"\x00\x01"]]


def test_deflate_offers_as_node_ws_does_and_compresses_both_ways(make_scenario):
    compressor = zlib.compressobj(wbits=-15)
    compressed = compressor.compress(b"done, compressed") + compressor.flush(zlib.Z_SYNC_FLUSH)
    answer = server_frame(OP_TEXT, compressed[:-4], rsv1=True)  # without the 00 00 ff ff tail (RFC 7692)
    scenario = make_scenario([{"open": "control"}, *SENDS, {"expect": "control", "frame": {"text": "done, compressed"}}],
                             CONTROL)
    result, frames, handshake = replay_against_recorder(scenario, "deflate", "permessage-deflate", answer)
    assert result.verdict == "pass", result.failure
    assert handshake.header("sec-websocket-extensions") == "permessage-deflate; client_max_window_bits"
    assert [f.rsv1 for f in frames] == [True, True, True]
    decompressor = zlib.decompressobj(wbits=-15)  # context takeover: one decompressor for the whole stream
    assert [decompressor.decompress(f.payload + b"\x00\x00\xff\xff") for f in frames] == [b"hello world", b"\x00\x01", b""]


def test_deflate_declined_sends_plain_frames(make_scenario):
    scenario = make_scenario([{"open": "control"}, *SENDS, {"expect": "control", "frame": {"text": "done"}}], CONTROL)
    result, frames, handshake = replay_against_recorder(scenario, "deflate")
    assert result.verdict == "pass", result.failure
    assert handshake.header("sec-websocket-extensions") == "permessage-deflate; client_max_window_bits"
    assert not any(f.rsv1 for f in frames)
