"""The interpreter against scripted servers that get the protocol wrong, over real loopback sockets:
each deviation must give the right verdict, step, requirement and a readable actual."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import websockets

from relay_harness.client import parse_relay_url
from relay_harness.interpreter import run_scenario

CONTROL = {"control": {"v": "2", "role": "server"}}
TEST_TIMEOUT_S = 10


@contextlib.asynccontextmanager
async def websocket_server(handler, **options):
    """A websockets server on an ephemeral loopback port; handler(ws, path) scripts the misbehaviour."""
    async with websockets.serve(handler, "127.0.0.1", 0, compression=None, ping_interval=None, **options) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


@contextlib.asynccontextmanager
async def raw_server(answer: bytes):
    """Reads one request head, writes `answer` verbatim, hangs up."""

    async def serve(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def replay(scenario, server_factory, *args, **options):
    async def main():
        async with server_factory(*args, **options) as url:
            return await run_scenario(scenario, parse_relay_url(url), step_timeout_ms=1000)

    return asyncio.run(asyncio.wait_for(main(), TEST_TIMEOUT_S))


def test_pong_without_ts_fails_at_the_pong(make_scenario):
    async def handler(ws, path):
        await ws.send('{"type":"sync","connectionIds":[]}')
        async for _ in ws:
            await ws.send('{"type":"pong"}')

    scenario = make_scenario([
        {"open": "control"},
        {"expect": "control", "frame": {"json": {"type": "sync"}, "subset": True}},
        {"send": "control", "json": {"type": "ping"}},
        {"expect": "control", "frame": {"json": {"type": "pong", "ts": {"$integer": True}}}, "requirement": "V2-CTRL-5"},
    ], CONTROL)
    result = replay(scenario, websocket_server, handler)
    assert (result.verdict, result.step_index, result.requirement) == ("fail", 3, "V2-CTRL-5")
    assert result.actual == 'text frame `{"type":"pong"}` (at /ts: missing, expected any integer)'


def test_frames_delivered_as_binary_fail_on_type(make_scenario):
    async def handler(ws, path):
        await ws.send(b'{"type":"sync","connectionIds":[]}')
        await ws.wait_closed()

    scenario = make_scenario([{"open": "control"}, {"expect": "control", "frame": {"text": '{"type":"sync","connectionIds":[]}'}}], CONTROL)
    result = replay(scenario, websocket_server, handler)
    assert result.verdict == "fail"
    assert result.actual.startswith("binary frame (34 bytes) 7b22") and result.actual.endswith("(a binary frame, not text)")


def test_wrong_close_code(make_scenario):
    async def handler(ws, path):
        await ws.close(1000, "bye")

    scenario = make_scenario([{"open": "control"}, {"expect": "control", "close": {"code": 1008, "reason": "Replaced by new connection"}}], CONTROL)
    result = replay(scenario, websocket_server, handler)
    assert result.expected == ['close frame 1008 reason "Replaced by new connection"']
    assert result.actual == 'close frame 1000 "bye" (code 1000, not 1008)'


def test_drop_is_ended_but_not_a_close(make_scenario):
    async def handler(ws, path):
        ws.transport.abort()

    ended = make_scenario([{"open": "control"}, {"expect": "control", "ended": True}], CONTROL)
    assert replay(ended, websocket_server, handler).verdict == "pass"
    close = make_scenario([{"open": "control"}, {"expect": "control", "close": {}}], CONTROL)
    result = replay(close, websocket_server, handler)
    assert (result.verdict, result.actual) == ("fail", "connection dropped without a close frame (1006)")


def test_silence_and_unwanted_frames(make_scenario):
    async def handler(ws, path):
        await ws.wait_closed()

    silent = make_scenario([{"open": "control"}, {"expect": "control", "frame": {"any": True}, "within_ms": 200}], CONTROL)
    result = replay(silent, websocket_server, handler)
    assert (result.verdict, result.actual) == ("fail", "nothing within 200 ms")

    async def chatty(ws, path):
        await ws.send("unexpected")
        await ws.wait_closed()

    quiet = make_scenario([{"open": "control"}, {"expect": "control", "nothing": True, "within_ms": 500}], CONTROL)
    result = replay(quiet, websocket_server, chatty)
    assert (result.verdict, result.expected, result.actual) == ("fail", ["nothing for 500 ms"], "text frame `unexpected`")


def test_skip_other_frames_passes_over_frames_but_not_closes(make_scenario):
    async def handler(ws, path):
        await ws.send("noise")
        await ws.send('{"type":"sync","connectionIds":[]}')
        await ws.close(1011, "x")

    scenario = make_scenario([
        {"open": "control"},
        {"expect": "control", "frame": {"json": {"type": "sync"}, "subset": True}, "skip_other_frames": True},
        {"expect": "control", "frame": {"any": True}, "skip_other_frames": True},
    ], CONTROL)
    result = replay(scenario, websocket_server, handler)
    assert (result.verdict, result.step_index, result.actual) == ("fail", 2, 'close frame 1011 "x"')


def test_fragmented_message_is_one_event(make_scenario):
    async def handler(ws, path):
        await ws.send(iter(["{\"type\":", "\"sync\",", "\"connectionIds\":[]}"]))
        await ws.wait_closed()

    scenario = make_scenario([{"open": "control"}, {"expect": "control", "frame": {"text": '{"type":"sync","connectionIds":[]}'}}], CONTROL)
    assert replay(scenario, websocket_server, handler).verdict == "pass"


def test_window_too_early(make_scenario):
    async def handler(ws, path):
        await ws.send("at once")
        await ws.wait_closed()

    scenario = make_scenario([
        {"open": "control", "mark": "t0"},
        {"expect": "control", "frame": {"text": "at once"}, "window": {"after": "t0", "min_ms": 300, "max_ms": 1000}},
    ], CONTROL)
    result = replay(scenario, websocket_server, handler)
    assert result.verdict == "fail" and "too early" in result.actual
    assert result.expected == ["text frame `at once`, between 300 and 1000 ms after t0"]


def test_refusal_expected_but_accepted(make_scenario):
    async def handler(ws, path):
        await ws.wait_closed()

    scenario = make_scenario([{"open": "odd", "refused": {"status": 400, "body": "Missing serverId parameter"}}],
                             {"odd": {"query": "role=server"}}, requirements=["HTTP-3"])
    result = replay(scenario, websocket_server, handler)
    assert (result.verdict, result.requirement) == ("fail", "HTTP-3")
    assert result.actual == "101 Switching Protocols: the handshake was accepted"


def test_open_refused_shows_status_and_body(make_scenario):
    answer = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nNo thanks")
    scenario = make_scenario([{"open": "control"}], CONTROL)
    result = replay(scenario, raw_server, answer)
    assert result.verdict == "fail"
    assert result.actual == "HTTP 400 Bad Request [content-type: text/plain; content-length: 9] body \"No thanks\""


def test_chunked_http_body_and_header_checks(make_scenario):
    answer = (b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n"
              b"4\r\nNot \r\n5\r\nfound\r\n0\r\n\r\n")
    expectation = {"status": 404, "body": "Not found", "headers": {"content-type": "text/plain;charset=UTF-8"}}
    scenario = make_scenario([{"http": {"path": "/nope"}, "response": expectation}], requirements=["HTTP-2"])
    result = replay(scenario, raw_server, answer)
    assert result.verdict == "fail"
    assert result.actual.endswith('(header content-type at /: expected "text/plain;charset=UTF-8", got "text/html")')


def test_unreadable_handshake_answer(make_scenario):
    result = replay(make_scenario([{"open": "control"}], CONTROL), raw_server, b"SSH-2.0-OpenSSH\r\n\r\n")
    assert (result.verdict, result.actual) == ("fail", "unreadable response: not an HTTP/1.x status line: 'SSH-2.0-OpenSSH'")


def test_wrong_accept_key_is_rejected(make_scenario):
    answer = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n")
    result = replay(make_scenario([{"open": "control"}], CONTROL), raw_server, answer)
    assert result.verdict == "fail" and "which a client must reject: invalid Sec-WebSocket-Accept header" in result.actual


def test_scenario_timeout_during_an_expect_is_a_failure(make_scenario):
    async def handler(ws, path):
        await ws.wait_closed()

    scenario = make_scenario([{"open": "control"}, {"expect": "control", "frame": {"any": True}, "within_ms": 5000}],
                             CONTROL, timeout_ms=300)
    result = replay(scenario, websocket_server, handler)
    assert (result.verdict, result.step_index) == ("fail", 1)
    assert "the scenario's timeout (300 ms) ran out" in result.actual


def test_nobody_listening_is_notrun(make_scenario):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    scenario = make_scenario([{"open": "control"}], CONTROL)
    result = asyncio.run(asyncio.wait_for(run_scenario(scenario, parse_relay_url(f"ws://127.0.0.1:{port}")), TEST_TIMEOUT_S))
    assert (result.verdict, result.step_index) == ("notrun", 0)
    assert result.actual.startswith("relay stopped answering: cannot connect to 127.0.0.1:")
