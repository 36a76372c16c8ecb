"""Value patterns (docs/scenario-format.md, "Patterns"): literal JSON with $-matchers, captures and
${variables}, and `$strict` for the NON-STRICT grade. Shared by frame, close and HTTP matching; checked
against scenarios/matcher-vectors.json."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

MATCHER_KEYS = frozenset({"$any", "$absent", "$integer", "$min", "$max", "$regex", "$capture", "$strict"})

# A key the received object does not have (distinct from a present null).
MISSING = object()

_VARIABLE = re.compile(r"\$\$\{|\$\{([^}]*)\}")


class UnknownVariable(Exception):
    """A ${name} with no value: a fault of the scenario, not of the relay."""


@dataclass
class MatchResult:
    matched: bool
    captures: dict[str, Any] = field(default_factory=dict)
    why: str = ""  # one line when not matched, e.g. `at /ts: expected an integer, got "12"`
    # When matched: every `$strict` pattern that did not hold, one line each (the NON-STRICT grade).
    differences: list[str] = field(default_factory=list)

    @property
    def nonstrict(self) -> bool:
        return bool(self.differences)


def compact(value: Any) -> str:
    """JSON as the wire carries it: compact, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def substitute(text: str, variables: dict[str, Any]) -> str:
    """Replaces ${name} (strings as they are, other values as compact JSON) and $${ with ${."""

    def replace(found: re.Match) -> str:
        if found.group(0) == "$${":
            return "${"
        name = found.group(1)
        if name not in variables:
            raise UnknownVariable(f"unknown variable ${{{name}}}")
        value = variables[name]
        return value if isinstance(value, str) else compact(value)

    return _VARIABLE.sub(replace, text)


def substitute_json(value: Any, variables: dict[str, Any]) -> Any:
    """Substitutes every string inside a JSON value (for `send` with `json`)."""
    if isinstance(value, str):
        return substitute(value, variables)
    if isinstance(value, list):
        return [substitute_json(item, variables) for item in value]
    if isinstance(value, dict):
        return {substitute(key, variables): substitute_json(item, variables) for key, item in value.items()}
    return value


def is_matcher(pattern: Any) -> bool:
    return isinstance(pattern, dict) and any(key.startswith("$") for key in pattern)


def pattern_problems(pattern: Any, pointer: str = "") -> list[str]:
    """Static faults of a pattern (unknown $-keys, bad operand types), as `pointer: problem` lines."""
    if isinstance(pattern, list):
        return [p for i, item in enumerate(pattern) for p in pattern_problems(item, f"{pointer}/{i}")]
    if not isinstance(pattern, dict):
        return []
    if not is_matcher(pattern):
        return [p for key, item in pattern.items() for p in pattern_problems(item, f"{pointer}/{_escape(key)}")]
    problems = [f"{pointer or '/'}: unknown matcher key {key}" for key in pattern if key not in MATCHER_KEYS]
    for flag in ("$any", "$absent", "$integer"):
        if flag in pattern and pattern[flag] is not True:
            problems.append(f"{pointer or '/'}: {flag} must be true")
    for bound in ("$min", "$max"):
        if bound in pattern and not _is_number(pattern[bound]):
            problems.append(f"{pointer or '/'}: {bound} must be a number")
    for text_key in ("$regex", "$capture"):
        if text_key in pattern and not isinstance(pattern[text_key], str):
            problems.append(f"{pointer or '/'}: {text_key} must be a string")
    if isinstance(pattern.get("$regex"), str):
        try:
            re.compile(pattern["$regex"])
        except re.error as error:
            problems.append(f"{pointer or '/'}: $regex does not compile: {error}")
    if "$strict" in pattern:
        problems += pattern_problems(pattern["$strict"], f"{pointer}/$strict")
    return problems


def match(pattern: Any, value: Any, subset: bool = False, variables: dict[str, Any] | None = None) -> MatchResult:
    """Matches a present value. Raises UnknownVariable."""
    return match_member(pattern, value, subset, variables)


def match_member(pattern: Any, value: Any, subset: bool = False,
                 variables: dict[str, Any] | None = None) -> MatchResult:
    """Like match, but `value` may be MISSING (an absent object key or HTTP header)."""
    ctx = _Context(subset, variables or {}, {}, [])
    why = _match(pattern, value, "", ctx)
    return MatchResult(True, ctx.captures, differences=ctx.differences) if why is None else MatchResult(False, {}, why)


def describe(pattern: Any, variables: dict[str, Any] | None = None) -> str:
    """A pattern for a person: `any integer >= 0`, `string matching /conn_[0-9a-f]{16}/`, or the JSON."""
    if is_matcher(pattern):
        return _describe_matcher(pattern, variables)
    if isinstance(pattern, str):
        return compact(_display_string(pattern, variables or {}))
    if isinstance(pattern, list):
        return "[" + ",".join(describe(item, variables) for item in pattern) + "]"
    if isinstance(pattern, dict):
        members = (f"{compact(key)}:{describe(item, variables)}" for key, item in pattern.items())
        return "{" + ",".join(members) + "}"
    return compact(pattern)


# ---------------------------------------------------------------------------------------------

@dataclass
class _Context:
    subset: bool
    variables: dict[str, Any]
    captures: dict[str, Any]
    differences: list[str]


def _match(pattern: Any, value: Any, pointer: str, ctx: _Context) -> str | None:
    """None when `value` matches, else why not (one line)."""
    if is_matcher(pattern):
        return _match_matcher(pattern, value, pointer, ctx)
    if value is MISSING:
        return f"at {pointer or '/'}: missing, expected {describe(pattern, ctx.variables)}"
    if isinstance(pattern, dict):
        return _match_object(pattern, value, pointer, ctx)
    if isinstance(pattern, list):
        return _match_array(pattern, value, pointer, ctx)
    if isinstance(pattern, str):
        expected = substitute(pattern, ctx.variables)
        return None if value == expected and isinstance(value, str) else _differs(pointer, expected, value)
    if isinstance(pattern, bool) or pattern is None:
        return None if value is pattern else _differs(pointer, pattern, value)
    # A number: equal by value, never to a boolean.
    return None if _is_number(value) and value == pattern else _differs(pointer, pattern, value)


def _match_object(pattern: dict, value: Any, pointer: str, ctx: _Context) -> str | None:
    if not isinstance(value, dict):
        return f"at {pointer or '/'}: expected an object, got {_show(value)}"
    for key, item in pattern.items():
        why = _match(item, value.get(key, MISSING), f"{pointer}/{_escape(key)}", ctx)
        if why:
            return why
    extra = [key for key in value if key not in pattern]
    if extra and not ctx.subset:
        return f"at {pointer or '/'}: unexpected key {compact(extra[0])}"
    return None


def _match_array(pattern: list, value: Any, pointer: str, ctx: _Context) -> str | None:
    if not isinstance(value, list):
        return f"at {pointer or '/'}: expected an array, got {_show(value)}"
    if len(value) != len(pattern):
        return f"at {pointer or '/'}: expected {len(pattern)} elements, got {len(value)}"
    for index, (item, element) in enumerate(zip(pattern, value)):
        why = _match(item, element, f"{pointer}/{index}", ctx)
        if why:
            return why
    return None


def _match_matcher(pattern: dict, value: Any, pointer: str, ctx: _Context) -> str | None:
    why = _matcher_checks(pattern, value, pointer or "/")
    if why is None and "$strict" in pattern:
        _check_strict(pattern["$strict"], value, pointer, ctx)
    if why is None and "$capture" in pattern and value is not MISSING:
        ctx.captures[pattern["$capture"]] = value
    return why


def _check_strict(strict: Any, value: Any, pointer: str, ctx: _Context) -> None:
    """The outer keys decided the match; the $strict pattern only grades it. Its captures are dropped,
    differences nested inside it are kept."""
    scratch = _Context(ctx.subset, ctx.variables, {}, ctx.differences)
    why = _match(strict, value, pointer, scratch)
    if why:
        ctx.differences.append(why)


def _matcher_checks(pattern: dict, value: Any, where: str) -> str | None:
    if pattern.get("$absent"):
        return None if value is MISSING else f"at {where}: expected no value, got {_show(value)}"
    if value is MISSING:
        return f"at {where}: missing, expected {_describe_matcher(pattern)}"
    if pattern.get("$integer") and not (isinstance(value, int) and not isinstance(value, bool)):
        return f"at {where}: expected an integer, got {_show(value)}"
    if "$min" in pattern or "$max" in pattern:
        if not _is_number(value):
            return f"at {where}: expected a number, got {_show(value)}"
        if "$min" in pattern and value < pattern["$min"]:
            return f"at {where}: expected at least {pattern['$min']}, got {_show(value)}"
        if "$max" in pattern and value > pattern["$max"]:
            return f"at {where}: expected at most {pattern['$max']}, got {_show(value)}"
    if "$regex" in pattern:
        # Regular expressions are never substituted: `$` and `{` mean what they mean there.
        if not isinstance(value, str) or re.fullmatch(pattern["$regex"], value) is None:
            return f"at {where}: expected a string matching /{pattern['$regex']}/, got {_show(value)}"
    return None


def _describe_matcher(pattern: dict, variables: dict[str, Any] | None = None) -> str:
    if pattern.get("$absent"):
        return "absent"
    parts = []
    if pattern.get("$integer"):
        parts.append("any integer")
    if "$min" in pattern:
        parts.append(f">= {pattern['$min']}")
    if "$max" in pattern:
        parts.append(f"<= {pattern['$max']}")
    if "$regex" in pattern:
        parts.append(f"a string matching /{pattern['$regex']}/")
    if not parts:
        parts.append("any value")
    if "$capture" in pattern:
        parts.append(f"(captured as ${{{pattern['$capture']}}})")
    if "$strict" in pattern:
        parts.append(f"(strictly {describe(pattern['$strict'], variables)})")
    return " ".join(parts)


def _display_string(pattern: str, variables: dict[str, Any]) -> str:
    try:
        return substitute(pattern, variables)
    except UnknownVariable:
        return pattern


def _differs(pointer: str, expected: Any, value: Any) -> str:
    return f"at {pointer or '/'}: expected {_show(expected)}, got {_show(value)}"


def _show(value: Any) -> str:
    text = compact(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _escape(key: str) -> str:
    """A key as a JSON pointer token (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")
