"""Client checks: the loader's client-scenario files, request patterns, and the runner playing the relay
for a small scripted client over real loopback sockets (--client-cmd and --client-port)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from websockets.datastructures import Headers
from websockets.http11 import Request

from relay_harness import loader, model
from relay_harness.listener import Arrival, match_request
from relay_harness.plugin import REPO_ROOT
from relay_harness.profile import PASEO

CLIENT_SCHEMA = REPO_ROOT / "client-scenarios" / "client-scenario.schema.json"
RELAY_SCHEMA = REPO_ROOT / "scenarios" / "scenario.schema.json"
REPORT_SCHEMA = REPO_ROOT / "ci" / "report.schema.json"

CONTROL = {"serverId": {"$capture": "serverId"}, "role": "server", "v": "2", "connectionId": {"$absent": True}}
DATA_C1 = {"serverId": "${serverId}", "role": "server", "v": "2", "connectionId": "c1"}


def scenario(steps: list, sockets: dict | None = None, **fields) -> dict:
    return {"id": "made", "title": "made in a test", "requirements": ["DAEMON-3"], "level": "MUST", "tags": [],
            "sockets": sockets if sockets is not None else {"control": CONTROL, "data-c1": DATA_C1},
            "steps": steps, **fields}


def client_file(tmp_path: Path, *scenarios: dict, kind: str | None = "client") -> Path:
    document = {"section": "TEST", "scenarios": list(scenarios)}
    if kind:
        document = {"kind": kind, **document}
    path = tmp_path / "checks.json"
    path.write_text(json.dumps(document))
    return path


def load(path: Path) -> list[model.Scenario]:
    return loader.load_client_file(path, loader.load_schema(CLIENT_SCHEMA), PASEO)


def problems(path: Path) -> str:
    with pytest.raises(loader.LoadError) as raised:
        load(path)
    return str(raised.value)


# --- loader -----------------------------------------------------------------------------------------

def test_loads_accept_no_connection_and_socket_patterns(tmp_path):
    path = client_file(tmp_path, scenario([
        {"accept": "control", "refuse": {"status": 503, "body": "busy"}, "mark": "refused"},
        {"accept": "control", "window": {"after": "refused", "min_ms": 900, "max_ms": 2000}},
        {"send": "control", "json": {"type": "sync", "connectionIds": ["c1"]}},
        {"accept": "data-c1", "within_ms": 15000},
        {"close": "data-c1", "code": 1001},
        {"no_connection": "data-c1", "within_ms": 3000},
        {"accept": "data-c1"},
        {"expect": "data-c1", "ended": True},
    ]))
    [loaded] = load(path)
    assert loaded.kind == "client"
    refused, windowed, _, accept, _, quiet, again, _ = (step.action for step in loaded.steps)
    assert refused == model.AcceptStep("control", model.Refusal(503, "busy"))
    assert windowed.window == model.Window("refused", 900, 2000) and windowed.refuse is None
    assert accept.within_ms == 15000 and again.within_ms is None
    assert quiet == model.NoConnectionStep("data-c1", 3000)
    assert loaded.sockets["control"].fields["connectionId"] == {"$absent": True}


@pytest.mark.parametrize("step, sockets, message", [
    ({"open": "control"}, None,
     "scenario made step 1: /open: not a client-scenario step: the runner plays the relay here"),
    ({"http": {"path": "/"}, "response": {"status": 200}}, None, "scenario made step 1: /http: not a client-scenario step"),
    ({"send": "control", "text": "x"}, None,
     "scenario made step 1: /send: socket 'control' is used before its accept step"),
    ({"accept": "nowhere"}, None, "scenario made step 1: /accept: no socket named 'nowhere' in /sockets"),
    ({"accept": "control", "within_ms": 5, "window": {"after": "m", "min_ms": 0, "max_ms": 9}}, None,
     "scenario made step 1: /window replaces /within_ms"),
    ({"accept": "control", "grace_ms": 5}, None, "scenario made step 1: /grace_ms: unknown field"),
    ({"accept": "control"}, {"control": {"headers": {"Sec-WebSocket-Extensions": {"$absent": True}}}},
     "scenario made: /sockets/control/headers/Sec-WebSocket-Extensions: header names must be lower case"),
    ({"accept": "control"}, {"control": {"connectionId": {"$regex": "("}}},
     "scenario made: /sockets/control/connectionId: $regex does not compile"),
])
def test_rejects_naming_file_scenario_step_and_field(tmp_path, step, sockets, message):
    path = client_file(tmp_path, scenario([step], sockets))
    text = problems(path)
    assert text.startswith(f"{path}: ") and message in text, text


def test_requirements_follow_the_profiles_client_pattern(tmp_path):
    path = client_file(tmp_path, scenario([{"accept": "control"}], requirements=["V2-CTRL-1"]))
    assert "/requirements/0: requirement 'V2-CTRL-1' is not an id of profile paseo (^(DAEMON|APP)-[0-9]+$)" in problems(path)


def test_accept_in_a_relay_scenario_is_an_error(tmp_path):
    path = client_file(tmp_path, scenario([{"accept": "control"}], {"control": {"role": "server"}},
                                          requirements=["V2-CTRL-1"]), kind=None)
    with pytest.raises(loader.LoadError) as raised:
        loader.load_file(path, loader.load_schema(RELAY_SCHEMA), PASEO)
    assert 'scenario made step 1: /accept: only in client-scenario files ("kind": "client")' in str(raised.value)


def test_file_kinds_do_not_mix(tmp_path):
    relay = client_file(tmp_path, scenario([{"accept": "control"}]), kind=None)
    assert '/kind: a client-scenario file says "kind": "client", got null' in problems(relay)
    client = client_file(tmp_path, scenario([{"accept": "control"}]))
    with pytest.raises(loader.LoadError, match="it is not a relay scenario"):
        loader.load_file(client, loader.load_schema(RELAY_SCHEMA), PASEO)


def test_the_repositorys_client_scenarios_load():
    profile_folder = REPO_ROOT / "client-scenarios"
    for path in loader.scenario_files(profile_folder):
        if loader.file_kind(path) == loader.CLIENT_KIND:
            assert load(path)


# --- request patterns ---------------------------------------------------------------------------------

def arrival(target: str, **headers: str) -> Arrival:
    request = Request(target, Headers({name.replace("_", "-"): value for name, value in headers.items()}))
    return Arrival(None, None, None, request, at=0.0, number=1)


def spec(**fields) -> model.SocketSpec:
    headers = fields.pop("headers", {})
    path = fields.pop("path", None)
    return model.SocketSpec(fields=fields, path=path, headers=headers)


def test_request_pattern_captures_and_decodes_query_values():
    result = match_request(spec(**CONTROL), arrival("/ws?serverId=srv%201&role=server&v=2"), PASEO, {})
    assert result.matched and result.captures == {"serverId": "srv 1"}
    data = match_request(spec(**DATA_C1), arrival("/ws?serverId=srv%201&role=server&v=2&connectionId=c1"),
                         PASEO, result.captures)
    assert data.matched
    plus = match_request(spec(**CONTROL), arrival("/ws?serverId=srv+1&serverId=other&role=server&v=2"), PASEO, {})
    assert plus.captures == {"serverId": "srv 1"}  # `+` reads as a space; of a repeated name the first counts


@pytest.mark.parametrize("target, headers, why", [
    ("/ws?serverId=s&role=server&v=2&connectionId=c1", {}, "query connectionId at /: expected no value"),
    ("/ws?serverId=s&role=client&v=2", {}, 'query role at /: expected "server", got "client"'),
    ("/relay?serverId=s&role=server&v=2", {}, 'path at /: expected "/ws", got "/relay"'),
    ("/ws?serverId=s&role=server&v=2", {"Sec-WebSocket-Extensions": "permessage-deflate"},
     "header sec-websocket-extensions at /: expected no value"),
])
def test_request_pattern_says_why_a_request_does_not_match(target, headers, why):
    pattern = spec(**CONTROL, headers={"sec-websocket-extensions": {"$absent": True}})
    result = match_request(pattern, arrival(target, **headers), PASEO, {})
    assert not result.matched and result.why.startswith(why), result.why


def test_request_pattern_substitutes_captured_variables():
    result = match_request(spec(**DATA_C1), arrival("/ws?serverId=other&role=server&v=2&connectionId=c1"),
                           PASEO, {"serverId": "srv"})
    assert not result.matched and result.why == 'query serverId at /: expected "srv", got "other"'


# --- end to end: the runner plays the relay for a scripted client ----------------------------------------

SCRIPTED_CLIENT = '''
import asyncio, json, sys
import websockets

URL, MODE = sys.argv[1], sys.argv[2]
BASE = "/ws?serverId=srv%201&role=server&v=2"


async def data_socket(cid):
    try:
        async with websockets.connect(URL + BASE + "&connectionId=" + cid, compression=None, ping_interval=None) as ws:
            async for message in ws:
                await ws.send(message)
    except Exception as error:
        print("data", cid, "ended:", error, flush=True)


async def control():
    async with websockets.connect(URL + BASE, compression=None, ping_interval=None) as ws:
        print("control open", flush=True)
        await ws.send(json.dumps({"type": "ping", "ts": 1}))
        async for message in ws:
            msg = json.loads(message)
            if msg.get("type") == "ping":
                await ws.send(json.dumps({"type": "pong", "ts": 2}))
            elif msg.get("type") == "sync" and MODE == "good":
                for cid in msg["connectionIds"]:
                    asyncio.ensure_future(data_socket(cid))


async def main():
    print("mode", MODE, flush=True)
    while True:
        try:
            await control()
        except Exception as error:
            print("control ended:", error, flush=True)
        await asyncio.sleep(0.3)

asyncio.run(main())
'''

CHECKS = {"kind": "client", "section": "TEST", "scenarios": [
    {"id": "t-data", "title": "opens the data socket a sync names", "requirements": ["DAEMON-3"], "level": "MUST",
     "tags": ["daemon"], "timeout_ms": 10000,
     "sockets": {"control": {**CONTROL, "headers": {"sec-websocket-extensions": {"$absent": True}}}, "data-c1": DATA_C1},
     "steps": [
         {"accept": "control", "requirement": "DAEMON-1", "mark": "open"},
         {"expect": "control", "frame": {"json": {"type": "ping"}, "subset": True},
          "window": {"after": "open", "min_ms": 0, "max_ms": 1000}},
         {"send": "control", "json": {"type": "sync", "connectionIds": ["c1"]}},
         {"accept": "data-c1", "within_ms": 2000},
         {"send": "data-c1", "text": "hello"},
         {"expect": "data-c1", "frame": {"text": "hello"}},
         {"close": "data-c1", "code": 1001, "reason": "Client disconnected"},
         {"expect": "data-c1", "close": {"code": 1001}},
         {"no_connection": "data-c1", "within_ms": 500}]},
    {"id": "t-refused", "title": "reconnects after a refused handshake", "requirements": ["DAEMON-8"],
     "level": "MUST", "tags": ["daemon"], "timeout_ms": 10000,
     "sockets": {"control": CONTROL},
     "steps": [
         {"accept": "control", "refuse": {"status": 503, "body": "busy"}, "mark": "refused"},
         {"accept": "control", "window": {"after": "refused", "min_ms": 200, "max_ms": 2000}},
         {"send": "control", "json": {"type": "ping"}},
         {"expect": "control", "frame": {"json": {"type": "pong"}, "subset": True}, "skip_other_frames": True}]},
    {"id": "t-quiet", "title": "opens no data socket unasked", "requirements": ["DAEMON-3"], "level": "MUST",
     "tags": ["daemon"], "timeout_ms": 10000,
     "sockets": {"control": CONTROL, "data-c1": DATA_C1},
     "steps": [
         {"accept": "control"},
         {"send": "control", "json": {"type": "sync", "connectionIds": []}},
         {"no_connection": "data-c1", "within_ms": 500}]},
]}


@pytest.fixture
def checks(pytester: pytest.Pytester) -> tuple[Path, Path]:
    """The scripted client and a client-scenario file, in the pytester directory."""
    client = pytester.path / "scripted_client.py"
    client.write_text(SCRIPTED_CLIENT)
    path = pytester.path / "checks.json"
    path.write_text(json.dumps(CHECKS))
    return client, path


def client_cmd(client: Path, mode: str) -> str:
    return f"{sys.executable} {client} {{url}} {mode}"


def test_good_client_passes_every_check(pytester, checks):
    client, path = checks
    result = pytester.runpytest_inprocess("-p", "relay_harness.plugin", str(path), "--client-cmd", client_cmd(client, "good"))
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*Compatible with the Paseo relay, and strictly: no difference from the official client in 3 scenarios*"])


def test_broken_client_fails_its_requirement_with_output_and_report(pytester, checks, tmp_path):
    client, path = checks
    report = tmp_path / "report.json"
    result = pytester.runpytest_inprocess("-p", "relay_harness.plugin", str(path), "--client-cmd",
                                          client_cmd(client, "no-data"), "--relay-json", str(report))
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "scenario t-data failed: opens the data socket a sync names",
        "requirement: DAEMON-3 (MUST)",
        'step 4: {"accept":"data-c1","within_ms":2000}',
        'expected: a connection for data-c1: path "/ws", serverId "srv 1", role "server", v "2", connectionId "c1", '
        "within 2000 ms + 100 ms latency allowance",
        "actual:   no connection",
        "client output (last * lines):",
        "  mode no-data",
    ])
    document = json.loads(report.read_text())
    jsonschema.validate(document, json.loads(REPORT_SCHEMA.read_text()))
    verdicts = {entry["id"]: entry for entry in document["scenarios"]}
    assert {key: entry["verdict"] for key, entry in verdicts.items()} == {"t-data": "fail", "t-refused": "pass",
                                                                        "t-quiet": "pass"}
    assert verdicts["t-data"]["failure"]["requirement"] == "DAEMON-3"
    assert "mode no-data" in verdicts["t-data"]["client_output"]


def test_connection_in_a_quiet_period_fails(pytester, checks):
    client, path = checks
    document = json.loads(path.read_text())
    document["scenarios"] = [document["scenarios"][0]]
    steps = document["scenarios"][0]["steps"]
    steps[6:] = [{"drop": "data-c1"}, {"no_connection": "control", "within_ms": 300},
                 {"send": "control", "json": {"type": "sync", "connectionIds": ["c1"]}},
                 {"no_connection": "data-c1", "within_ms": 1000}]
    path.write_text(json.dumps(document))
    result = pytester.runpytest_inprocess("-p", "relay_harness.plugin", str(path), "--client-cmd", client_cmd(client, "good"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["step 10: *no_connection*", "actual:   a connection for data-c1 arrived at +* ms: "
                                 "/ws?serverId=srv%201&role=server&v=2&connectionId=c1"])


def test_client_port_prints_its_url_and_checks_whatever_connects(checks, tmp_path):
    client, path = checks
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "pyharness")}
    session = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "relay_harness.plugin", "-p", "no:cacheprovider",
                                str(path), "--client-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=env, cwd=tmp_path, text=True)
    daemon = None
    try:
        url = session.stdout.readline().strip()
        assert url.startswith("ws://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
        daemon = subprocess.Popen([sys.executable, str(client), url, "good"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        output, _ = session.communicate(timeout=60)
    finally:
        for process in (session, daemon):
            if process and process.poll() is None:
                process.kill()
                process.wait()
    assert session.returncode == 0, output
    assert "3 passed" in output


def test_without_a_client_client_checks_are_skipped(pytester, checks):
    _, path = checks
    result = pytester.runpytest_inprocess("-p", "relay_harness.plugin", str(path), "-rs")
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(["*a client check: give --client-cmd CMD*"])


def test_client_cmd_and_client_port_exclude_each_other(pytester, checks):
    _, path = checks
    result = pytester.runpytest_inprocess("-p", "relay_harness.plugin", str(path), "--client-cmd", "true",
                                          "--client-port", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--client-cmd and --client-port exclude each other*"])
