"""The loader: the library validates against the shared schema; problems name file, id, step, field."""

import json
from pathlib import Path

import pytest

from relay_harness import loader
from relay_harness.plugin import DEFAULT_SCENARIOS
DATA = Path(__file__).parent / "data"


def test_library_loads_with_unique_ids(schema):
    scenarios = loader.load_library(DEFAULT_SCENARIOS, schema)
    assert scenarios, "the scenario library is empty"
    assert len({s.id for s in scenarios}) == len(scenarios)


def test_malformed_file_names_file_scenario_step_and_field(schema):
    with pytest.raises(loader.LoadError) as error:
        loader.load_file(DATA / "malformed.json", schema)
    assert str(error.value).startswith(f"{DATA / 'malformed.json'}: scenario demo-malformed step 2: /within: unknown field")


def _problems(tmp_path, schema, steps, sockets=None, **fields) -> str:
    raw = {"id": "x", "title": "t", "requirements": ["HTTP-1"], "level": "MUST", "tags": [],
           "sockets": sockets if sockets is not None else {"a": {"v": "2", "role": "server"}}, "steps": steps, **fields}
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"section": "T", "scenarios": [raw]}))
    with pytest.raises(loader.LoadError) as error:
        loader.load_file(path, schema)
    return str(error.value).replace(f"{path}: ", "")


@pytest.mark.parametrize("steps, problem", [
    ([{"oops": "a"}], "scenario x step 1: a step needs exactly one action key"),
    ([{"open": "a"}, {"send": "a", "text": "x", "json": {}}], "scenario x step 2: a send needs exactly one of"),
    ([{"open": "a"}, {"send": "a", "binary_hex": "ABC"}], "scenario x step 2: /binary_hex: 'ABC' does not match"),
    ([{"open": "a"}, {"send": "a", "text_hex": "h"}], "scenario x step 2: /text_hex: 'h' does not match"),
    ([{"open": "b"}], "scenario x step 1: /open: no socket named 'b'"),
    ([{"send": "a", "text": "x"}], "scenario x step 1: /send: socket 'a' is used before its open step"),
    ([{"open": "a"}, {"open": "a"}], "scenario x step 2: /open: socket 'a' is already open"),
    ([{"open": "a"}, {"close": "a"}, {"send": "a", "text": "x"}], "scenario x step 3: /send: socket 'a' was already closed"),
    ([{"open": "a"}, {"expect": "a", "frame": {"any": True}, "window": {"after": "t0", "min_ms": 0, "max_ms": 5}}],
     "scenario x step 2: /window/after: no earlier step sets mark 't0'"),
    ([{"open": "a"}, {"expect": "a", "frame": {"json": {"$anything": 1}}}],
     "scenario x step 2: /frame/json: unknown matcher key $anything"),
    ([{"open": "a"}, {"expect": "a", "frame": {"type": "binary", "text": "x"}}],
     "scenario x step 2: /frame/type: binary contradicts text"),
    ([{"open": "a"}, {"expect": "a", "close": {"code": "1000"}}], "scenario x step 2: /close/code: '1000' is not valid"),
])
def test_step_problems(tmp_path, schema, steps, problem):
    assert problem in _problems(tmp_path, schema, steps)


def test_text_hex_sends_a_text_frame_of_exactly_those_bytes(tmp_path, schema):
    raw = {"id": "x", "title": "t", "requirements": ["HTTP-1"], "level": "MUST", "tags": [],
           "sockets": {"a": {"v": "2", "role": "server"}}, "steps": [{"open": "a"}, {"send": "a", "text_hex": "68c3"}]}
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"section": "T", "scenarios": [raw]}))
    send = loader.load_file(path, schema)[0].steps[1].action
    assert (send.type, send.payload) == ("text", b"h\xc3"), send


def test_query_excludes_fields(tmp_path, schema):
    problems = _problems(tmp_path, schema, [{"open": "a"}], sockets={"a": {"query": "x=1", "role": "server"}})
    assert "scenario x: /sockets/a: query excludes role" in problems


def test_scenario_level_field(tmp_path, schema):
    assert "scenario x: /level: 'MAY' is not one of" in _problems(tmp_path, schema, [{"mark": "m"}], level="MAY")


def test_not_json(tmp_path, schema):
    path = tmp_path / "broken.json"
    path.write_text("{")
    with pytest.raises(loader.LoadError, match=r"broken.json: not valid JSON"):
        loader.load_file(path, schema)


@pytest.mark.parametrize("sockets, steps, problem", [
    ('{"probe-daemon": {"v": "2", "role": "server"}, "probe-daemon": {"v": "2", "role": "server"}}',
     '[{"open": "probe-daemon"}]', "scenario x: /sockets/probe-daemon: key 'probe-daemon' given more than once"),
    ('{"a": {"v": "2", "role": "server"}}',
     '[{"open": "a"}, {"expect": "a", "frame": {"any": true}, "within_ms": 5, "within_ms": 50}]',
     "scenario x step 2: /within_ms: key 'within_ms' given more than once"),
    ('{"a": {"v": "2", "role": "server"}}',
     '[{"open": "a"}, {"expect": "a", "one_of": [{"ended": true}, {"frame": {"json": [1, {"t": 1, "t": 2}]}}]}]',
     "scenario x step 2: /one_of/1/frame/json/1/t: key 't' given more than once"),
])
def test_key_given_twice(tmp_path, schema, sockets, steps, problem):
    # json.dumps cannot write a repeated key, so the file is written as text.
    path = tmp_path / "x.json"
    path.write_text('{"section": "T", "scenarios": [{"id": "x", "title": "t", "requirements": ["HTTP-1"], "level": "MUST",'
                    f' "tags": [], "sockets": {sockets}, "steps": {steps}}}]}}')
    with pytest.raises(loader.LoadError) as error:
        loader.load_file(path, schema)
    assert str(error.value) == f"{path}: {problem} (parsers keep only the last)"
