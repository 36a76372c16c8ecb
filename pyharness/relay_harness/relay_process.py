"""The reference relay as a child process on an ephemeral port: `reference-relay --port 0` prints its
ws:// URL as the first stdout line and logs to stderr; SIGTERM stops it."""

from __future__ import annotations

import os
import selectors
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


class RelayStartError(Exception):
    """The relay binary is missing, exited, or printed no URL in time."""


class RelayProcess:
    """A running reference relay; `url` is where it listens."""

    def __init__(self, process: subprocess.Popen, url: str, log: tempfile.TemporaryFile) -> None:
        self.process, self.url, self._log = process, url, log

    @classmethod
    def start(cls, binary: Path, *args: str, timeout_s: float = START_TIMEOUT_S) -> "RelayProcess":
        if not os.access(binary, os.X_OK):
            raise RelayStartError(f"no relay binary at {binary} (build it with: bash .ci/setup)")
        log = tempfile.TemporaryFile()  # stderr goes to a file so a chatty relay never blocks on a pipe
        process = subprocess.Popen([str(binary), "--port", "0", "--host", "127.0.0.1", *args],
                                   stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        try:
            url = first_line(process, timeout_s)
        except RelayStartError:
            process.kill()
            process.wait(STOP_TIMEOUT_S)
            raise
        return cls(process, url, log)

    def stop(self) -> None:
        stop(self.process)
        self.process.stdout.close()
        self._log.close()

    def stderr_tail(self, lines: int = 20) -> str:
        self._log.seek(0)
        return "\n".join(self._log.read().decode("utf-8", errors="replace").splitlines()[-lines:])

    def __enter__(self) -> "RelayProcess":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def stop(process: subprocess.Popen) -> int:
    """SIGTERM, then SIGKILL if it does not go; returns the exit status."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)
    return process.returncode


def stdout_lines(process: subprocess.Popen, count: int, timeout_s: float = START_TIMEOUT_S) -> list[str]:
    """The first `count` lines a child prints (the reference relay: its ws:// URL, then with --admin-port
    its admin URL); gives up at the deadline or when the process exits."""
    deadline = time.monotonic() + timeout_s
    received = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while received.count(b"\n") < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RelayStartError(f"relay printed {received!r}, not {count} line(s), within {timeout_s:g} s")
            if selector.select(remaining):
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    raise RelayStartError(
                        f"relay exited with status {process.wait(STOP_TIMEOUT_S)} after printing {received!r}")
                received += chunk
    return [line.decode("utf-8", errors="replace").strip() for line in received.split(b"\n")[:count]]


def first_line(process: subprocess.Popen, timeout_s: float = START_TIMEOUT_S) -> str:
    """The ws:// URL a child announces as its first stdout line (the reference relay, the latency
    proxy)."""
    url = stdout_lines(process, 1, timeout_s)[0]
    if not url.startswith("ws://"):
        raise RelayStartError(f"relay's first line is not a ws:// URL: {url!r}")
    return url
