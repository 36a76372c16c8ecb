"""The interpreter against scripted servers that get the protocol wrong, over real loopback sockets:
each deviation must give the right verdict, step (from 1), requirement and a readable actual."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
import websockets

from hostile_server import HostileServer
from relay_harness import interpreter, model
from relay_harness.client import MAX_MESSAGE_BYTES, MAX_QUEUED_BYTES, parse_relay_url
from relay_harness.interpreter import RunSettings, run_scenario
from relay_harness.plugin import REPO_ROOT
from wire import raw_websocket_server, server_frame

CONTROL = {"control": {"v": "2", "role": "server"}}
TEST_TIMEOUT_S = 10


@contextlib.asynccontextmanager
async def websocket_server(handler, **options):
    """A websockets server on an ephemeral loopback port; handler(ws, path) scripts the misbehaviour."""
    async with websockets.serve(handler, "127.0.0.1", 0, compression=None, ping_interval=None, **options) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


@contextlib.asynccontextmanager
async def raw_server(*answer):
    """Reads one request head, writes the answer verbatim (bytes, with a pause wherever a number of
    seconds is given), hangs up."""

    async def serve(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        for part in answer:
            if isinstance(part, bytes):
                writer.write(part)
                await writer.drain()
            else:
                await asyncio.sleep(part)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def replay(scenario, server_factory, *args, settings=RunSettings(step_timeout_ms=1000), **options):
    async def main():
        async with server_factory(*args, **options) as url:
            return await run_scenario(scenario, parse_relay_url(url), settings)

    return asyncio.run(asyncio.wait_for(main(), TEST_TIMEOUT_S))


def where(result) -> tuple:
    return result.verdict, result.failure.step, result.failure.requirement


scenario_steps_pong = [
    {"open": "control"},
    {"expect": "control", "frame": {"json": {"type": "sync"}, "subset": True}, "requirement": "V2-CTRL-1"},
    {"send": "control", "json": {"type": "ping"}},
    {"expect": "control", "frame": {"json": {"type": "pong", "ts": {"$integer": True}}}, "requirement": "V2-CTRL-5"},
]


def test_pong_without_ts_fails_at_the_pong(make_scenario):
    async def handler(ws, path):
        await ws.send('{"type":"sync","connectionIds":[]}')
        async for _ in ws:
            await ws.send('{"type":"pong"}')

    scenario = make_scenario(scenario_steps_pong, CONTROL, requirements=["V2-CTRL-1", "V2-CTRL-5"])
    result = replay(scenario, websocket_server, handler)
    assert where(result) == ("fail", 4, "V2-CTRL-5")
    assert (result.failure.actual, result.failure.message) == ('text frame `{"type":"pong"}`', "at /ts: missing, expected any integer")


def test_failing_precondition_blocks_the_scenario(make_scenario):
    async def handler(ws, path):
        await ws.send('{"type":"welcome"}')
        await ws.wait_closed()

    scenario = make_scenario(scenario_steps_pong, CONTROL, requirements=["V2-CTRL-5"])
    result = replay(scenario, websocket_server, handler)
    assert (result.verdict, result.blocked_by, result.failure.step) == ("blocked", "V2-CTRL-1", 2)


def test_frames_delivered_as_binary_fail_on_type(make_scenario):
    async def handler(ws, path):
        await ws.send(b'{"type":"sync","connectionIds":[]}')
        await ws.wait_closed()

    scenario = make_scenario([{"open": "control"}, {"expect": "control", "frame": {"text": '{"type":"sync","connectionIds":[]}'}}], CONTROL)
    result = replay(scenario, websocket_server, handler)
    assert result.verdict == "fail"
    assert result.failure.actual.startswith("binary frame (34 bytes) 7b22")
    assert result.failure.message == "a binary frame, not text"


def test_wrong_close_code(make_scenario):
    async def handler(ws, path):
        await ws.close(1000, "bye")

    scenario = make_scenario([{"open": "control"}, {"expect": "control", "close": {"code": 1008, "reason": "Replaced by new connection"}}], CONTROL)
    result = replay(scenario, websocket_server, handler)
    assert result.failure.expected == ['close frame 1008 reason "Replaced by new connection"']
    assert (result.failure.actual, result.failure.message) == ('close frame 1000 "bye"', "code 1000, not 1008")


def test_drop_is_ended_but_not_a_close(make_scenario):
    async def handler(ws, path):
        ws.transport.abort()

    ended = make_scenario([{"open": "control"}, {"expect": "control", "ended": True}], CONTROL)
    assert replay(ended, websocket_server, handler).verdict == "pass"
    close = make_scenario([{"open": "control"}, {"expect": "control", "close": {}}], CONTROL)
    result = replay(close, websocket_server, handler)
    assert (result.verdict, result.failure.actual) == ("fail", "connection dropped without a close frame (1006)")


def test_silence_and_unwanted_frames(make_scenario):
    async def handler(ws, path):
        await ws.wait_closed()

    silent = make_scenario([{"open": "control"}, {"expect": "control", "frame": {"any": True}, "within_ms": 200}], CONTROL)
    result = replay(silent, websocket_server, handler)
    assert (result.verdict, result.failure.actual) == ("fail", "nothing within 300 ms (200 ms + 100 ms latency allowance)")

    async def chatty(ws, path):
        await ws.send("unexpected")
        await ws.wait_closed()

    quiet = make_scenario([{"open": "control"}, {"expect": "control", "nothing": True, "within_ms": 500}], CONTROL)
    result = replay(quiet, websocket_server, chatty)
    assert (result.verdict, result.failure.actual) == ("fail", "text frame `unexpected`")
    assert result.failure.expected == ["nothing for 600 ms (500 ms + 100 ms latency allowance)"]


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
    assert (result.verdict, result.failure.step, result.failure.actual) == ("fail", 3, 'close frame 1011 "x"')


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
    assert result.verdict == "fail" and result.failure.message.startswith("too early: ")
    assert result.failure.expected == ["text frame `at once`, between 300 ms after t0 started and 1000 ms "
                                       "(+ 100 ms latency allowance) after it finished"]


def test_refusal_expected_but_accepted(make_scenario):
    async def handler(ws, path):
        await ws.wait_closed()

    scenario = make_scenario([{"open": "odd", "refused": {"status": 400, "body": "Missing serverId parameter"}}],
                             {"odd": {"query": "role=server"}}, requirements=["HTTP-3"])
    result = replay(scenario, websocket_server, handler)
    assert (result.verdict, result.failure.requirement) == ("fail", "HTTP-3")
    assert result.failure.actual == "101 Switching Protocols: the handshake was accepted"


def test_open_refused_shows_status_and_body(make_scenario):
    answer = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nNo thanks")
    scenario = make_scenario([{"open": "control"}], CONTROL)
    result = replay(scenario, raw_server, answer)
    assert result.verdict == "fail"
    assert result.failure.actual == "HTTP 400 Bad Request [content-type: text/plain; content-length: 9] body \"No thanks\""


def test_chunked_http_body_and_header_checks(make_scenario):
    answer = (b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n"
              b"4\r\nNot \r\n5\r\nfound\r\n0\r\n\r\n")
    expectation = {"status": 404, "body": "Not found", "headers": {"content-type": "text/plain;charset=UTF-8"}}
    scenario = make_scenario([{"http": {"path": "/nope"}, "response": expectation}], requirements=["HTTP-2"])
    result = replay(scenario, raw_server, answer)
    assert result.verdict == "fail"
    assert result.failure.message == 'header content-type at /: expected "text/plain;charset=UTF-8", got "text/html"'


def test_unreadable_handshake_answer(make_scenario):
    result = replay(make_scenario([{"open": "control"}], CONTROL), raw_server, b"SSH-2.0-OpenSSH\r\n\r\n")
    assert (result.verdict, result.failure.actual) == ("fail", "unreadable response: not an HTTP/1.x status line: 'SSH-2.0-OpenSSH'")


def test_wrong_accept_key_is_rejected(make_scenario):
    answer = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n")
    result = replay(make_scenario([{"open": "control"}], CONTROL), raw_server, answer)
    assert result.verdict == "fail" and "which a client must reject: invalid Sec-WebSocket-Accept header" in result.failure.actual


def test_scenario_timeout_during_an_expect_is_a_failure(make_scenario):
    async def handler(ws, path):
        await ws.wait_closed()

    scenario = make_scenario([{"open": "control"}, {"expect": "control", "frame": {"any": True}, "within_ms": 5000}],
                             CONTROL, timeout_ms=300)
    result = replay(scenario, websocket_server, handler)
    assert (result.verdict, result.failure.step) == ("fail", 2)
    assert "the scenario's timeout (300 ms) ran out" in result.failure.message


def test_nobody_listening_is_notrun(make_scenario):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    scenario = make_scenario([{"open": "control"}], CONTROL)
    result = asyncio.run(asyncio.wait_for(run_scenario(scenario, parse_relay_url(f"ws://127.0.0.1:{port}")), TEST_TIMEOUT_S))
    assert (result.verdict, result.failure.step) == ("notrun", 1)
    assert result.failure.message.startswith("relay stopped answering: cannot connect to 127.0.0.1:")


def test_chunked_body_cut_off_is_a_failure(make_scenario):
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n9\r\nok"
    scenario = make_scenario([{"http": {"path": "/health"}, "response": {"status": 200}}], requirements=["HTTP-1"])
    result = replay(scenario, raw_server, answer)
    assert where(result) == ("fail", 1, "HTTP-1")
    assert result.failure.actual == ("unreadable response: chunked body cut short: the connection closed "
                                     "before the last chunk (3 body bytes in complete chunks)")


def test_chunk_over_the_body_cap_is_refused_on_its_size_line(make_scenario):
    # Announces 4 GiB and then waits: refused at once, not after buffering what comes.
    answer = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n", 5.0)
    scenario = make_scenario([{"http": {"path": "/health"}, "response": {"status": 200}}], requirements=["HTTP-1"])
    result = replay(scenario, raw_server, *answer)
    assert where(result) == ("fail", 1, "HTTP-1")
    assert result.failure.actual == "unreadable response: chunked body larger than 1048576 bytes"


def test_body_without_length_is_read_until_the_server_closes(make_scenario):
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
    scenario = make_scenario([{"http": {"path": "/health"}, "response": {"status": 200, "body": "first, then more"}}],
                             requirements=["HTTP-1"])
    assert replay(scenario, raw_server, head + b"first, ", 0.2, b"then more").verdict == "pass"


@pytest.mark.parametrize("frame, why", [
    (server_frame(0x3, b"x"), "invalid opcode"),
    (server_frame(0x1, b"x", rsv1=True), "reserved bits must be 0"),
    (server_frame(0x1, b"caf\xc3"), "a text message that is not valid UTF-8 (unexpected end of data at byte 3)"),
    (server_frame(0x1, b"ab", fin=False) + server_frame(0x0, b"\xff"),
     "a text message that is not valid UTF-8 (invalid start byte at byte 2)"),
    (server_frame(0x8, b"\x03\xe8\xff"), "a close frame whose reason is not valid UTF-8 (invalid start byte at byte 0)"),
], ids=["bad opcode", "rsv1 without extension", "invalid utf-8", "invalid utf-8 across fragments", "invalid close reason"])
def test_invalid_frame_is_reported_as_such(make_scenario, frame, why):
    async def script(handshake, reader, writer):
        writer.write(frame + server_frame(0x1, b"after"))
        await reader.read()

    scenario = make_scenario([{"open": "control"}, {"expect": "control", "frame": {"any": True}}], CONTROL)
    result = replay(scenario, raw_websocket_server, script)
    assert where(result) == ("fail", 2, "V2-CTRL-1")
    assert result.failure.actual == f"the relay sent an invalid frame: {why}"
    assert result.wire_log[-1].endswith(f"control < the relay sent an invalid frame: {why}")


def test_invalid_frame_matches_no_end(make_scenario):
    async def script(handshake, reader, writer):
        writer.write(server_frame(0x3, b""))
        await reader.read()

    scenario = make_scenario([{"open": "control"}, {"expect": "control", "ended": True}], CONTROL)
    assert replay(scenario, raw_websocket_server, script).failure.actual == "the relay sent an invalid frame: invalid opcode"


def test_unexpected_exception_in_a_step_is_an_error_at_that_step_and_closes_the_sockets(make_scenario, monkeypatch):
    def broken_matcher(matcher, event, variables):
        raise RuntimeError("boom")

    monkeypatch.setitem(interpreter._MATCHERS, model.FrameMatcher, broken_matcher)
    closed = []

    async def handler(ws, path):
        await ws.send("hello")
        await ws.wait_closed()
        closed.append(path)

    scenario = make_scenario([{"open": "control"}, {"open": "other"}, {"expect": "control", "frame": {"any": True}}],
                             {**CONTROL, "other": {"v": "2", "role": "client", "connectionId": "c1"}})

    async def main():
        async with websocket_server(handler) as url:
            result = await run_scenario(scenario, parse_relay_url(url), RunSettings(step_timeout_ms=1000))
            for _ in range(100):  # the server notices the hang-ups shortly after
                if len(closed) == 2:
                    break
                await asyncio.sleep(0.02)
            return result

    result = asyncio.run(asyncio.wait_for(main(), TEST_TIMEOUT_S))
    assert (result.verdict, result.failure.step) == ("error", 3)
    assert result.failure.message.startswith("runner fault: RuntimeError: boom (at test_misbehaving_servers.py:")
    assert any(line.endswith("control < text frame `hello`") for line in result.wire_log)
    assert len(closed) == 2, "both sockets must be closed"


def test_strict_pattern_that_does_not_hold_is_nonstrict(make_scenario):
    answer = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nNot found\n"
    expectation = {"status": 404, "body": {"$any": True, "$strict": "Not found"},
                   "headers": {"content-type": {"$regex": "text/plain(;.*)?", "$strict": "text/plain;charset=UTF-8"}}}
    scenario = make_scenario([{"http": {"path": "/nope"}, "response": expectation}], requirements=["HTTP-2"])
    result = replay(scenario, raw_server, answer)
    assert (result.verdict, result.failure) == ("nonstrict", None)
    assert [(d.step, d.requirement, d.detail) for d in result.nonstrict] == [
        (1, "HTTP-2", 'body at /: expected "Not found", got "Not found\\n"'),
        (1, "HTTP-2", 'header content-type at /: expected "text/plain;charset=UTF-8", got "text/plain"'),
    ]


def test_strict_pattern_in_a_frame(make_scenario):
    async def handler(ws, path):
        await ws.send('{"type":"sync","connectionIds":["conn_0123456789abcdef"]}')
        await ws.wait_closed()

    strict_id = {"$regex": "conn_[0-9a-f]{16}", "$strict": {"$regex": "conn_[0-9a-f]{12}4[0-9a-f]{3}"}}
    scenario = make_scenario([{"open": "control"},
                              {"expect": "control", "frame": {"json": {"type": "sync", "connectionIds": [strict_id]}}}],
                             CONTROL)
    result = replay(scenario, websocket_server, handler)
    assert result.verdict == "nonstrict"
    assert [d.detail for d in result.nonstrict] == [
        'JSON at /connectionIds/0: expected a string matching /conn_[0-9a-f]{12}4[0-9a-f]{3}/, got "conn_0123456789abcdef"']


# --- timing ------------------------------------------------------------------------------------------

TWO_SOCKETS = {**CONTROL, "app": {"v": "2", "role": "client", "connectionId": "c1"}}


def greet_the_control(delay_s: float = 0.0):
    """A server that greets role=server sockets after `delay_s` and stays silent towards the others."""

    async def handler(ws, path):
        if "role=server" in path:
            await asyncio.sleep(delay_s)
            await ws.send("hello")
        await ws.wait_closed()

    return handler


def test_event_time_is_its_arrival_not_when_a_step_reads_it(make_scenario):
    scenario = make_scenario([
        {"open": "control", "mark": "t0"},
        {"open": "app"},
        {"expect": "app", "nothing": True, "within_ms": 300},
        {"expect": "control", "frame": {"text": "hello"}, "window": {"after": "t0", "min_ms": 0, "max_ms": 50}},
    ], TWO_SOCKETS)
    assert replay(scenario, websocket_server, greet_the_control()).verdict == "pass"


def test_queued_event_is_judged_at_both_ends(make_scenario):
    scenario = make_scenario([
        {"open": "control", "mark": "t0"},
        {"open": "app"},
        {"expect": "app", "nothing": True, "within_ms": 300},
        {"expect": "control", "frame": {"text": "hello"}, "window": {"after": "t0", "min_ms": 200, "max_ms": 1000}},
    ], TWO_SOCKETS)
    result = replay(scenario, websocket_server, greet_the_control())
    assert (result.verdict, result.failure.step) == ("fail", 4)
    assert result.failure.message.startswith("too early: ")


def test_window_opens_from_the_start_of_its_mark(make_scenario):
    """The relay greets as soon as it accepts; the 101 takes 300 ms. The greeting is 300 ms after the
    open step started, 0 ms after it finished: in a window opening 250 ms after the mark."""

    async def slow_101(path, headers):
        await asyncio.sleep(0.3)

    scenario = make_scenario([
        {"open": "control", "mark": "t0"},
        {"expect": "control", "frame": {"text": "hello"}, "window": {"after": "t0", "min_ms": 250, "max_ms": 1000}},
    ], CONTROL)
    assert replay(scenario, websocket_server, greet_the_control(), process_request=slow_101).verdict == "pass"


def test_slow_open_widens_the_allowance(make_scenario):
    """After a 300 ms handshake the allowance is 600 ms, so a frame 400 ms later breaks a quiet period
    of 1 ms that the 100 ms floor alone would have ended before it."""

    async def slow_101(path, headers):
        await asyncio.sleep(0.3)

    scenario = make_scenario([{"open": "control"}, {"expect": "control", "nothing": True, "within_ms": 1}], CONTROL)
    result = replay(scenario, websocket_server, greet_the_control(0.4), process_request=slow_101)
    assert (result.verdict, result.failure.actual) == ("fail", "text frame `hello`")
    assert result.failure.expected[0].startswith("nothing for 6")  # 1 ms + 2 x the ~300 ms open


def test_time_scale_shortens_quiet_periods_and_windows(make_scenario):
    """With timers scaled by 0.1, a greeting at 400 ms is inside a scaled window of 3000..6000 ms and
    ends a quiet period of 10 s x 0.1 + 100 ms early."""
    scale = RunSettings(step_timeout_ms=1000, time_scale=0.1)
    window = make_scenario([
        {"open": "control", "mark": "t0"},
        {"expect": "control", "frame": {"text": "hello"}, "window": {"after": "t0", "min_ms": 3000, "max_ms": 6000}},
    ], CONTROL)
    assert replay(window, websocket_server, greet_the_control(0.4), settings=scale).verdict == "pass"
    quiet = make_scenario([{"open": "control"}, {"expect": "control", "nothing": True, "within_ms": 10000}], CONTROL)
    result = replay(quiet, websocket_server, greet_the_control(0.4), settings=scale)
    assert result.failure.expected == ["nothing for 1100 ms (10000 ms x 0.1 + 100 ms latency allowance)"]


# --- the whole plugin against a relay that attacks it ---------------------------------------------
# conformance/tests/data/hostile/ (the C++ runner's tests use it too; scenarios capped at 4 s, one at 6 s),
# run by pytest in a child process as a user runs it: each scenario gets a verdict naming what went
# wrong, the run ends within the cap plus a margin for start-up, calibration and a busy machine,
# both reports are written and parse, and the child's peak RSS stays under the bound.

HOSTILE_SCENARIOS = REPO_ROOT / "conformance" / "tests" / "data" / "hostile" / "hostile.json"
HOSTILE_RUN_BOUND_S = 20
# What the plugin may hold per socket a relay floods: its queue, the message it is reading four times
# over (the Sans-I/O reader buffers it and slices it out in two copies; its text is checked as UTF-8)
# and the one a step judges, twice (decoded to match it). Three sockets of hostile.json flood at once,
# beside the interpreter and pytest themselves.
PER_SOCKET_MIB = (MAX_QUEUED_BYTES + 6 * MAX_MESSAGE_BYTES) >> 20
HOSTILE_RSS_BOUND_MIB = 60 + 3 * PER_SOCKET_MIB


@dataclasses.dataclass
class HostileRun:
    verdicts: dict  # scenario id -> (verdict, requirement, actual and message)
    seconds: float
    peak_rss_mib: float
    output: str


def run_plugin_against(mode: str, tmp_path: Path) -> HostileRun:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(HOSTILE_SCENARIOS, scenarios)
    report, junit, log = tmp_path / "report.json", tmp_path / "junit.xml", tmp_path / "output.txt"
    command = ["/usr/bin/python3", "-m", "pytest", "-p", "relay_harness.plugin", "-p", "no:cacheprovider", "-q",
               "--scenarios", str(scenarios), str(scenarios), "--step-timeout", "2000", "--relay-json", str(report),
               "--junitxml", str(junit)]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "pyharness")}
    with HostileServer(mode) as server, open(log, "wb") as output:
        started = time.monotonic()
        child = subprocess.Popen(command + ["--relay-url", server.url], cwd=tmp_path, env=environment,
                                 stdout=output, stderr=subprocess.STDOUT)
        status, peak_kib = wait_bounded(child.pid, started + 60)
        seconds = time.monotonic() - started
        flooded = server.bytes_flooded
    text = log.read_text(errors="replace")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1, text
    ElementTree.parse(junit)
    document = json.loads(report.read_text())
    verdicts = {s["id"]: (s["verdict"], (s.get("failure") or {}).get("requirement"),
                          " ".join(str((s.get("failure") or {}).get(k, "")) for k in ("actual", "message")))
                for s in document["scenarios"]}
    print(f"pyharness against {mode}: {seconds:.1f} s, peak RSS {peak_kib / 1024:.0f} MiB, {flooded / 1e6:.0f} MB flooded")
    return HostileRun(verdicts, seconds, peak_kib / 1024, text)


def wait_bounded(pid: int, until: float) -> tuple[int, int]:
    """The child's exit status and its VmHWM (KiB) as last read before it exited; killed (and failed)
    if it outlives `until`. Read from /proc: wait4's ru_maxrss would count this process's peak too, as
    a spawned child's maxrss starts from its parent's at exec."""
    peak_kib = 0
    while time.monotonic() < until:
        peak_kib = max(peak_kib, vm_hwm_kib(pid))
        waited, status = os.waitpid(pid, os.WNOHANG)
        if waited:
            return status, peak_kib
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the plugin did not finish within 60 s")


def vm_hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


def assert_hostile_verdicts(run: HostileRun, expected: dict) -> None:
    assert run.seconds < HOSTILE_RUN_BOUND_S, run.output
    assert run.peak_rss_mib < HOSTILE_RSS_BOUND_MIB, run.output
    for scenario_id, (verdict, requirement, contains) in expected.items():
        got = run.verdicts[scenario_id]
        assert got[:2] == (verdict, requirement), (scenario_id, got)
        assert contains in got[2], (scenario_id, got)


def test_plugin_under_endless_small_frames(tmp_path):
    assert_hostile_verdicts(run_plugin_against("flood", tmp_path), {
        "hostile-hello": ("fail", "HOSTILE-1", "text frame"),
        "hostile-hello-skipping": ("fail", "HOSTILE-1", "nothing within"),
        "hostile-unread": ("error", "HOSTILE-1", "MiB the scenario did not take"),
        "hostile-close": ("fail", "HOSTILE-2", "text frame"),
        "hostile-health": ("pass", None, ""),
    })


def test_plugin_under_a_frame_announcing_exabytes(tmp_path):
    refused = ("fail", "HOSTILE-1", "a message longer than 33554432 bytes")
    assert_hostile_verdicts(run_plugin_against("endless_frame", tmp_path), {
        "hostile-hello": refused, "hostile-hello-skipping": refused, "hostile-unread": refused})


def test_plugin_under_frames_of_the_maximum_length(tmp_path):
    assert_hostile_verdicts(run_plugin_against("max_frames", tmp_path), {
        "hostile-hello": ("fail", "HOSTILE-1", "(33554432 bytes)"),
        "hostile-hello-skipping": ("fail", "HOSTILE-1", "nothing within"),
        "hostile-unread": ("error", "HOSTILE-1", "MiB the scenario did not take"),
    })


def test_plugin_under_a_relay_that_never_closes_nor_answers(tmp_path):
    assert_hostile_verdicts(run_plugin_against("mute", tmp_path), {
        "hostile-hello": ("fail", "HOSTILE-1", "nothing within"),
        "hostile-unread": ("fail", "HOSTILE-1", "nothing"),
        "hostile-close": ("fail", "HOSTILE-2", "nothing within"),
    })


def test_plugin_under_a_handshake_answered_a_byte_at_a_time(tmp_path):
    assert_hostile_verdicts(run_plugin_against("dribble", tmp_path), {
        "hostile-hello": ("fail", "HOSTILE-1", "no handshake response"),
        "hostile-close": ("fail", "HOSTILE-2", "no handshake response"),
        "hostile-health": ("fail", "HOSTILE-3", "no complete HTTP response"),
    })


def test_plugin_under_a_reset_mid_frame(tmp_path):
    assert_hostile_verdicts(run_plugin_against("reset", tmp_path), {
        "hostile-hello": ("fail", "HOSTILE-1", "dropped"),
        "hostile-health": ("fail", "HOSTILE-3", "unreadable response"),
    })
