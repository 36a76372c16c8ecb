"""A scenario in memory: what docs/scenario-format.md describes, already validated against
scenarios/scenario.schema.json. Plain data; the loader builds it, the interpreter walks it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

DEFAULT_TIMEOUT_MS = 30000
DEFAULT_NOTHING_MS = 1000


@dataclass(frozen=True)
class SocketSpec:
    """How a socket is addressed; the profile turns it into a request target (profile.socket_target).
    In a client scenario every value is a pattern over the request the client makes (listener.py)."""
    fields: dict[str, Any] = field(default_factory=dict)  # the profile's query fields given (Paseo: serverId, v, role, connectionId)
    query: Any = None  # verbatim; excludes the fields
    path: Any = None  # None: the profile's
    headers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpExpectation:
    status: int
    body: Any = None  # a pattern; None: not checked
    has_body: bool = False
    headers: dict[str, Any] = field(default_factory=dict)  # lower-case name -> pattern


@dataclass(frozen=True)
class FrameMatcher:
    type: Optional[str] = None  # "text" | "binary", explicit or implied
    text: Any = None
    has_text: bool = False
    json: Any = None
    has_json: bool = False
    msgpack: Any = None  # a pattern over the binary payload decoded as MessagePack
    has_msgpack: bool = False
    subset: bool = False
    binary: Optional[bytes] = None
    size: Optional[int] = None
    any: bool = False


@dataclass(frozen=True)
class CloseMatcher:
    codes: tuple[int, ...] = ()  # empty: any code
    code_pattern: Any = None  # instead of codes: a pattern over the code, e.g. with a $strict code
    reason: Any = None
    has_reason: bool = False


@dataclass(frozen=True)
class EndedMatcher:
    pass


@dataclass(frozen=True)
class NothingMatcher:
    pass


EventMatcher = Union[FrameMatcher, CloseMatcher, EndedMatcher, NothingMatcher]


@dataclass(frozen=True)
class Window:
    after: str
    min_ms: int
    max_ms: int


@dataclass(frozen=True)
class OpenStep:
    socket: str
    refused: Optional[HttpExpectation] = None


@dataclass(frozen=True)
class SendStep:
    socket: str
    type: str  # "text" | "binary"
    payload: Union[str, bytes]  # str: substituted before sending; bytes: sent as they are
    json: bool = False  # payload is a JSON value to substitute and serialize
    json_value: Any = None
    msgpack: bool = False  # json_value is substituted and sent as MessagePack (a binary frame)
    repeat: int = 1


@dataclass(frozen=True)
class ExpectStep:
    socket: str
    alternatives: tuple[EventMatcher, ...]
    within_ms: Optional[int] = None
    window: Optional[Window] = None
    repeat: int = 1
    skip_other_frames: bool = False


@dataclass(frozen=True)
class CloseStep:
    socket: str
    code: int = 1000
    reason: str = ""


@dataclass(frozen=True)
class DropStep:
    socket: str


@dataclass(frozen=True)
class HttpStep:
    response: HttpExpectation
    method: str = "GET"
    path: str = "/"
    query: Optional[str] = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MarkStep:
    pass


@dataclass(frozen=True)
class Refusal:
    """The HTTP response a client-scenario `accept` step refuses a handshake with."""
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AcceptStep:
    """Client scenarios: the next connection matching the socket's pattern gets a 101 (or `refuse`),
    waited for `within_ms` (None: the step timeout) plus the allowance, or in `window`."""
    socket: str
    refuse: Optional[Refusal] = None  # None: accept
    within_ms: Optional[int] = None
    window: Optional[Window] = None


@dataclass(frozen=True)
class NoConnectionStep:
    """Client scenarios: no connection matching the socket's pattern arrives for a quiet period."""
    socket: str
    within_ms: int = DEFAULT_NOTHING_MS


Action = Union[OpenStep, SendStep, ExpectStep, CloseStep, DropStep, HttpStep, MarkStep, AcceptStep, NoConnectionStep]


@dataclass(frozen=True)
class Step:
    action: Action
    source: dict  # the step as written, for reports
    requirement: Optional[str] = None
    note: Optional[str] = None
    mark: Optional[str] = None


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    requirements: tuple[str, ...]
    level: str
    tags: tuple[str, ...]
    sockets: dict[str, SocketSpec]
    steps: tuple[Step, ...]
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    file: str = ""
    section: str = ""
    kind: str = "relay"  # "client": the runner plays the relay and checks the client that connects

    def requirement_of(self, step_index: Optional[int]) -> str:
        """A failure is attributed to the failing step's requirement, else the scenario's first."""
        if step_index is not None and self.steps[step_index].requirement:
            return self.steps[step_index].requirement
        return self.requirements[0]
