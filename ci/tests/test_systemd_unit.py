"""The systemd unit (deploy/systemd/): its hardening is there and systemd accepts it, the options file
names every option the relay has, and the relay runs as the unit starts it. No systemd manager runs
here, so the unit's command line is run directly, with the options file's variables, as an
unprivileged user without capabilities (setpriv), its system calls recorded (strace) and checked
against the unit's filters; then stopped as systemd stops it: SIGTERM, a drain, 1001, exit 0 within
TimeoutStopSec."""

import asyncio
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RELAY_CONFORMANCE_BUILD", ROOT / "build"))
RELAY = BUILD / "reference-relay"
UNIT = ROOT / "deploy" / "systemd" / "reference-relay.service"
DEFAULTS = ROOT / "deploy" / "systemd" / "reference-relay.default"
INSTALLED_RELAY = "/usr/bin/reference-relay"
START_TIMEOUT_S = 20
CLOSING_HANDSHAKE_S = 3  # the relay's own bound on closing handshakes after the drain (reference/main.cpp)

HARDENING = {
    "DynamicUser": "yes", "CapabilityBoundingSet": "", "AmbientCapabilities": "", "NoNewPrivileges": "yes",
    "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes", "RestrictAddressFamilies": "AF_INET AF_INET6", "RestrictNamespaces": "yes",
    "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native",
    "UMask": "0077", "KillSignal": "SIGTERM", "Restart": "on-failure",
}


def unit_settings(text):
    """Each key of the unit's [Service] section with its values in order (a key may repeat)."""
    settings, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def env_file(text):
    """The variables an EnvironmentFile sets: VAR=value lines, comments skipped."""
    return dict(re.findall(r"^(RELAY_\w+)=(.*)$", text, re.M))


def seconds(value):
    match = re.fullmatch(r"(\d+)(s|min)?", value)
    assert match, f"cannot read {value!r} as a time span"
    return int(match[1]) * (60 if match[2] == "min" else 1)


SERVICE = unit_settings(UNIT.read_text())
OPTIONS = env_file(DEFAULTS.read_text())


def the(key):
    assert len(SERVICE.get(key, [])) == 1, f"the unit sets {key} {len(SERVICE.get(key, []))} times, not once"
    return SERVICE[key][0]


def test_the_unit_is_hardened():
    for key, value in HARDENING.items():
        assert the(key) == value, f"{key}={the(key)}, not {value}"
    assert SERVICE["SystemCallFilter"] == ["@system-service", "~@privileged"]
    assert int(the("LimitNOFILE")) >= 65536


def test_the_unit_starts_the_installed_relay_with_its_options_file():
    assert the("ExecStart") == INSTALLED_RELAY
    assert the("EnvironmentFile").lstrip("-") == "/etc/default/reference-relay"


def test_the_options_file_names_every_option_of_the_relay():
    help_text = subprocess.run([RELAY, "--help"], capture_output=True, text=True, timeout=30).stdout
    options = set(re.findall(r"Env:(RELAY_\w+)", help_text))
    named = set(re.findall(r"^#?(RELAY_\w+)=", DEFAULTS.read_text(), re.M))
    assert options and options - named == set(), f"the options file lacks {sorted(options - named)}"
    assert named - options == set(), f"the options file names unknown options {sorted(named - options)}"


def test_the_relay_listens_on_loopback_and_stops_after_its_drain():
    assert OPTIONS["RELAY_HOST"] == "127.0.0.1" and OPTIONS["RELAY_ADMIN_PORT"]
    drain = int(OPTIONS["RELAY_DRAIN_SECONDS"])
    assert drain > 0 and seconds(the("TimeoutStopSec")) > drain + CLOSING_HANDSHAKE_S


@pytest.fixture
def unit_copy(tmp_path):
    """The unit as it would be installed, but starting the built relay."""
    copy = tmp_path / UNIT.name
    copy.write_text(UNIT.read_text().replace(f"ExecStart={INSTALLED_RELAY}", f"ExecStart={RELAY}"))
    return copy


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(unit_copy):
    done = subprocess.run(["systemd-analyze", "verify", unit_copy], capture_output=True, text=True, timeout=60)
    complaints = [line for line in done.stderr.splitlines() if UNIT.name in line]
    assert done.returncode == 0 and not complaints, done.stderr


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_rates_the_unit_well_exposed(unit_copy):
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", unit_copy.name], cwd=unit_copy.parent,
                          capture_output=True, text=True, timeout=60)
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert level and float(level[1]) <= 2.0, done.stdout[-2000:]


def syscall_set(group):
    """The system calls of a systemd group such as @system-service, with the groups it names expanded."""
    listing = subprocess.run(["systemd-analyze", "syscall-filter", group], capture_output=True, text=True,
                             timeout=60).stdout
    members = [line.strip() for line in listing.splitlines()[1:] if not line.strip().startswith("#")]
    return set().union(*(syscall_set(m) if m.startswith("@") else {m} for m in members if m))


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)


class UnitProcess:
    """The unit's ExecStart, run as systemd would: the options file's variables, ports 0 instead of the
    fixed ones, nobody without capabilities and unable to gain any, a soft open-file limit below the
    hard one; under strace when it is installed."""

    def __init__(self, tmp_path):
        self.trace = tmp_path / "syscalls"
        env = {"PATH": "/usr/bin:/bin", **OPTIONS, "RELAY_PORT": "0", "RELAY_ADMIN_PORT": "0"}
        unprivileged = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                        "--bounding-set=-all", "--no-new-privs", "prlimit", "--nofile=1024:", "--"]
        self.traced = shutil.which("strace") is not None
        traced = ["strace", "-f", "-qq", "-o", str(self.trace)] if self.traced else []
        self.process = subprocess.Popen(traced + unprivileged + [RELAY], env=env, cwd="/",
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.ws_url = self.process.stdout.readline().strip()
        self.admin_url = self.process.stdout.readline().strip()
        assert self.ws_url.startswith("ws://127.0.0.1:") and self.admin_url, self.process.stderr.read()
        self.http_url = self.ws_url.replace("ws://", "http://")

    def relay_pid(self):
        """The relay's own process: setpriv and prlimit exec into it; strace forks it."""
        if not self.traced:
            return self.process.pid
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        assert len(children) == 1, f"strace has children {children}, not just the relay"
        return int(children[0])

    def stop(self):
        os.kill(self.relay_pid(), signal.SIGTERM)

    def kill(self):
        """Ends the relay if a check failed first; the relay itself, since strace killed leaves its tracee running."""
        if self.process.poll() is None:
            os.kill(self.relay_pid(), signal.SIGKILL)
            self.process.wait(timeout=10)

    def system_calls(self):
        """System calls the relay made after exec (setpriv's before it are not the relay's)."""
        text = self.trace.read_text()
        started = text.index(f'execve("{RELAY}"')
        return text[started:].splitlines()


async def open_socket(url, role):
    return await asyncio.wait_for(websockets.connect(f"{url}/ws?serverId=unit-test&role={role}"), START_TIMEOUT_S)


def test_the_unit_command_serves_then_drains_on_sigterm(tmp_path):
    drain = int(OPTIONS["RELAY_DRAIN_SECONDS"])
    stop_timeout = seconds(the("TimeoutStopSec"))
    relay = UnitProcess(tmp_path)
    try:
        pid = relay.relay_pid()
        limits = Path(f"/proc/{pid}/limits").read_text()
        soft, hard = re.search(r"Max open files\s+(\d+)\s+(\d+)", limits).groups()
        assert soft == hard, f"the relay left its open-file limit at {soft} of {hard}"
        assert http_status(relay.http_url + "/health")[0] == 200
        assert http_status(relay.admin_url + "/ready")[0] == 200

        async def serve_and_drain():
            server = await open_socket(relay.ws_url, "server")
            client = await open_socket(relay.ws_url, "client")
            await client.send("hello")
            assert await asyncio.wait_for(server.recv(), START_TIMEOUT_S) == "hello"
            stopped_at = time.monotonic()
            relay.stop()
            await asyncio.to_thread(wait_for, lambda: http_status(relay.admin_url + "/ready")[0] == 503, 5,
                                    "503 on /ready after SIGTERM")
            # Draining: still serving, still accepting.
            assert http_status(relay.http_url + "/health")[0] == 200
            late = await open_socket(relay.ws_url, "client")
            await late.send("during the drain")
            assert await asyncio.wait_for(server.recv(), START_TIMEOUT_S) == "during the drain"
            await asyncio.wait_for(server.wait_closed(), drain + stop_timeout)
            closed_at = time.monotonic() - stopped_at
            assert (server.close_code, server.close_reason) == (1001, "Relay shutting down")
            assert closed_at >= drain - 0.5, f"closed after {closed_at:.1f} s, before the {drain} s drain"
            return stopped_at

        stopped_at = asyncio.run(serve_and_drain())
        code = relay.process.wait(timeout=stop_timeout)
        assert code == 0, relay.process.stderr.read()
        assert time.monotonic() - stopped_at < stop_timeout
    finally:
        relay.kill()
    if not relay.traced:
        pytest.skip("strace is not installed: the system calls were not checked")
    check_system_calls(relay.system_calls())


def check_system_calls(lines):
    """What the unit's SystemCallFilter, RestrictAddressFamilies, MemoryDenyWriteExecute and
    ProtectSystem would refuse, the relay must not have done."""
    calls = {m[1] for line in lines if (m := re.match(r"\d+\s+([a-z_0-9]+)\(", line))}
    allowed = syscall_set("@system-service") - syscall_set("@privileged")
    assert calls - allowed == set(), f"the unit's SystemCallFilter refuses {sorted(calls - allowed)}"
    families = set(re.findall(r"\bsocket\((AF_\w+)", "\n".join(lines)))
    assert families <= {"AF_INET", "AF_INET6"}, f"RestrictAddressFamilies refuses {sorted(families)}"
    executable = [line for line in lines if re.search(r"\b(mmap|mprotect)\(.*PROT_WRITE\|PROT_EXEC|"
                                                       r"\bmprotect\(.*PROT_EXEC", line)]
    assert not executable, f"MemoryDenyWriteExecute refuses {executable}"
    writes = [line for line in lines if re.search(r"\bopenat\(.*O_(WRONLY|RDWR|CREAT)", line)]
    assert not writes, f"ProtectSystem=strict leaves nothing writable, yet the relay opened {writes}"
