"""Plain websockets clients for the reference-relay checks, independent of the harness's own client."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import websockets


def server_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def connect(relay_url: str, **query: str):
    """websockets.connect to /ws with these query fields: no compression, no pings, no size cap."""
    return websockets.connect(f"{relay_url}/ws?{urlencode(query)}", compression=None, ping_interval=None,
                              max_size=None, open_timeout=10, close_timeout=2)
