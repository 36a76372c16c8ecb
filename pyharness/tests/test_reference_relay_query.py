"""Random valid and invalid /ws query strings against the admission rules (HTTP-3 to HTTP-7),
written here as a small model: form-decoding, first occurrence wins, then serverId, v, role, upgrade."""

from __future__ import annotations

import asyncio
import random
from urllib.parse import parse_qsl

from relay_harness.client import http_exchange, parse_relay_url

SEED = 20240505
QUERIES = 300
PARALLEL = 50
DEADLINE_S = 60
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
           "Sec-WebSocket-Version": "13"}
# Each field's candidate values, valid ones repeated so that every status comes up often.
VALUES = {
    "serverId": ["id", "id", "id", "id", "", "%20", "a+b", "%E2%98%83", "s%26x"],
    "v": ["", "1", "2", "2", "%202%09", "+1+", "%32", "3", "02", "2.0", "abc"],
    "role": ["server", "client", "server", "client", "Server", "%20server", "client+", "", "admin", "serv%65r"],
    "connectionId": ["c1", "", "%20c%09"],
}
NAME_SPELLINGS = {"serverId": ["serverId", "serverId", "server%49d"]}  # names are form-decoded too


def random_query(rng: random.Random, index: int) -> str:
    pieces = []
    for name, values in VALUES.items():
        for _ in range(rng.choice([0, 1, 1, 1, 2])):  # absent, once, or repeated
            value = rng.choice(values).replace("id", f"query-{index}") if name == "serverId" else rng.choice(values)
            spelling = rng.choice(NAME_SPELLINGS.get(name, [name]))
            pieces.append(rng.choice([f"{spelling}={value}"] * 5 + [spelling]))
    pieces += rng.choice([[], [], ["x=1"], [""], ["&"]])
    rng.shuffle(pieces)
    return "&".join(pieces)


def expected(query: str, upgrade: bool) -> tuple[int, str]:
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name, value)  # the first occurrence wins
    if not params.get("serverId"):
        return 400, "Missing serverId parameter"
    if params.get("v", "").strip(" \t\n\r\f\v") not in ("", "1", "2"):
        return 400, "Invalid v parameter (expected 1 or 2)"
    if params.get("role") not in ("server", "client"):
        return 400, "Missing or invalid role parameter"
    if not upgrade:
        return 426, "Expected WebSocket upgrade"
    return 101, ""


async def check_all(relay_url: str) -> list[str]:
    address = parse_relay_url(relay_url)
    rng = random.Random(SEED)
    gate = asyncio.Semaphore(PARALLEL)

    async def check(index: int) -> str:
        query, upgrade = random_query(rng, index), rng.random() < 0.7
        async with gate:
            response = await http_exchange(address, "GET", f"/ws?{query}", UPGRADE if upgrade else {}, 10)
        want = expected(query, upgrade)
        got = (response.status, response.text)
        return "" if got == want else f"query {query!r} upgrade={upgrade}: expected {want}, got {got}"

    return [problem for problem in await asyncio.gather(*(check(i) for i in range(QUERIES))) if problem]


def test_random_queries_follow_the_admission_rules(relay_url):
    problems = asyncio.run(asyncio.wait_for(check_all(relay_url), DEADLINE_S))
    assert not problems, "\n".join(problems)


def test_the_model_agrees_with_the_documented_examples():
    assert expected("serverId=a&role=server", upgrade=False) == (426, "Expected WebSocket upgrade")
    assert expected("serverId=&v=9&role=admin", upgrade=True)[1] == "Missing serverId parameter"
    assert expected("serverId=a&v=%202%09&role=server", upgrade=True) == (101, "")
    assert expected("serverId=a&role=%20server", upgrade=True)[1] == "Missing or invalid role parameter"
