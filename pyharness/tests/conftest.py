"""Fixtures shared by the plugin's own tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relay_harness import loader, model
from relay_harness.plugin import _HARNESS, DEFAULT_SCENARIOS, SCHEMA_NAME
from relay_harness.relay_process import RelayProcess


@pytest.fixture(scope="session")
def schema() -> dict:
    return loader.load_schema(DEFAULT_SCENARIOS / SCHEMA_NAME)


@pytest.fixture
def make_scenario(tmp_path: Path, schema: dict):
    """Builds a Scenario from its JSON fields through the real loader (so the schema applies)."""

    def make(steps: list, sockets: dict | None = None, **fields) -> model.Scenario:
        raw = {"id": "made", "title": "made in a test", "requirements": ["V2-CTRL-1"], "level": "MUST",
               "tags": [], "sockets": sockets or {}, "steps": steps, **fields}
        path = tmp_path / f"{raw['id']}.json"
        path.write_text(json.dumps({"section": "TEST", "scenarios": [raw]}))
        return loader.load_file(path, schema)[0]

    return make


@pytest.fixture(scope="session")
def relay_binary(pytestconfig: pytest.Config) -> Path:
    """The reference relay this session would start (--relay-binary or the built one)."""
    return pytestconfig.stash[_HARNESS].settings.relay_binary


@pytest.fixture
def start_relay(relay_binary: Path):
    """Starts reference relays with extra flags; each is stopped when the test ends."""
    started = []

    def start(*args: str) -> RelayProcess:
        started.append(RelayProcess.start(relay_binary, *args))
        return started[-1]

    yield start
    for relay in started:
        relay.stop()

