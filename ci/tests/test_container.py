"""The container recipe (deploy/container/Containerfile) end to end: builds the Debian package, builds
the image from it with podman, runs it on the host's network as the recipe says, and checks that it
serves as nobody, forwards a frame, and on `podman stop` drains (/ready 503, still serving) before
closing its sockets with 1001 and exiting 0. And the systemd unit under a real systemd, booted in a
container with the package installed: the relay runs with the unit's restrictions in force, passes the
scenario library, and `systemctl stop` drains it the same way.

Skipped unless podman and the base image are already here: tests pull nothing. Where podman needs
options for this machine (storage driver, runtime, limits it may not raise), give them in
RELAY_CONTAINER_PODMAN (global options) and RELAY_CONTAINER_RUN_ARGS (for build and run), e.g.
  RELAY_CONTAINER_BASE=localhost/relay-base:bookworm
  RELAY_CONTAINER_PODMAN="--storage-driver vfs --runtime runc --cgroup-manager cgroupfs"
  RELAY_CONTAINER_RUN_ARGS="--ulimit nofile=20000:20000 --ulimit nproc=32768:32768"
"""

import asyncio
import os
import shlex
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RELAY_CONFORMANCE_BUILD", ROOT / "build"))
CONTAINERFILE = ROOT / "deploy" / "container" / "Containerfile"
BASE = os.environ.get("RELAY_CONTAINER_BASE", "docker.io/library/debian:bookworm-slim")
PODMAN = ["podman", *shlex.split(os.environ.get("RELAY_CONTAINER_PODMAN", ""))]
MACHINE_ARGS = shlex.split(os.environ.get("RELAY_CONTAINER_RUN_ARGS", ""))
IMAGE = "localhost/reference-relay:test"
SYSTEMD_IMAGE = "localhost/reference-relay-systemd:test"
# A test image only: the recipe's base with systemd booting, and the package, whose unit it starts.
SYSTEMD_CONTAINERFILE = """ARG BASE
FROM ${BASE}
COPY relay-conformance_*.deb /tmp/
RUN apt-get update && apt-get install -y --no-install-recommends systemd /tmp/relay-conformance_*.deb
CMD ["/lib/systemd/systemd"]
"""
DRAIN_S = 3
STOP_TIMEOUT_S = 30
START_TIMEOUT_S = 30


def podman(*args, timeout=120, check=True):
    done = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    assert not check or done.returncode == 0, f"podman {' '.join(args)} exited {done.returncode}: {done.stderr}"
    return done


def base_available():
    return shutil.which("podman") is not None and podman("image", "exists", BASE, check=False).returncode == 0


pytestmark = pytest.mark.skipif(not base_available(), reason=f"podman or its base image {BASE} is not here")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """A build context holding the package."""
    context = tmp_path_factory.mktemp("context")
    subprocess.run(["cpack", "-G", "DEB", "--config", BUILD / "CPackConfig.cmake", "-B", context / "cpack"],
                   check=True, capture_output=True, timeout=300)
    for deb in (context / "cpack").glob("*.deb"):
        deb.rename(context / deb.name)
    return context


def built(context, containerfile, tag):
    podman("build", "--network", "host", *MACHINE_ARGS, "--build-arg", f"BASE={BASE}", "-f", containerfile,
           "-t", tag, context, timeout=600)
    return tag


@pytest.fixture(scope="module")
def image(context):
    yield built(context, CONTAINERFILE, IMAGE)
    podman("rmi", "-f", IMAGE, check=False)


@pytest.fixture(scope="module")
def systemd_image(context):
    containerfile = context / "Containerfile.systemd"
    containerfile.write_text(SYSTEMD_CONTAINERFILE)
    yield built(context, containerfile, SYSTEMD_IMAGE)
    podman("rmi", "-f", SYSTEMD_IMAGE, check=False)


async def hold_until_drained(ws, admin, stop_command):
    """Opens a server socket, runs the stop command, and checks the drain: /ready 503 at once while the
    relay still serves, then 1001 after the drain. Returns the stop command's process and the seconds
    from the stop to the close."""
    server = await websockets.connect(f"{ws}/ws?serverId=drain&role=server")
    client = await websockets.connect(f"{ws}/ws?serverId=drain&role=client")
    await client.send("hello")
    assert await asyncio.wait_for(server.recv(), START_TIMEOUT_S) == "hello"
    stopped_at = time.monotonic()
    stop = subprocess.Popen(stop_command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    await asyncio.to_thread(wait_for, lambda: http_status(admin + "/ready") == 503, 10, "503 on /ready")
    assert http_status(ws.replace("ws://", "http://") + "/health") == 200
    await asyncio.wait_for(server.wait_closed(), STOP_TIMEOUT_S)
    assert (server.close_code, server.close_reason) == (1001, "Relay shutting down")
    return stop, time.monotonic() - stopped_at


def test_the_image_serves_then_drains_on_stop(image):
    port, admin_port = free_port(), free_port()
    name = f"relay-test-{os.getpid()}"
    podman("run", "-d", "--name", name, "--network", "host", *MACHINE_ARGS, "-e", f"RELAY_PORT={port}",
           "-e", f"RELAY_ADMIN_PORT={admin_port}", "-e", f"RELAY_DRAIN_SECONDS={DRAIN_S}", image)
    http, admin, ws = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}", f"ws://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_status(http + "/health") == 200, START_TIMEOUT_S, "/health")
        assert http_status(admin + "/ready") == 200
        assert podman("inspect", name, "--format", "{{.Config.User}}").stdout.strip() == "65534:65534"
        stop, closed_after = asyncio.run(hold_until_drained(ws, admin, [*PODMAN, "stop", "-t", str(STOP_TIMEOUT_S), name]))
        assert closed_after >= DRAIN_S - 0.5, f"closed after {closed_after:.1f} s, before the {DRAIN_S} s drain"
        assert stop.wait(timeout=STOP_TIMEOUT_S + 10) == 0, stop.stderr.read()
        assert podman("inspect", name, "--format", "{{.State.ExitCode}}").stdout.strip() == "0"
    finally:
        podman("rm", "-f", name, check=False)


def test_the_unit_runs_restricted_under_systemd_and_drains_on_stop(systemd_image):
    port, admin_port = free_port(), free_port()
    name = f"relay-systemd-test-{os.getpid()}"
    podman("run", "-d", "--name", name, "--privileged", "--systemd=always", "--network", "host", *MACHINE_ARGS,
           systemd_image)

    def inside(*command, check=True):
        return podman("exec", name, *command, check=check).stdout.strip()

    try:
        wait_for(lambda: inside("systemctl", "is-system-running", check=False) in ("running", "degraded"),
                 START_TIMEOUT_S, "systemd up")
        inside("sed", "-i", f"s/^RELAY_PORT=.*/RELAY_PORT={port}/; s/^RELAY_ADMIN_PORT=.*/RELAY_ADMIN_PORT={admin_port}/",
               "/etc/default/reference-relay")
        inside("systemctl", "start", "reference-relay")
        http, admin, ws = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}", f"ws://127.0.0.1:{port}"
        wait_for(lambda: http_status(http + "/health") == 200, START_TIMEOUT_S, "/health")

        pid = inside("systemctl", "show", "-p", "MainPID", "--value", "reference-relay")
        status = dict(line.split(":\t", 1) for line in inside("cat", f"/proc/{pid}/status").splitlines())
        assert status["Uid"].split()[0] != "0", "DynamicUser: the relay runs as root"
        assert status["CapEff"] == status["CapBnd"] == "0000000000000000", "the relay has capabilities"
        assert status["NoNewPrivs"] == "1" and status["Seccomp"] == "2", "NoNewPrivileges or SystemCallFilter not in force"
        mounts = inside("cat", f"/proc/{pid}/mountinfo").splitlines()
        root = next(line.split() for line in mounts if line.split()[4] == "/")
        assert "ro" in root[5].split(","), "ProtectSystem=strict: the root is writable"
        assert any(line.split()[4] == "/proc" and "hidepid=invisible" in line for line in mounts), "ProtectProc"

        library = subprocess.run([BUILD / "relay-conformance", "run", "--url", ws], capture_output=True, text=True,
                                 timeout=300)
        assert library.returncode == 0 and ", 0 failed" in library.stdout, library.stdout[-2000:]

        drain = int(inside("sh", "-c", ". /etc/default/reference-relay; echo $RELAY_DRAIN_SECONDS"))
        stop, closed_after = asyncio.run(hold_until_drained(ws, admin, [*PODMAN, "exec", name, "systemctl", "stop",
                                                                          "reference-relay"]))
        assert closed_after >= drain - 0.5, f"closed after {closed_after:.1f} s, before the {drain} s drain"
        assert stop.wait(timeout=STOP_TIMEOUT_S) == 0, stop.stderr.read()
        result = inside("systemctl", "show", "-p", "Result", "-p", "ExecMainStatus", "reference-relay")
        assert set(result.splitlines()) == {"Result=success", "ExecMainStatus=0"}, result
    finally:
        podman("rm", "-f", name, check=False)
