#!/usr/bin/python3
"""Keeps N cores busy for a bounded time, to test the runners on a loaded machine.

    cpu_burner.py --cores 2 --seconds 120

Starts N busy-looping worker processes, prints `burning N cores for S s` as its first stdout line once
they are running, and exits 0 when they are done. SIGTERM or SIGINT stops the workers at once. Each worker
also stops by itself at the deadline, and as soon as its parent is gone, so a crashed or killed test never
leaves cores burning.

From Python (the context manager runs this file as a child process and stops it on exit):

    with CpuBurner(cores=2, seconds=120):
        ...
"""

from __future__ import annotations

import argparse
import os
import selectors
import signal
import subprocess
import sys
import time

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


def burn(deadline: float, parent: int) -> None:
    """Spins until the deadline; looks at the clock and the parent only every ~100k iterations."""
    while time.monotonic() < deadline and os.getppid() == parent:
        for _ in range(100_000):
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Keep N cores busy for at most S seconds.")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="busy processes (default: every core)")
    parser.add_argument("--seconds", type=float, required=True, help="stop after this long, whatever happens")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cores < 1 or not 0 < args.seconds <= 3600:
        print("cpu_burner: --cores must be at least 1 and --seconds in (0, 3600]", file=sys.stderr)
        return 2
    if args.worker:
        burn(time.monotonic() + args.seconds, os.getppid())
        return 0

    workers = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", "--seconds", str(args.seconds)],
                                stdin=subprocess.DEVNULL) for _ in range(args.cores)]

    def stop(signum, frame):
        for worker in workers:
            worker.kill()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"burning {args.cores} cores for {args.seconds:g} s", flush=True)
    for worker in workers:
        # Workers stop at the deadline by themselves; the margin only covers a very busy machine.
        try:
            worker.wait(args.seconds + STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    return 0


class CpuBurner:
    """`cpu_burner.py` as a child process for the length of a with block."""

    def __init__(self, cores: int, seconds: float) -> None:
        self.cores, self.seconds = cores, seconds
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "CpuBurner":
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--cores", str(self.cores),
                                         "--seconds", str(self.seconds)],
                                        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        # Returns once the workers run (the first line), or fails when the burner dies or stalls first.
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            ready = selector.select(START_TIMEOUT_S)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("burning"):
            self.__exit__()
            raise RuntimeError(f"cpu_burner did not start within {START_TIMEOUT_S:g} s (exit {self.process.poll()})")
        return self

    def __exit__(self, *exc_info) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_S)
        self.process.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
