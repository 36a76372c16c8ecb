"""Reads scenario files: validates each against scenarios/scenario.schema.json (client-scenario files,
`"kind": "client"`: client-scenarios/client-scenario.schema.json), then builds the model. Every problem
is one line naming the file, the scenario id, the step (from 1) and the field."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Optional

import jsonschema

from . import model
from .patterns import pattern_problems
from .profile import PASEO, Profile

ACTIONS = ("open", "send", "expect", "close", "drop", "http", "accept", "no_connection")
RELAY_ONLY = ("open", "http")  # the runner is the clients
CLIENT_ONLY = ("accept", "no_connection")  # the runner is the relay
CLIENT_KIND = "client"
SEND_PAYLOADS = ("text", "json", "msgpack", "binary_hex", "text_hex", "fill")
SOCKET_ADDRESS = ("query", "path", "headers")  # a socket's keys every profile takes
EVENT_KINDS = ("frame", "close", "ended", "nothing", "one_of")
DEFAULT_FILL_BYTE = 120  # "x"; the format leaves the default open


class LoadError(Exception):
    """One line per problem found in a scenario file."""


def load_schema(path: Path) -> dict:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise LoadError(f"{path}: cannot read the scenario schema: {error}") from None
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def scenario_files(directory: Path) -> list[Path]:
    """Every *.json under `directory`, sorted, except the schema and the test vectors."""
    return sorted(p for p in directory.rglob("*.json") if is_scenario_file(p))


def default_scenario_ids(directory: Path) -> set[str]:
    """The ids of every scenario a run selects by default: all but those tagged long (run only when asked)."""
    ids = set()
    for path in scenario_files(directory):
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "scenarios" in document and "section" in document:
            ids |= {s["id"] for s in document["scenarios"] if "long" not in s.get("tags", [])}
    return ids


def is_scenario_file(path: Path) -> bool:
    """Schemas and the shared test vectors live with the scenarios but are not scenario files."""
    return path.suffix == ".json" and not path.name.endswith((".schema.json", "-vectors.json"))


def file_kind(path: Path) -> Optional[str]:
    """A file's top-level `kind` ("client"), read leniently: None for a relay file or an unreadable one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kind = document.get("kind") if isinstance(document, dict) else None
    return kind if isinstance(kind, str) else None


def load_file(path: Path, schema: dict, profile: Profile = PASEO) -> list[model.Scenario]:
    """One relay-scenario file, under a profile: its socket fields and requirement ids are the ones a
    scenario may use. Raises LoadError listing every problem."""
    return _load(path, schema, profile, client=False)


def load_client_file(path: Path, schema: dict, profile: Profile = PASEO) -> list[model.Scenario]:
    """One client-scenario file (`"kind": "client"`), validated against the client-scenario schema; its
    requirement ids are the profile's client ones. Raises LoadError listing every problem."""
    return _load(path, schema, profile, client=True)


def _load(path: Path, schema: dict, profile: Profile, client: bool) -> list[model.Scenario]:
    try:
        document, repeated = _parse(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise LoadError(f"{path}: cannot read: {error.strerror}") from None
    except ValueError as error:
        raise LoadError(f"{path}: not valid JSON: {error}") from None
    problems = (_kind_problems(document, client)
                or [*_repeated_key_problems(document, repeated), *_schema_problems(document, schema, client)]
                or list(_semantic_problems(document, profile, client)))
    if problems:
        raise LoadError("\n".join(f"{path}: {problem}" for problem in problems))
    kind = CLIENT_KIND if client else "relay"
    return [_build_scenario(raw, document["section"], str(path), kind) for raw in document["scenarios"]]


def _kind_problems(document: Any, client: bool) -> list[str]:
    kind = document.get("kind") if isinstance(document, dict) else None
    if client and kind != CLIENT_KIND:
        return [f'/kind: a client-scenario file says "kind": "{CLIENT_KIND}", got {json.dumps(kind)}']
    if not client and kind == CLIENT_KIND:
        return [f'/kind: a client-scenario file ("kind": "{CLIENT_KIND}"): the runner plays the relay for it '
                "(check-client, or pyharness with --client-cmd or --client-port), it is not a relay scenario"]
    return []


def load_library(directory: Path, schema: dict, profile: Profile = PASEO) -> list[model.Scenario]:
    """Every scenario file under `directory`; also rejects ids used twice across files."""
    scenarios, problems, seen = [], [], {}
    for path in scenario_files(directory):
        try:
            loaded = load_file(path, schema, profile)
        except LoadError as error:
            problems.append(str(error))
            continue
        for scenario in loaded:
            if scenario.id in seen:
                problems.append(f"{path}: scenario {scenario.id}: id already used in {seen[scenario.id]}")
            seen[scenario.id] = path
        scenarios.extend(loaded)
    if problems:
        raise LoadError("\n".join(problems))
    return scenarios


# --- parsing, noting keys given twice ---------------------------------------------------------

def _parse(text: str) -> tuple[Any, list[list]]:
    """The document, and the path of every key that an object gives more than once: json keeps only
    the last, changing what the file says."""
    repeated = {}  # id of an object -> its keys given more than once (all objects stay alive in the document)

    def build(pairs: list[tuple[str, Any]]) -> dict:
        obj = dict(pairs)
        if len(obj) < len(pairs):
            counts = Counter(key for key, _ in pairs)
            repeated[id(obj)] = [key for key in obj if counts[key] > 1]
        return obj

    document = json.loads(text, object_pairs_hook=build)
    return document, list(_repeated_key_paths(document, repeated, []))


def _repeated_key_paths(value: Any, repeated: dict, path: list) -> Iterable[list]:
    if isinstance(value, dict):
        yield from ([*path, key] for key in repeated.get(id(value), ()))
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return
    for key, child in children:
        yield from _repeated_key_paths(child, repeated, [*path, key])


def _repeated_key_problems(document: Any, paths: list[list]) -> Iterable[str]:
    for path in paths:
        yield _locate(document, path, f"key {path[-1]!r} given more than once (parsers keep only the last)")


# --- schema validation, with step errors dispatched by action key ----------------------------

def _schema_problems(document: Any, schema: dict, client: bool) -> Iterable[str]:
    validator = jsonschema.Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        path = list(error.absolute_path)
        if _is_step_path(path) and error.validator in ("oneOf", "anyOf"):
            yield from _step_schema_problems(document, path[1], path[3], schema, client)
        else:
            yield from (_locate(document, field_path, message) for field_path, message in _explain(error))


def _is_step_path(path: list) -> bool:
    return len(path) == 4 and path[0] == "scenarios" and path[2] == "steps"


def _step_schema_problems(document: dict, scenario_index: int, step_index: int, schema: dict,
                          client: bool) -> Iterable[str]:
    """The oneOf over step kinds says only "not valid under any"; check the kind the step names instead."""
    step = document["scenarios"][scenario_index]["steps"][step_index]
    where = _where(document, scenario_index, step_index)
    if not isinstance(step, dict):
        yield f"{where}: a step must be an object"
        return
    kind = _action_of(step)
    if kind is None:
        names = ", ".join(a for a in ACTIONS + ("mark",) if a not in (RELAY_ONLY if client else CLIENT_ONLY))
        yield f"{where}: a step needs exactly one action key ({names}), got {', '.join(step) or 'none'}"
        return
    wrong = _vocabulary_problem(kind, client)
    if wrong or f"{kind}_step" not in schema.get("$defs", {}):
        yield f"{where}: /{kind}: {wrong or 'not a step of this file kind'}"
        return
    sub_schema = {"$ref": f"#/$defs/{kind}_step", "$defs": schema["$defs"]}
    for error in jsonschema.Draft202012Validator(sub_schema).iter_errors(step):
        for field_path, message in _explain(error):
            yield f"{where}: {_pointer(field_path)}: {message}"


def _explain(error: jsonschema.ValidationError) -> Iterable[tuple[list, str]]:
    """(path, message) pairs; an unknown field is named by its own path rather than its parent's."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        allowed = ", ".join(known)
        for key in error.instance:
            if key not in known:
                yield path + [key], f"unknown field (allowed here: {allowed})"
        return
    yield path, error.message


def _action_of(step: dict) -> Optional[str]:
    # An expect step's `close` is a close matcher, not a second action.
    actions = [key for key in ACTIONS if key in step and not (key == "close" and "expect" in step)]
    if len(actions) == 1:
        return actions[0]
    if not actions and "mark" in step:
        return "mark"
    return None


# --- checks the schema cannot express ----------------------------------------------------------

def _vocabulary_problem(kind: str, client: bool) -> str:
    """Why a step of this action cannot be in this kind of file, or ""."""
    if client and kind in RELAY_ONLY:
        return "not a client-scenario step: the runner plays the relay here (a socket comes from an accept step)"
    if not client and kind in CLIENT_ONLY:
        return f'only in client-scenario files ("kind": "{CLIENT_KIND}"), where the runner plays the relay'
    return ""


def _semantic_problems(document: dict, profile: Profile, client: bool = False) -> Iterable[str]:
    seen_ids = set()
    pattern = profile.client_requirement_pattern if client else profile.requirement_pattern
    for index, raw in enumerate(document["scenarios"]):
        if raw["id"] in seen_ids:
            yield f"scenario {raw['id']}: id used twice in this file"
        seen_ids.add(raw["id"])
        for name, socket in raw["sockets"].items():
            clash = [key for key in profile.query_fields if key in socket]
            if "query" in socket and clash:
                yield f"scenario {raw['id']}: /sockets/{name}: query excludes {', '.join(clash)}"
            for key in socket:
                if key not in SOCKET_ADDRESS and key not in profile.query_fields:
                    yield (f"scenario {raw['id']}: /sockets/{name}/{key}: not a socket field of profile "
                           f"{profile.name}; give path and query instead")
            if client:
                yield from (f"scenario {raw['id']}: {p}" for p in _socket_pattern_problems(socket, f"/sockets/{name}"))
        for index_r, requirement in enumerate(raw["requirements"]):
            if not profile.is_requirement(requirement, client):
                yield (f"scenario {raw['id']}: /requirements/{index_r}: requirement {requirement!r} is not an id "
                       f"of profile {profile.name} ({pattern})")
        for step_index, step in enumerate(raw["steps"]):
            if "requirement" in step and not profile.is_requirement(step["requirement"], client):
                yield (f"{_where(document, index, step_index)}: /requirement: requirement {step['requirement']!r} "
                       f"is not an id of profile {profile.name} ({pattern})")
        yield from _step_order_problems(document, index, client)


def _socket_pattern_problems(socket: dict, pointer: str) -> Iterable[str]:
    """A client scenario's socket is a pattern over the request: every value, and lower-case header names."""
    for key, value in socket.items():
        if key != "headers":
            yield from pattern_problems(value, f"{pointer}/{key}")
    for header, value in socket.get("headers", {}).items():
        if header != header.lower():
            yield f"{pointer}/headers/{header}: header names must be lower case"
        yield from pattern_problems(value, f"{pointer}/headers/{header}")


SOCKET_ACTIONS = ("open", "send", "expect", "close", "drop", "accept", "no_connection")


def _step_order_problems(document: dict, scenario_index: int, client: bool = False) -> Iterable[str]:
    """Sockets exist, open (relay: once) before they are used; marks exist before they are used."""
    raw = document["scenarios"][scenario_index]
    opened, finished, marks = set(), set(), set()
    making = "accept" if client else "open"
    for step_index, step in enumerate(raw["steps"]):
        where = _where(document, scenario_index, step_index)
        kind = _action_of(step)
        socket = step.get(kind) if kind in SOCKET_ACTIONS else None
        wrong = _vocabulary_problem(kind, client) if kind else ""
        if wrong:
            yield f"{where}: /{kind}: {wrong}"
        elif socket is not None and socket not in raw["sockets"]:
            yield f"{where}: /{kind}: no socket named {socket!r} in /sockets"
        elif kind == "open" and socket in opened:
            yield f"{where}: /open: socket {socket!r} is already open"
        elif socket is not None and kind not in ("open", "accept", "no_connection") and socket not in opened:
            yield f"{where}: /{kind}: socket {socket!r} is used before its {making} step"
        elif kind in ("send", "close", "drop") and socket in finished:
            yield f"{where}: /{kind}: socket {socket!r} was already closed or dropped by this scenario"
        if kind == "open" and "refused" not in step or kind == "accept" and "refuse" not in step:
            opened.add(socket)
            finished.discard(socket)  # accepting a name again gives it to the new connection
        if kind in ("close", "drop"):
            finished.add(socket)
        yield from _step_content_problems(step, kind, where, marks)
        if step.get("mark"):
            marks.add(step["mark"])


def _step_content_problems(step: dict, kind: str, where: str, marks: set) -> Iterable[str]:
    if kind in ("expect", "accept"):
        yield from _window_problems(step, where, marks)
    if kind == "accept" and step.get("refuse"):
        for header in step["refuse"].get("headers", {}):
            if not header or any(c in header for c in " :\r\n"):
                yield f"{where}: /refuse/headers/{header}: not an HTTP header name"
    if kind == "send":
        payloads = [key for key in SEND_PAYLOADS if key in step]
        if len(payloads) != 1:
            yield f"{where}: a send needs exactly one of {', '.join(SEND_PAYLOADS)}, got {', '.join(payloads) or 'none'}"
    if kind == "expect":
        kinds = [key for key in EVENT_KINDS if key in step]
        if len(kinds) != 1:
            yield f"{where}: an expect needs exactly one of {', '.join(EVENT_KINDS)}, got {', '.join(kinds) or 'none'}"
        for pointer, frame in _frame_matchers(step):
            yield from (f"{where}: {p}" for p in _frame_matcher_problems(frame, pointer))
        for pointer, close in _close_matchers(step):
            yield from (f"{where}: {p}" for p in pattern_problems(close.get("reason"), f"{pointer}/reason"))
    for name, expectation in (("refused", step.get("refused")), ("response", step.get("response"))):
        if expectation:
            yield from (f"{where}: {p}" for p in pattern_problems(expectation.get("body"), f"/{name}/body"))
            for header, pattern in expectation.get("headers", {}).items():
                if header != header.lower():
                    yield f"{where}: /{name}/headers/{header}: header names must be lower case"
                yield from (f"{where}: {p}" for p in pattern_problems(pattern, f"/{name}/headers/{header}"))


def _window_problems(step: dict, where: str, marks: set) -> Iterable[str]:
    window = step.get("window")
    if window and "within_ms" in step:
        yield f"{where}: /window replaces /within_ms; give one of them"
    if window and window["after"] not in marks:
        yield f"{where}: /window/after: no earlier step sets mark {window['after']!r}"
    if window and window["max_ms"] < window["min_ms"]:
        yield f"{where}: /window: max_ms is below min_ms"


def _frame_matchers(step: dict) -> Iterable[tuple[str, dict]]:
    if "frame" in step:
        yield "/frame", step["frame"]
    for index, alternative in enumerate(step.get("one_of", [])):
        if "frame" in alternative:
            yield f"/one_of/{index}/frame", alternative["frame"]


def _close_matchers(step: dict) -> Iterable[tuple[str, dict]]:
    if isinstance(step.get("close"), dict):
        yield "/close", step["close"]
    for index, alternative in enumerate(step.get("one_of", [])):
        if "close" in alternative:
            yield f"/one_of/{index}/close", alternative["close"]


def _frame_matcher_problems(frame: dict, pointer: str) -> Iterable[str]:
    contents = [key for key in ("text", "json", "msgpack", "binary_hex") if key in frame]
    if len(contents) > 1:
        yield f"{pointer}: give at most one of text, json, msgpack, binary_hex"
    implied = _implied_type(frame)
    if "type" in frame and implied and frame["type"] != implied:
        yield f"{pointer}/type: {frame['type']} contradicts {contents[0]}, which implies {implied}"
    if "subset" in frame and "json" not in frame and "msgpack" not in frame:
        yield f"{pointer}/subset: applies only with json or msgpack"
    for key in ("text", "json", "msgpack"):
        if key in frame:
            yield from pattern_problems(frame[key], f"{pointer}/{key}")


def _implied_type(frame: dict) -> Optional[str]:
    if "text" in frame or "json" in frame:
        return "text"
    if "binary_hex" in frame or "msgpack" in frame:
        return "binary"
    return None


# --- building the model -----------------------------------------------------------------------

def _build_scenario(raw: dict, section: str, file: str, kind: str = "relay") -> model.Scenario:
    return model.Scenario(
        id=raw["id"],
        title=raw["title"],
        requirements=tuple(raw["requirements"]),
        level=raw["level"],
        tags=tuple(raw["tags"]),
        sockets={name: _build_socket(spec) for name, spec in raw["sockets"].items()},
        steps=tuple(_build_step(step) for step in raw["steps"]),
        timeout_ms=raw.get("timeout_ms", model.DEFAULT_TIMEOUT_MS),
        file=file,
        section=section,
        kind=kind,
    )


def _build_socket(raw: dict) -> model.SocketSpec:
    return model.SocketSpec(
        fields={key: value for key, value in raw.items() if key not in SOCKET_ADDRESS},
        query=raw.get("query"),
        path=raw.get("path"),
        headers=dict(raw.get("headers", {})),
    )


def _build_step(raw: dict) -> model.Step:
    kind = _action_of(raw)
    action = _ACTION_BUILDERS[kind](raw)
    return model.Step(action=action, source=raw, requirement=raw.get("requirement"),
                      note=raw.get("note"), mark=raw.get("mark"))


def _build_open(raw: dict) -> model.OpenStep:
    refused = raw.get("refused")
    return model.OpenStep(socket=raw["open"], refused=_build_http_expectation(refused) if refused else None)


def _build_send(raw: dict) -> model.SendStep:
    repeat = raw.get("repeat", 1)
    if "text" in raw:
        return model.SendStep(raw["send"], "text", raw["text"], repeat=repeat)
    if "json" in raw:
        return model.SendStep(raw["send"], "text", "", json=True, json_value=raw["json"], repeat=repeat)
    if "msgpack" in raw:
        return model.SendStep(raw["send"], "binary", b"", msgpack=True, json_value=raw["msgpack"], repeat=repeat)
    if "binary_hex" in raw:
        return model.SendStep(raw["send"], "binary", bytes.fromhex(raw["binary_hex"]), repeat=repeat)
    if "text_hex" in raw:  # a text frame with exactly these bytes, valid UTF-8 or not
        return model.SendStep(raw["send"], "text", bytes.fromhex(raw["text_hex"]), repeat=repeat)
    fill = raw["fill"]
    payload = bytes([fill.get("byte", DEFAULT_FILL_BYTE)]) * fill["size"]
    # A text fill is printable ASCII, so it is valid UTF-8 and never contains "${".
    return model.SendStep(raw["send"], fill["type"], payload, repeat=repeat)


def _build_expect(raw: dict) -> model.ExpectStep:
    if "one_of" in raw:
        alternatives = tuple(_build_event_matcher(alternative) for alternative in raw["one_of"])
    else:
        alternatives = (_build_event_matcher(raw),)
    return model.ExpectStep(
        socket=raw["expect"],
        alternatives=alternatives,
        within_ms=raw.get("within_ms"),
        window=_build_window(raw.get("window")),
        repeat=raw.get("repeat", 1),
        skip_other_frames=raw.get("skip_other_frames", False),
    )


def _build_event_matcher(raw: dict) -> model.EventMatcher:
    if "frame" in raw:
        frame = raw["frame"]
        binary = frame.get("binary_hex")
        return model.FrameMatcher(
            type=frame.get("type", _implied_type(frame)),
            text=frame.get("text"), has_text="text" in frame,
            json=frame.get("json"), has_json="json" in frame,
            msgpack=frame.get("msgpack"), has_msgpack="msgpack" in frame,
            subset=frame.get("subset", False),
            binary=bytes.fromhex(binary) if binary is not None else None,
            size=frame.get("size"),
            any=frame.get("any", False),
        )
    if "close" in raw:
        close = raw["close"]
        code = close.get("code", [])
        if isinstance(code, dict):
            return model.CloseMatcher(code_pattern=code, reason=close.get("reason"), has_reason="reason" in close)
        return model.CloseMatcher(codes=tuple(code) if isinstance(code, list) else (code,),
                                  reason=close.get("reason"), has_reason="reason" in close)
    if "ended" in raw:
        return model.EndedMatcher()
    return model.NothingMatcher()


def _build_close(raw: dict) -> model.CloseStep:
    return model.CloseStep(raw["close"], raw.get("code", 1000), raw.get("reason", ""))


def _build_drop(raw: dict) -> model.DropStep:
    return model.DropStep(raw["drop"])


def _build_http(raw: dict) -> model.HttpStep:
    request = raw["http"]
    return model.HttpStep(
        response=_build_http_expectation(raw["response"]),
        method=request.get("method", "GET"),
        path=request.get("path", "/"),
        query=request.get("query"),
        headers=dict(request.get("headers", {})),
    )


def _build_mark(raw: dict) -> model.MarkStep:
    return model.MarkStep()


def _build_window(window: Optional[dict]) -> Optional[model.Window]:
    return model.Window(window["after"], window["min_ms"], window["max_ms"]) if window else None


def _build_accept(raw: dict) -> model.AcceptStep:
    refuse = raw.get("refuse")
    refusal = model.Refusal(refuse.get("status", 503), refuse.get("body", ""), dict(refuse.get("headers", {}))) if refuse else None
    return model.AcceptStep(raw["accept"], refusal, raw.get("within_ms"), _build_window(raw.get("window")))


def _build_no_connection(raw: dict) -> model.NoConnectionStep:
    return model.NoConnectionStep(raw["no_connection"], raw.get("within_ms", model.DEFAULT_NOTHING_MS))


def _build_http_expectation(raw: dict) -> model.HttpExpectation:
    return model.HttpExpectation(status=raw["status"], body=raw.get("body"), has_body="body" in raw,
                                 headers=dict(raw.get("headers", {})))


_ACTION_BUILDERS = {
    "open": _build_open, "send": _build_send, "expect": _build_expect, "close": _build_close,
    "drop": _build_drop, "http": _build_http, "mark": _build_mark, "accept": _build_accept,
    "no_connection": _build_no_connection,
}


# --- locating problems --------------------------------------------------------------------------

def _locate(document: Any, path: list, message: str) -> str:
    """`scenario ID step N: /field: message`, or `/pointer: message` above the scenario level."""
    if len(path) >= 2 and path[0] == "scenarios" and isinstance(path[1], int):
        if len(path) >= 4 and path[2] == "steps" and isinstance(path[3], int):
            return f"{_where(document, path[1], path[3])}: {_pointer(path[4:])}: {message}"
        return f"{_scenario_name(document, path[1])}: {_pointer(path[2:])}: {message}"
    return f"{_pointer(path)}: {message}"


def _where(document: dict, scenario_index: int, step_index: int) -> str:
    """Steps are numbered from 1 in every report, as in the C++ runner's."""
    return f"{_scenario_name(document, scenario_index)} step {step_index + 1}"


def _scenario_name(document: dict, index: int) -> str:
    raw = document["scenarios"][index]
    scenario_id = raw.get("id") if isinstance(raw, dict) else None
    return f"scenario {scenario_id}" if isinstance(scenario_id, str) else f"scenario #{index}"


def _pointer(path: list) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path) if path else "/"
