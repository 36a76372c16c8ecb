"""What the model daemon and the model app share as processes: a timestamped log line on stderr for
failure reports, and running the client until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from typing import Awaitable, Callable, Sequence

_T0 = time.monotonic()


def log(text: str) -> None:
    print(f"[{time.monotonic() - _T0:8.3f}] {text}", file=sys.stderr, flush=True)


async def run_until_signalled(run: Awaitable[None], stop: Callable[[], None]) -> None:
    """Runs the client until it ends or a signal comes; then `stop()` aborts its sockets. An error the
    client itself ended with is raised, so the process exits non-zero."""
    signalled = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, signalled.set)
    runner = asyncio.ensure_future(run)
    waiter = asyncio.ensure_future(signalled.wait())
    await asyncio.wait([runner, waiter], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    log("stopping")
    runner.cancel()
    await stop()
    await asyncio.gather(runner, return_exceptions=True)
    if runner.done() and not runner.cancelled() and runner.exception() is not None:
        raise runner.exception()


def parse_args(description: str, modes: Sequence[str], server_id: str, argv: Sequence[str], epilog: str | None = None):
    """--url (the relay's base URL), --server-id and --mode, as both models take them."""
    parser = argparse.ArgumentParser(description=description, epilog=epilog)
    parser.add_argument("--url", required=True, help="the relay's base URL, ws://HOST:PORT")
    parser.add_argument("--server-id", default=server_id)
    parser.add_argument("--mode", choices=modes, default="good")
    return parser.parse_args(argv)
