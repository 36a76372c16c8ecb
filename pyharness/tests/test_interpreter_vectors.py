"""Every vector in scenarios/interpreter-vectors.json, run by both interpreters against the same
scripted relay: pyharness in-process, the C++ runner (build/relay-conformance) as a subprocess. Both
must reach the vector's verdict at its step, so the two agree on timing, attribution, grades and what
counts as a relay's fault."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import urllib.parse
from pathlib import Path

import pytest

from relay_harness import loader
from relay_harness.client import parse_relay_url
from relay_harness.interpreter import RunSettings, run_scenario
from relay_harness.plugin import DEFAULT_SCENARIOS, SCHEMA_NAME
from wire import GUID, read_frame, server_frame

VECTORS = json.loads((DEFAULT_SCENARIOS / "interpreter-vectors.json").read_text(encoding="utf-8"))["vectors"]
RUNNER = Path(__file__).resolve().parents[2] / "build" / "relay-conformance"
LATENCY_MS = 1
TEST_TIMEOUT_S = 30
OP_TEXT, OP_CLOSE = 0x1, 0x8


class ScriptedRelay:
    """Answers by the vector's script: plain HTTP by path, WebSocket handshakes by connectionId."""

    def __init__(self, script: dict) -> None:
        self.script = script

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            target = head.split(" ")[1]
            path, _, query = target.partition("?")
            key = next((line.split(":", 1)[1].strip() for line in head.split("\r\n")
                        if line.lower().startswith("sec-websocket-key:")), None)
            if key is None:
                answer = self.script.get("http", {}).get(path, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                writer.write(answer.encode("latin-1"))
                await writer.drain()
                return
            connection_id = urllib.parse.parse_qs(query).get("connectionId", [""])[0]
            await self.play(self.script.get("ws", {}).get(connection_id, []), key, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the runner hung up: that is how every scenario ends
        finally:
            writer.close()

    async def play(self, actions: list, key: str, reader, writer) -> None:
        if actions and "handshake" in actions[0]:
            writer.write(actions[0]["handshake"].encode("latin-1"))
            await writer.drain()
            return
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        for action in actions:
            if "text" in action:
                writer.write(server_frame(OP_TEXT, action["text"].encode()))
            elif "binary_hex" in action:
                writer.write(server_frame(0x2, bytes.fromhex(action["binary_hex"])))
            elif "raw_hex" in action:
                writer.write(bytes.fromhex(action["raw_hex"]))
            elif "close" in action:
                reason = action.get("reason", "").encode()
                writer.write(server_frame(OP_CLOSE, action["close"].to_bytes(2, "big") + reason))
            elif "drop" in action:
                writer.transport.abort()
                return
            elif "sleep_ms" in action:
                await asyncio.sleep(action["sleep_ms"] / 1000)
            elif "echo" in action:
                for _ in range(action["echo"]):
                    writer.write(server_frame(OP_TEXT, (await read_frame(reader)).payload))
            await writer.drain()
        await reader.read()  # open until the runner hangs up


def scenario_file(vector: dict, folder: Path) -> Path:
    scenario = {"id": "vector", "title": vector["name"], "requirements": ["V1-1"], "level": "MUST", "tags": [],
                **vector["scenario"]}
    path = folder / "vector.json"
    path.write_text(json.dumps({"section": "VECTOR", "scenarios": [scenario]}), encoding="utf-8")
    return path


async def with_relay(script: dict, use):
    server = await asyncio.start_server(ScriptedRelay(script).serve, "127.0.0.1", 0)
    async with server:
        return await use(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}")


def python_outcome(vector: dict, path: Path) -> tuple:
    scenario = loader.load_file(path, loader.load_schema(DEFAULT_SCENARIOS / SCHEMA_NAME))[0]

    async def use(url):
        return await run_scenario(scenario, parse_relay_url(url), RunSettings(latency_ms=LATENCY_MS))

    result = asyncio.run(asyncio.wait_for(with_relay(vector["server"], use), TEST_TIMEOUT_S))
    failure = result.failure
    return result.verdict, failure.step if failure else None, result.blocked_by, failure


def cpp_outcome(vector: dict, path: Path) -> tuple:
    report = path.parent / "report.json"

    async def use(url):
        runner = await asyncio.create_subprocess_exec(
            str(RUNNER), "run", "--url", url, "--scenarios", str(path.parent), "--latency", str(LATENCY_MS),
            "--json", str(report), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await runner.communicate()
        return output.decode()

    output = asyncio.run(asyncio.wait_for(with_relay(vector["server"], use), TEST_TIMEOUT_S))
    entry = json.loads(report.read_text(encoding="utf-8"))["scenarios"][0]
    failure = entry.get("failure")
    return entry["verdict"], failure["step"] if failure else None, entry.get("blocked_by"), output


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
@pytest.mark.parametrize("interpreter", ["python", "cpp"])
def test_both_interpreters_reach_the_vectors_verdict(vector, interpreter, tmp_path):
    path = scenario_file(vector, tmp_path)
    verdict, step, blocked_by, detail = (python_outcome if interpreter == "python" else cpp_outcome)(vector, path)
    assert verdict == vector["verdict"], detail
    if vector["verdict"] not in ("pass", "nonstrict"):
        assert step == vector["step"], detail
    assert blocked_by == vector.get("blocked_by"), detail
