"""Profiles (profiles/NAME/profile.json), as the C++ runner reads them (conformance/tests/profile_test.cpp):
the committed ones load with their scenario folders; a broken profile file is named with its file and
field; an unknown name lists the known ones; sockets expand to request targets as the profile says;
scenarios are held to the profile's socket fields and requirement ids."""

import json
import re
import shutil
from pathlib import Path

import pytest

from relay_harness import loader, model
from relay_harness.plugin import PROFILES_ROOT
from relay_harness.profile import PASEO, Profile, ProfileError, find_profile, fresh_variables, known_profiles, \
    socket_target
from relay_harness.patterns import UnknownVariable

GOOD = {"name": "x", "title": "X", "requirements": "x.md", "requirement_pattern": "^X-[0-9]+$", "scenarios": "x",
        "variables": ["a"], "sockets": {"path": "/p/${a}"}}


def _scratch(tmp_path: Path, document) -> Path:
    (tmp_path / "profiles" / "x").mkdir(parents=True)
    shutil.copy(PROFILES_ROOT / "profiles" / "profile.schema.json", tmp_path / "profiles")
    text = document if isinstance(document, str) else json.dumps(document)
    (tmp_path / "profiles" / "x" / "profile.json").write_text(text)
    return tmp_path


def test_paseo_file_is_the_built_in_default():
    paseo = find_profile(PROFILES_ROOT, "paseo")
    for name in ("variables", "query_fields", "defaults", "socket_path", "requirement_pattern"):
        assert getattr(paseo, name) == getattr(PASEO, name), name
    assert paseo.scenarios == PROFILES_ROOT / "scenarios"


def test_every_committed_profile_loads_with_its_scenarios(schema):
    names = known_profiles(PROFILES_ROOT)
    assert {"paseo", "localfirst"} <= set(names)
    for name in names:
        profile = find_profile(PROFILES_ROOT, name)
        if profile.scenarios.is_dir():
            loader.load_library(profile.scenarios, schema, profile)


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ProfileError, match=r'^unknown profile "nope"; known profiles: .*localfirst, paseo'):
        find_profile(PROFILES_ROOT, "nope")


@pytest.mark.parametrize("change, problem", [
    ({"variables": None}, "profile.json: /: 'variables' is a required property"),
    ({"sockets": {"path": "no-slash"}}, "profile.json: /sockets/path: 'no-slash' does not match"),
    ({"sockets": {"path": "/", "defaults": {"v": "2"}}}, "profile.json: /sockets/defaults/v: not one of /sockets/query_fields"),
    ({"requirement_pattern": "^X("}, "profile.json: /requirement_pattern: not a valid regular expression"),
    ({"variables": ["a", "a"]}, 'profile.json: /variables: "a" given twice'),
])
def test_bad_profile_names_file_and_field(tmp_path, change, problem):
    document = {**GOOD, **change}
    document = {key: value for key, value in document.items() if value is not None}
    root = _scratch(tmp_path, document)
    with pytest.raises(ProfileError) as error:
        find_profile(root, "x")
    assert problem in str(error.value)
    assert str(error.value).startswith(str(root / "profiles" / "x" / "profile.json"))


def test_profile_that_is_not_json(tmp_path):
    with pytest.raises(ProfileError, match="profile.json: not valid JSON"):
        find_profile(_scratch(tmp_path, "{"), "x")


def _socket(fields=None, query=None, path=None):
    return model.SocketSpec(fields=fields or {}, query=query, path=path)


def test_paseo_addressing_is_the_query_of_ws():
    variables = {"serverId": "s-1"}
    assert socket_target(_socket({"v": "2", "role": "server"}), PASEO, variables) == "/ws?serverId=s-1&v=2&role=server"
    assert socket_target(_socket({"connectionId": "c 1", "serverId": "${serverId}-probe"}), PASEO, variables) \
        == "/ws?serverId=s-1-probe&connectionId=c%201"
    assert socket_target(_socket(query="serverId=${serverId}&role=%20server"), PASEO, variables) \
        == "/ws?serverId=s-1&role=%20server"
    assert socket_target(_socket(query="", path="/other"), PASEO, variables) == "/other"


def test_path_templates_take_variables_and_captures():
    lf = Profile("lf", "LF", None, "^LF-[0-9]+$", None, ("alice", "bob", "doc"), socket_path="/")
    variables = {"alice": "a1", "bob": "b1", "doc": "d1", "peer": "z"}
    assert socket_target(_socket(path="/connection/${alice}/${bob}/${doc}"), lf, variables) == "/connection/a1/b1/d1"
    assert socket_target(_socket(query="x=${peer}", path="/introduction/${alice}"), lf, variables) == "/introduction/a1?x=z"
    assert socket_target(_socket(), lf, variables) == "/"
    with pytest.raises(UnknownVariable):
        socket_target(_socket(path="/${nobody}"), lf, variables)


def test_fresh_variables_are_unique_per_run():
    lf = Profile("lf", "LF", None, "^LF-[0-9]+$", None, ("alice", "bob"))
    one, two = fresh_variables(lf, "s"), fresh_variables(lf, "s")
    assert one["alice"] != one["bob"] and one["alice"] != two["alice"]
    assert re.fullmatch("s-[0-9a-f]{8}", one["alice"]), one


def _load(tmp_path, schema, profile, requirement, sockets, steps):
    raw = {"id": "x", "title": "t", "requirements": [requirement], "level": "MUST", "tags": [], "sockets": sockets,
           "steps": steps}
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"section": "T", "scenarios": [raw]}))
    try:
        loader.load_file(path, schema, profile)
    except loader.LoadError as error:
        return str(error).replace(f"{path}: ", "")
    return ""


def test_scenarios_are_held_to_the_profile(tmp_path, schema):
    lf = Profile("lf", "LF", None, "^LF(-[A-Z0-9]+)*-[0-9]+$", None, ("alice",), socket_path="/")
    steps = [{"open": "a"}]
    assert _load(tmp_path, schema, lf, "LF-1", {"a": {"path": "/introduction/${alice}"}}, steps) == ""
    assert "/sockets/a/v: not a socket field of profile lf" in _load(tmp_path, schema, lf, "LF-1", {"a": {"v": "2"}}, steps)
    assert "requirement 'V2-CTRL-1' is not an id of profile lf" in _load(tmp_path, schema, lf, "V2-CTRL-1", {"a": {}}, steps)


def test_msgpack_steps_and_matchers_load(tmp_path, schema):
    sockets = {"a": {"v": "2"}}
    steps = [{"open": "a"}, {"send": "a", "msgpack": {"type": "Join", "documentIds": ["${serverId}"]}},
             {"expect": "a", "frame": {"msgpack": {"type": {"$capture": "t"}}, "subset": True}}]
    assert _load(tmp_path, schema, PASEO, "T-1", sockets, steps) == ""
    problem = _load(tmp_path, schema, PASEO, "T-1", sockets, [{"open": "a"}, {"send": "a", "msgpack": 1, "text": "x"}])
    assert "a send needs exactly one of text, json, msgpack, binary_hex, text_hex, fill" in problem
    problem = _load(tmp_path, schema, PASEO, "T-1", sockets, [{"open": "a"}, {"expect": "a", "frame": {"msgpack": 1, "type": "text"}}])
    assert "/frame/type: text contradicts msgpack, which implies binary" in problem
