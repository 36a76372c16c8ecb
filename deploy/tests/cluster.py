"""The scale-out recipe for real, on loopback: reference relays as nodes and HAProxy in front of them
running deploy/haproxy/haproxy.cfg as committed (filled in through its environment variables), with
a throwaway CA for wss://.

Each node has a loopback address of its own (127.0.0.2, .3, ...) and every node's admin port has the
same number, as on separate machines: the config's health check asks each node's admin port at one
port number for all of them. HAProxy itself listens on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RELAY_CONFORMANCE_BUILD", ROOT / "build"))
CONFIG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"  # /usr/sbin is not on every PATH
BACKEND = "relays"
CONFIGURED_NODES = 3  # the server lines of the config: LB_NODE1 to LB_NODE3

STOP_TIMEOUT_S = 5.0

sys.path.insert(0, str(ROOT / "pyharness"))
from relay_harness.relay_process import START_TIMEOUT_S, RelayStartError, stdout_lines  # noqa: E402


def node_host(index: int) -> str:
    """The loopback address of node `index` (1-based)."""
    return f"127.0.0.{index + 1}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_free_on(hosts: list[str]) -> int:
    """A port number free on every one of these addresses (the nodes' shared admin port)."""
    for _ in range(50):
        port = free_port(hosts[0])
        try:
            for host in hosts[1:]:
                with socket.socket() as probe:
                    probe.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError(f"no port free on all of {', '.join(hosts)}")


def wait_for(check, timeout_s: float, what: str):
    """check()'s first true value, polled until the deadline; fails naming `what`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:g} s")
        time.sleep(0.05)


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)


# ----------------------------------------------------------------------------------------------------


class Node:
    """A reference relay on its own loopback address, with its admin port."""

    def __init__(self, name: str, host: str, admin_port: int, *args: str) -> None:
        self.name, self.host = name, host
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [str(BUILD / "reference-relay"), "--host", host, "--port", "0", "--admin-host", host,
             "--admin-port", str(admin_port), *args],
            stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL)
        try:
            self.url, self.admin_url = stdout_lines(self.process, 2)
        except RelayStartError as e:
            stop_process(self.process, signal.SIGKILL)
            raise RuntimeError(f"node {name}: {e}\n{self.log_tail()}") from None
        self.address = self.url.removeprefix("ws://")

    def get(self, path: str) -> tuple[int, str]:
        """GET on the admin port: status and body."""
        try:
            with urllib.request.urlopen(self.admin_url + path, timeout=5) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stats(self) -> dict:
        return json.loads(self.get("/stats")[1])

    def server_ids(self) -> list[str]:
        """The serverId of every socket open on this node, once per socket."""
        return [entry["server_id"] for entry in json.loads(self.get("/sockets")[1])["sockets"]]

    def alive(self) -> bool:
        return self.process.poll() is None

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def stop(self) -> None:
        """SIGTERM, and a second one if the node is draining (--drain-seconds), which ends the drain."""
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(1)
            except subprocess.TimeoutExpired:
                stop_process(self.process)
        self.process.stdout.close()
        self._log.close()

    def log_tail(self, lines: int = 20) -> str:
        self._log.seek(0)
        return "\n".join(self._log.read().decode(errors="replace").splitlines()[-lines:])


@dataclass
class Certificate:
    ca: Path  # the CA clients trust
    pem: Path  # the server's certificate and key, as HAProxy's "crt" takes them

    @classmethod
    def make(cls, folder: Path) -> "Certificate":
        """A throwaway CA and a certificate it signed for 127.0.0.1 and localhost."""

        def openssl(*args: str) -> None:
            subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=30)

        key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=throwaway relay CA")
        openssl("req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
        (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.crt", "-days", "1", "-extfile", "san.ext")
        (folder / "server.pem").write_bytes((folder / "server.crt").read_bytes() + (folder / "server.key").read_bytes())
        return cls(folder / "ca.pem", folder / "server.pem")


class Balancer:
    """HAProxy in master-worker mode running the committed config, with its runtime API (stats socket)
    and its master CLI (for reloads)."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.stats_socket = Path(env["LB_STATS_SOCKET"])
        self.master_socket = folder / f"{env['LB_PEER_NAME']}-master.sock"
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen([HAPROXY, "-W", "-S", str(self.master_socket), "-f", str(CONFIG)],
                                        env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, cwd=folder)
        try:
            wait_for(self._answers, START_TIMEOUT_S, "HAProxy's runtime API")
        except AssertionError as e:
            stop_process(self.process, signal.SIGKILL)
            raise RuntimeError(f"{e}\n{self.log_tail()}") from None

    def _answers(self) -> str:
        """The "Pid:" line of the worker that answers the runtime API, or "" while none does."""
        if self.process.poll() is not None:
            raise RuntimeError(f"haproxy exited with status {self.process.returncode}\n{self.log_tail()}")
        try:
            return next((line for line in self.command("show info").splitlines() if line.startswith("Pid:")), "")
        except OSError:
            return ""

    @staticmethod
    def _ask(path: Path, text: str) -> str:
        with socket.socket(socket.AF_UNIX) as channel:
            channel.settimeout(5)
            channel.connect(str(path))
            channel.sendall(text.encode() + b"\n")
            channel.shutdown(socket.SHUT_WR)  # the master CLI answers and closes only then
            answer = b""
            while chunk := channel.recv(65536):
                answer += chunk
        return answer.decode()

    def command(self, text: str) -> str:
        """One runtime API command (the current worker's stats socket)."""
        return self._ask(self.stats_socket, text)

    def reload(self) -> None:
        """A reload through the master CLI: a new worker, whose runtime API then answers."""
        old_worker = self._answers()
        self._ask(self.master_socket, "reload")
        wait_for(lambda: self._answers() not in ("", old_worker), START_TIMEOUT_S, "a new HAProxy worker after the reload")

    def table(self) -> dict[str, dict[str, int]]:
        """The stick table: serverId -> its fields (server_id, conn_cur, ...)."""
        entries = {}
        for line in self.command(f"show table {BACKEND}").splitlines():
            if line.startswith("#") or "key=" not in line:
                continue
            fields = dict(word.split("=", 1) for word in line.split()[1:] if "=" in word)
            key = fields.pop("key")
            entries[key] = {name: int(value) for name, value in fields.items() if value.lstrip("-").isdigit()}
        return entries

    def servers(self) -> dict[str, dict[str, str]]:
        """Each server of the backend: its numeric id and status (UP, DOWN, MAINT, ...)."""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
        return {row["svname"]: row for row in rows if row["pxname"] == BACKEND and row["svname"] not in ("BACKEND", "FRONTEND")}

    def server_name(self, numeric_id: int) -> str:
        return next(name for name, row in self.servers().items() if int(row["sid"]) == numeric_id)

    def wait_status(self, server: str, status: str, timeout_s: float) -> None:
        wait_for(lambda: self.servers().get(server, {}).get("status", "").startswith(status), timeout_s,
                 f"HAProxy sees {server} {status}")

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()

    def log_tail(self, lines: int = 30) -> str:
        self._log.seek(0)
        return "\n".join(self._log.read().decode(errors="replace").splitlines()[-lines:])


class Cluster:
    """Three nodes behind one or two HAProxy instances sharing a peers section; spare nodes run but are
    not in the config (a test adds them); stick_expire replaces the config's table lifetime."""

    def __init__(self, folder: Path, certificate: Certificate, node_args: tuple[str, ...] = (), balancers: int = 1,
                 stick_expire: str | None = None, spare_nodes: int = 0) -> None:
        self.folder, self.certificate, self.node_args = folder, certificate, node_args
        self.nodes: list[Node] = []
        self.balancers: list[Balancer] = []
        try:
            self._start_nodes(CONFIGURED_NODES + spare_nodes)
            shared = {"LB_PEER1_ADDR": f"127.0.0.1:{free_port()}", "LB_PEER2_ADDR": f"127.0.0.1:{free_port()}",
                      "LB_TLS_CERT": str(certificate.pem), "LB_NODE_ADMIN_PORT": str(self.admin_port),
                      **({"LB_STICK_EXPIRE": stick_expire} if stick_expire else {}),
                      **{f"LB_NODE{index}": node.address for index, node in enumerate(self.nodes[:CONFIGURED_NODES], 1)}}
            for peer in range(1, balancers + 1):
                self.balancers.append(Balancer(folder, {
                    **shared, "LB_PEER_NAME": f"haproxy{peer}", "LB_STATS_SOCKET": str(folder / f"haproxy{peer}.sock"),
                    "LB_WS_BIND": f"127.0.0.1:{free_port()}", "LB_WSS_BIND": f"127.0.0.1:{free_port()}"}))
        except BaseException:
            self.stop()
            raise

    def _start_nodes(self, count: int, attempts: int = 3) -> None:
        """The nodes on one admin port number; another number if someone took it meanwhile."""
        hosts = [node_host(index) for index in range(1, count + 1)]
        for attempt in range(attempts):
            self.admin_port = port_free_on(hosts)
            try:
                for index in range(1, count + 1):
                    self.nodes.append(Node(f"relay{index}", node_host(index), self.admin_port, *self.node_args))
                return
            except RuntimeError:
                for node in self.nodes:
                    node.stop()
                self.nodes.clear()
                if attempt == attempts - 1:
                    raise

    @property
    def balancer(self) -> Balancer:
        return self.balancers[0]

    def ws_url(self, balancer: int = 0) -> str:
        return "ws://" + self.balancers[balancer].env["LB_WS_BIND"]

    def wss_url(self, balancer: int = 0) -> str:
        return "wss://" + self.balancers[balancer].env["LB_WSS_BIND"]

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def placement(self) -> dict[str, list[str]]:
        """serverId -> the live nodes holding a socket of it (one name per socket)."""
        where: dict[str, list[str]] = {}
        for node in self.nodes:
            if node.alive():
                for server_id in node.server_ids():
                    where.setdefault(server_id, []).append(node.name)
        return where

    def stop(self) -> None:
        for balancer in self.balancers:
            balancer.stop()
        for node in self.nodes:
            node.stop()

    def logs(self) -> str:
        return "\n".join([f"--- {b.env['LB_PEER_NAME']}\n{b.log_tail()}" for b in self.balancers] +
                         [f"--- {n.name}\n{n.log_tail()}" for n in self.nodes])
