"""No false failures under latency and load: the whole scenario library, with both runners, through a
latency proxy (conformance/tests/latency_proxy.py) in front of the reference relay, while
conformance/tests/cpu_burner.py keeps both cores busy. The reference relay behaves as the official one,
so every verdict that is not `pass` is a false failure: a timing judgement (a runner's, or a fixed wait in
a scenario) that does not allow for the network or the machine. Each item leaves run.json beside the
runners' reports in its tmp_path (keep them with --basetemp DIR).

The quick tests of the proxy itself (order, delay, EOF, reset, backpressure, loopback only) run in a few
seconds; the stress test is marked `stress` (`-m stress` selects it, `-m "not stress"` skips it).

Run the stress test alone:  /usr/bin/python3 -m pytest ci/tests/test_verdict_stress.py -m stress -p no:cacheprovider
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
SCENARIOS = ROOT / "scenarios"
PYHARNESS = ROOT / "pyharness"
TOOLS = ROOT / "conformance" / "tests"
PROXY = TOOLS / "latency_proxy.py"

sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(PYHARNESS))
from cpu_burner import CpuBurner  # noqa: E402
from relay_harness.relay_process import first_line, stop  # noqa: E402
from latency_proxy import LatencyProxy, abort_with_reset  # noqa: E402

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
RUN_TIMEOUT_S = 180  # one runner over the whole library; it takes about 20 s unloaded


@contextlib.contextmanager
def announced(command: list[str], log: Path | None = None):
    """Starts a child that prints its URL first; yields (process, url); always stops it."""
    stderr = open(log, "wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL)
    try:
        yield process, first_line(process)
    finally:
        stop(process)
        process.stdout.close()
        if log:
            stderr.close()


def proxy_command(target_url: str, delay_ms: float, jitter_ms: float, seed: int = 1) -> list[str]:
    return [sys.executable, str(PROXY), "--target", target_url.removeprefix("ws://"),
            "--delay-ms", str(delay_ms), "--jitter-ms", str(jitter_ms), "--seed", str(seed)]


# --- the proxy on its own ----------------------------------------------------------------------

async def _echo_server():
    """Echoes every byte back and answers a half-close with its own once everything is echoed."""
    async def echo(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.write_eof()
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _cli_proxy(port: int, delay_ms: float, jitter_ms: float):
    process = await asyncio.create_subprocess_exec(*proxy_command(f"127.0.0.1:{port}", delay_ms, jitter_ms),
                                                   stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_S)
    assert line.startswith(b"ws://127.0.0.1:"), line
    return process, int(line.decode().strip().rsplit(":", 1)[1])


async def _stop_cli_proxy(process) -> int:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except asyncio.TimeoutError:
            process.kill()
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
    return process.returncode


def test_proxy_keeps_order_adds_the_delay_and_passes_eof_after_the_data():
    delay_ms, jitter_ms = 50, 20
    floor_s = 2 * (delay_ms - jitter_ms) / 1000  # a round trip crosses the proxy twice

    async def scenario():
        server, port = await _echo_server()
        process, proxy_port = await _cli_proxy(port, delay_ms, jitter_ms)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
            started = time.monotonic()
            sent = b""
            for i in range(200):  # many small writes, each its own chunk with its own jitter
                chunk = f"{i:04d};".encode()
                writer.write(chunk)
                await writer.drain()
                sent += chunk
                await asyncio.sleep(0.001)
            first = await asyncio.wait_for(reader.readexactly(5), 5)
            first_at = time.monotonic() - started
            rest = await asyncio.wait_for(reader.readexactly(len(sent) - 5), 10)
            assert first + rest == sent, "bytes must come through complete and in order"
            assert first_at >= floor_s, f"first echo after {first_at * 1000:.0f} ms, less than the added delay"
            # Everything is echoed, so nothing queued ahead of the EOF: it must be delayed in its own right.
            eof_sent = time.monotonic()
            writer.write_eof()
            assert await asyncio.wait_for(reader.read(), 10) == b"", "EOF must come after the data, and nothing else"
            eof_after = time.monotonic() - eof_sent
            writer.close()
            assert eof_after >= floor_s, f"EOF after {eof_after * 1000:.0f} ms, less than the added delay"
        finally:
            assert await _stop_cli_proxy(process) == 0, "SIGTERM must stop the proxy cleanly"
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())


def test_proxy_passes_a_reset_on_after_the_data_before_it():
    async def reset_after_hello(reader, writer):
        writer.write(b"hello")
        await writer.drain()
        abort_with_reset(writer)

    async def scenario():
        server = await asyncio.start_server(reset_after_hello, "127.0.0.1", 0)
        target = ("127.0.0.1", server.sockets[0].getsockname()[1])
        async with LatencyProxy(target, delay_ms=30, jitter_ms=10) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]))
            assert await asyncio.wait_for(reader.readexactly(5), 5) == b"hello"
            with pytest.raises(ConnectionResetError):
                await asyncio.wait_for(reader.read(100), 5)
            writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(scenario())


def test_proxy_stops_reading_a_sender_its_receiver_does_not_keep_up_with():
    """A receiver that does not read stalls the sender at a bounded amount queued (8 MiB in the proxy plus
    the kernel's socket buffers); once it reads, every byte arrives."""
    mib = 1024 * 1024
    release = None

    async def slow_reader(reader, writer):
        await release.wait()
        total = 0
        while data := await reader.read(mib):
            total += len(data)
        writer.write(str(total).encode())
        await writer.drain()
        writer.close()

    async def scenario():
        nonlocal release
        release = asyncio.Event()
        server = await asyncio.start_server(slow_reader, "127.0.0.1", 0)
        target = ("127.0.0.1", server.sockets[0].getsockname()[1])
        async with LatencyProxy(target) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]))
            written = 0
            with contextlib.suppress(asyncio.TimeoutError):
                while written < 128 * mib:
                    writer.write(b"x" * mib)
                    await asyncio.wait_for(writer.drain(), 2)
                    written += mib
            assert written < 64 * mib, f"{written // mib} MiB went in with nobody reading: no backpressure"
            release.set()
            await asyncio.wait_for(writer.drain(), 10)
            writer.write_eof()
            answer = await asyncio.wait_for(reader.read(), 10)
            assert int(answer) == written + mib  # the last write was accepted, its drain timed out
            writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(scenario())


@pytest.mark.parametrize("flag, value", [("--target", "10.1.2.3:80"), ("--listen", "0.0.0.0:0"),
                                         ("--target", "example.com:80")])
def test_proxy_refuses_addresses_off_loopback(flag, value):
    args = {"--target": "127.0.0.1:9", "--listen": "127.0.0.1:0", flag: value}
    completed = subprocess.run([sys.executable, str(PROXY), *[x for kv in args.items() for x in kv]],
                               capture_output=True, text=True, timeout=30)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert len(completed.stderr.splitlines()) == 1 and "loopback" in completed.stderr, completed.stderr


# --- the library under latency and load ---------------------------------------------------------

@dataclass(frozen=True)
class Latency:
    delay_ms: int
    jitter_ms: int

    def __str__(self) -> str:
        return f"{self.delay_ms}ms" + (f"+-{self.jitter_ms}ms" if self.jitter_ms else "")


LATENCIES = [Latency(0, 0), Latency(50, 20), Latency(250, 50)]
RUNS = 5  # R: each latency this many times


def library() -> dict[str, dict]:
    """Every scenario a default run selects, by id (scenarios tagged long run only when asked)."""
    scenarios = {}
    for path in SCENARIOS.rglob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "scenarios" in document and "section" in document:
            scenarios |= {s["id"]: s for s in document["scenarios"] if "long" not in s.get("tags", [])}
    return scenarios


@contextlib.contextmanager
def relay_behind_proxy(latency: Latency, seed: int, logs: Path):
    """A reference relay of its own and a latency proxy in front of it; yields the proxy's URL."""
    with announced([str(BUILD / "reference-relay"), "--port", "0"], logs / "relay.log") as (_, relay_url), \
         announced(proxy_command(relay_url, latency.delay_ms, latency.jitter_ms, seed), logs / "proxy.log") as (_, url):
        yield url


def cpp_command(url: str, report: Path) -> list[str]:
    return [str(BUILD / "relay-conformance"), "run", "--url", url, "--scenarios", str(SCENARIOS), "--json", str(report)]


def python_command(url: str, report: Path) -> list[str]:
    # As docs/pyharness.md runs the library against a URL.
    return [sys.executable, "-m", "pytest", "-p", "relay_harness.plugin", "-p", "no:cacheprovider", "-q",
            "--relay-url", url, "--scenarios", str(SCENARIOS), "--relay-json", str(report), str(SCENARIOS)]


def failures_in(runner: str, report: Path, scenarios: dict[str, dict], exit_status, output: Path) -> list[str]:
    """One line per scenario that did not pass (or did not run), with the report's failure text."""
    if not report.exists():
        tail = output.read_text(errors="replace")[-2000:]
        return [f"{runner}: no report (exit {exit_status}); output ends:\n{tail}"]
    entries = {entry["id"]: entry for entry in json.loads(report.read_text(encoding="utf-8"))["scenarios"]}
    lines = [f"{runner} {id}: missing from the report" for id in sorted(set(scenarios) - set(entries))]
    for id, entry in sorted(entries.items()):
        if entry["verdict"] == "pass":
            continue
        failure = entry.get("failure", entry)  # the C++ report nests it and has the step's text
        step = failure.get("step_text")
        if step is None and isinstance(failure.get("step"), int) and id in scenarios:  # pyharness: index from 0
            step = json.dumps(scenarios[id]["steps"][failure["step"]], separators=(",", ":"))
        lines.append(f"{runner} {id}: {entry['verdict']} ({failure.get('requirement')}) at step {step}\n"
                     f"      expected: {' | '.join(failure.get('expected') or [])}\n"
                     f"      actual:   {failure.get('actual')}")
    if not lines and exit_status != 0:
        lines.append(f"{runner}: every scenario passed but it exited {exit_status}")
    return lines


@pytest.fixture(scope="module")
def built():
    for binary in ("reference-relay", "relay-conformance"):
        assert os.access(BUILD / binary, os.X_OK), f"{BUILD / binary} is not built (bash .ci/setup builds it)"


@pytest.mark.stress
@pytest.mark.parametrize("run", range(1, RUNS + 1), ids=lambda r: f"run{r}")
@pytest.mark.parametrize("latency", LATENCIES, ids=str)
def test_no_false_failures_under_latency_and_load(latency, run, built, tmp_path):
    """The whole library (every scenario not tagged long: 58 today) with both runners at once, each through
    its own latency proxy to its own reference relay, while two busy-loop processes keep both cores busy.
    Latency per direction 0 ms, 50 ± 20 ms and 250 ± 50 ms; R = RUNS = 5 runs each: 15 test items,
    30 runs of the library, 30 x 58 = 1740 verdicts, every one of which must be `pass`.
    An item takes about 19 s (the 15 s watchdog scenarios, stretched by latency and load), the 15 items
    about 5 minutes on a 2-core machine."""
    scenarios = library()
    runners = {"C++ runner": cpp_command, "pyharness": python_command}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PYHARNESS), os.environ.get("PYTHONPATH")]))}
    outcomes, seeds = {}, {}
    with contextlib.ExitStack() as stack:
        stack.enter_context(CpuBurner(cores=2, seconds=RUN_TIMEOUT_S + 60))
        processes = {}
        for index, (runner, command) in enumerate(runners.items()):
            logs = tmp_path / runner.split()[0].lower().replace("+", "p")
            logs.mkdir()
            seeds[runner] = 100 * run + index  # the proxy's jitter, to replay a run
            url = stack.enter_context(relay_behind_proxy(latency, seeds[runner], logs))
            output = open(logs / "output.txt", "wb")
            stack.callback(output.close)
            process = subprocess.Popen(command(url, logs / "report.json"), stdout=output, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env, cwd=logs)
            stack.callback(stop, process)
            processes[runner] = (process, logs)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        for runner, (process, logs) in processes.items():
            try:
                status = process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                status = f"none: killed after {RUN_TIMEOUT_S} s"
            outcomes[runner] = (status, logs)
    failures, proxies = [], {}
    for runner, (status, logs) in outcomes.items():
        failures += failures_in(runner, logs / "report.json", scenarios, status, logs / "output.txt")
        proxies[runner] = (logs / "proxy.log").read_text(errors="replace").strip().splitlines()[-1:]
    # Beside the reports, for reading a whole session afterwards (--basetemp keeps them).
    (tmp_path / "run.json").write_text(json.dumps({"latency": str(latency), "run": run, "seeds": seeds,
                                                   "exit": {r: str(s) for r, (s, _) in outcomes.items()},
                                                   "proxies": proxies, "failures": failures}, indent=2))
    assert not failures, (f"latency {latency} per direction, both cores busy, run {run} of {RUNS} "
                          f"(proxy seeds {seeds}): {len(failures)} false failure(s)\n" + "\n".join(failures)
                          + "\n" + "\n".join(f"{r} proxy: {' '.join(p)}" for r, p in proxies.items()))
