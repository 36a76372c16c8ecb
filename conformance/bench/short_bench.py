#!/usr/bin/python3
"""A short run of every bench scenario (and of 1 MiB frames) against the reference relay, for CI (CTest label `bench`).

Prints the figures and fails only on gross regressions: the thresholds are far below what the relay
does on a loaded 2-core machine (docs/performance.md), so timing noise cannot trip them.

Usage: short_bench.py RELAY_BINARY RUNNER_BINARY
"""
import json
import os
import select
import subprocess
import sys
import tempfile

MIN_SUSTAINED_FRAMES_PER_S = 50_000
MIN_RECONNECT_CYCLES_PER_S = 500
URL_DEADLINE_S = 10


def pinned(command, core):
    """Relay and bench on separate cores when there are two, as docs/performance.md measures."""
    return ["taskset", "-c", str(core)] + command if os.cpu_count() and os.cpu_count() >= 2 else command


def start_relay(binary):
    relay = subprocess.Popen(pinned([binary, "--port", "0", "--log-level", "warn"], 0),
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    # The first stdout line is the URL; a relay that prints none by the deadline is killed.
    ready, _, _ = select.select([relay.stdout], [], [], URL_DEADLINE_S)
    line = relay.stdout.readline().strip() if ready else ""
    if not line.startswith("ws://"):
        relay.kill()
        sys.exit(f"short_bench: the reference relay printed no URL (got {line!r})")
    return relay, line


def bench(runner, url, relay_pid, *args):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [runner, "bench", "--url", url, "--relay-pid", str(relay_pid), "--json", out.name, *args]
        if os.cpu_count() and os.cpu_count() >= 2:
            command += ["--cpu", "1"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        print(done.stdout, end="", flush=True)
        if done.returncode != 0:
            sys.exit(f"short_bench: {' '.join(command)} failed: {done.stderr.strip()}")
        return json.load(open(out.name))


def main(relay_binary, runner):
    relay, url = start_relay(relay_binary)
    problems = []
    try:
        sustained = bench(runner, url, relay.pid, "--scenario", "sustained", "--pairs", "20", "--rate", "2500",
                          "--duration", "3", "--warmup", "1")
        frames = sustained["frames"]
        if frames["lost"] or frames["steady_delivered_per_s"] < MIN_SUSTAINED_FRAMES_PER_S:
            problems.append(f"sustained: {frames['steady_delivered_per_s']:.0f} frames/s delivered, {frames['lost']} lost; "
                            f"expected at least {MIN_SUSTAINED_FRAMES_PER_S} frames/s and none lost")
        large = bench(runner, url, relay.pid, "--scenario", "sustained", "--pairs", "2", "--rate", "50",
                      "--payload", "1048576", "--duration", "2", "--warmup", "0.5")
        if large["frames"]["lost"] or large["frames"]["out_of_order"] or not large["frames"]["steady_delivered"]:
            problems.append(f"1 MiB frames: {large['frames']['steady_delivered']} delivered, {large['frames']['lost']} lost, "
                            f"{large['frames']['out_of_order']} out of order; expected some delivered, none lost or reordered")
        idle = bench(runner, url, relay.pid, "--scenario", "idle", "--pairs", "2000", "--duration", "1")
        if idle["sockets"]["failed"]:
            problems.append(f"idle: {idle['sockets']['failed']} of {idle['sockets']['requested']} sockets failed to open")
        fanout = bench(runner, url, relay.pid, "--scenario", "fanout", "--pairs", "20", "--fanout-clients", "4",
                       "--rate", "500", "--duration", "2", "--warmup", "0.5")
        if fanout["frames"]["lost"]:
            problems.append(f"fanout: {fanout['frames']['lost']} frames lost")
        reconnect = bench(runner, url, relay.pid, "--scenario", "reconnect", "--pairs", "20", "--duration", "2",
                          "--warmup", "0.5")
        cycles = reconnect["reconnect"]
        if cycles["failures"] or cycles["cycles_per_s"] < MIN_RECONNECT_CYCLES_PER_S:
            problems.append(f"reconnect: {cycles['cycles_per_s']:.0f} cycles/s, {cycles['failures']} failures; "
                            f"expected at least {MIN_RECONNECT_CYCLES_PER_S} cycles/s and none failing")
    finally:
        relay.terminate()
        relay.wait(timeout=10)
    for problem in problems:
        print(f"short_bench: REGRESSION {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
