"""A protocol profile (profiles/NAME/profile.json, profiles/profile.schema.json): which requirements
document and scenario folder belong to one relay protocol, the variables every scenario run gets fresh,
and how a scenario's socket becomes a request target. Paseo is the default profile. The C++ runner reads
the same files (conformance/scenario/profile.cpp)."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

import jsonschema

from .patterns import substitute

DEFAULT_PROFILE = "paseo"
CLIENT_REQUIREMENT_PATTERN = "^(DAEMON|APP)-[0-9]+$"  # a profile that names none


class ProfileError(Exception):
    """One line per problem: `FILE: /field: message`, or an unknown profile with the known ones."""


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    requirements: Optional[Path]  # the requirements document, resolved
    requirement_pattern: str  # every requirement id the profile's scenarios cite matches it
    scenarios: Optional[Path]  # the scenario folder, resolved
    variables: tuple[str, ...]  # fresh and unique per scenario run, like ${serverId}
    socket_path: str = "/ws"  # a socket's path when it gives none
    query_fields: tuple[str, ...] = ()  # socket fields that become the query, in this order
    defaults: dict[str, str] = field(default_factory=dict)  # query field -> value when left out
    clients: str = ""  # whose clients depend on the relay, for report headlines; "" = the title
    # Client checks (the runner plays the relay): their requirements, id pattern and scenario folder.
    client_requirements: Optional[Path] = None
    client_requirement_pattern: str = CLIENT_REQUIREMENT_PATTERN
    client_scenarios: Optional[Path] = None

    def is_requirement(self, requirement_id: str, client: bool = False) -> bool:
        pattern = self.client_requirement_pattern if client else self.requirement_pattern
        return re.search(pattern, requirement_id) is not None


PASEO = Profile(name="paseo", title="Paseo relay protocol", requirements=None,
                requirement_pattern=r"^[A-Z0-9]+(-[A-Z0-9]+)*-[0-9]+$", scenarios=None,
                variables=("serverId",), socket_path="/ws",
                query_fields=("serverId", "v", "role", "connectionId"), defaults={"serverId": "${serverId}"},
                clients="Paseo")
"""Paseo's addressing and variables, for loaders and interpreters given no profile."""


def load_profile(path: Path, root: Path) -> Profile:
    """One profile file; its paths are relative to `root` (the folder holding profiles/)."""
    document = _read_json(path)
    schema = _read_json(root / "profiles" / "profile.schema.json")
    problems = [f"{path}: {_pointer(list(error.absolute_path))}: {error.message}"
                for error in sorted(jsonschema.Draft202012Validator(schema).iter_errors(document),
                                    key=lambda e: list(e.absolute_path))]
    if not problems:
        for key in ("requirement_pattern", "client_requirement_pattern"):
            try:
                re.compile(document.get(key, ""))
            except re.error:
                problems.append(f"{path}: /{key}: not a valid regular expression")
        sockets = document["sockets"]
        for name in sockets.get("defaults", {}):
            if name not in sockets.get("query_fields", []):
                problems.append(f"{path}: /sockets/defaults/{name}: not one of /sockets/query_fields")
        seen = set()
        for name in document["variables"]:
            if name in seen:
                problems.append(f'{path}: /variables: "{name}" given twice')
            seen.add(name)
    if problems:
        raise ProfileError("\n".join(problems))
    sockets = document["sockets"]
    return Profile(name=document["name"], title=document["title"], requirements=root / document["requirements"],
                   requirement_pattern=document["requirement_pattern"], scenarios=root / document["scenarios"],
                   variables=tuple(document["variables"]), socket_path=sockets["path"],
                   query_fields=tuple(sockets.get("query_fields", ())), defaults=dict(sockets.get("defaults", {})),
                   clients=document.get("clients", document["title"]),
                   client_requirements=_optional_path(root, document.get("client_requirements")),
                   client_requirement_pattern=document.get("client_requirement_pattern", CLIENT_REQUIREMENT_PATTERN),
                   client_scenarios=_optional_path(root, document.get("client_scenarios")))


def _optional_path(root: Path, relative: Optional[str]) -> Optional[Path]:
    return root / relative if relative else None


def known_profiles(root: Path) -> list[str]:
    """Names of every root/profiles/*/profile.json, sorted."""
    return sorted(p.parent.name for p in (root / "profiles").glob("*/profile.json"))


def find_profile(root: Path, name: str) -> Profile:
    known = known_profiles(root)
    if name not in known:
        raise ProfileError(f'unknown profile "{name}"; known profiles: {", ".join(known) or "none"}')
    return load_profile(root / "profiles" / name / "profile.json", root)


def socket_target(spec, profile: Profile, variables: dict[str, Any]) -> str:
    """The request target of a socket: its path (or the profile's) and its query, variables
    substituted; the profile's query fields percent-encoded (as encodeURIComponent), in its order."""
    if spec.query is not None:
        query = substitute(spec.query, variables)
    else:
        given = {name: spec.fields.get(name, profile.defaults.get(name)) for name in profile.query_fields}
        query = "&".join(f"{name}={quote(substitute(value, variables), safe=_UNRESERVED)}"
                         for name, value in given.items() if value is not None)
    path = substitute(spec.path if spec.path is not None else profile.socket_path, variables)
    return path + ("?" + query if query else "")


_UNRESERVED = "-_.!~*'()"  # what encodeURIComponent leaves as it is, besides letters and digits


def fresh_variables(profile: Profile, scenario_id: str) -> dict[str, Any]:
    """A fresh value for each of the profile's variables: the scenario id, a dash and 8 random hex digits
    (as the C++ runner: a scenario may depend on the length, e.g. an exact frame size)."""
    return {name: f"{scenario_id}-{secrets.token_hex(4)}" for name in profile.variables}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ProfileError(f"{path}: cannot be read: {error.strerror}") from None
    except ValueError as error:
        raise ProfileError(f"{path}: not valid JSON: {error}") from None


def _pointer(path: list) -> str:
    return "/" + "/".join(str(part) for part in path) if path else "/"
