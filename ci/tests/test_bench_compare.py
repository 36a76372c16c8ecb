"""`relay-conformance bench --compare` (issue 15) against two reference relays on loopback, with a light
load (a few seconds a run): the table has a value and a ratio column per relay, the JSON has every
round and each relay's medians and ratios, the order alternates from round to round, and an unreachable
relay is one line on stderr while the others are still compared.

Binaries come from build/, or from the directory RELAY_CONFORMANCE_BUILD names."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RELAY_CONFORMANCE_BUILD", ROOT / "build"))

sys.path.insert(0, str(ROOT / "pyharness"))
from relay_harness.relay_process import RelayProcess  # noqa: E402

LIGHT_LOAD = ["--scenario", "sustained", "--pairs", "2", "--rate", "50", "--duration", "0.5", "--warmup", "0.2"]
RUN_TIMEOUT_S = 120  # six short runs take about 6 s on an idle 2-core machine
RATIO = re.compile(r"^x\d+\.\d\d$")


@pytest.fixture(scope="module")
def relays():
    for binary in ("reference-relay", "relay-conformance"):
        assert os.access(BUILD / binary, os.X_OK), f"{BUILD / binary} is not built (bash .ci/setup builds it)"
    with RelayProcess.start(BUILD / "reference-relay", "--log-level", "warn") as a, \
         RelayProcess.start(BUILD / "reference-relay", "--log-level", "warn") as b:
        yield a, b


def unreachable_url() -> str:
    """A loopback port nobody listens on: bound, then closed again."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"ws://127.0.0.1:{s.getsockname()[1]}"


def compare(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BUILD / "relay-conformance"), "bench", *args, *LIGHT_LOAD],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


def table(stdout: str) -> dict[str, list[str]]:
    """The table's rows by figure label (the header row under "figure"), cells split on runs of spaces."""
    lines = stdout[stdout.index("\nfigure ") + 1:].splitlines()
    return {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", line.strip()) for line in lines if line.strip())}


@pytest.fixture(scope="module")
def with_unreachable(relays, tmp_path_factory):
    a, b = relays
    dead = unreachable_url()
    report = tmp_path_factory.mktemp("compare") / "compare.json"
    done = compare("--compare", a.url, b.url, dead, "--relay-pid", str(a.process.pid), "--relay-pid", str(b.process.pid),
                   "--relay-pid", "0", "--rounds", "3", "--json", str(report))
    return a.url, b.url, dead, done, json.loads(report.read_text())


def test_an_unreachable_relay_is_one_line_and_the_others_are_compared(with_unreachable):
    a, b, dead, done, _ = with_unreachable
    assert done.returncode == 2, done.stdout + done.stderr
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1 and dead in errors[0] and "left out of the comparison" in errors[0], done.stderr
    header = table(done.stdout)["figure"]
    assert header == ["better", a, "ratio", b, "ratio"], done.stdout


def test_every_figure_has_a_value_and_a_ratio_per_relay(with_unreachable):
    *_, done, _ = with_unreachable
    rows = table(done.stdout)
    for label in ("delivered frames/s", "latency p50 (us)", "latency p99 (us)", "frames lost", "sockets failed to open",
                  "relay CPU (us/frame)", "relay RSS (MiB)"):
        better, value_a, ratio_a, value_b, ratio_b = rows[label]
        assert better in ("higher", "lower"), rows[label]
        # A ratio to 0 has no value: "-". The test's short runs can give that for relay CPU, which the
        # kernel counts in 10 ms ticks (0 ticks for one relay, 1 for the other, on a loaded machine).
        assert ratio_a == "x1.00" and (RATIO.match(ratio_b) or (ratio_b == "-" and float(value_a) == 0)), rows[label]
        assert float(value_a) >= 0 and float(value_b) >= 0, rows[label]
    assert float(rows["delivered frames/s"][1]) > 0 and rows["frames lost"][1:] == ["0", "x1.00", "0", "x1.00"], rows


def test_json_has_every_round_and_each_relays_medians_and_ratios(with_unreachable):
    a, b, dead, _, report = with_unreachable
    assert report["ratios_against"] == a and report["better"]["delivered_per_s"] == "higher"
    by_url = {relay["url"]: relay for relay in report["relays"]}
    for url in (a, b):
        assert by_url[url]["rounds_run"] == 3
        assert by_url[url]["medians"]["delivered_per_s"] > 0 and "latency_p99_us" in by_url[url]["medians"]
        assert set(by_url[url]["ratios"]) == set(by_url[url]["medians"])
    assert by_url[a]["ratios"]["delivered_per_s"] == 1
    assert "medians" not in by_url[dead] and "no socket could be opened" in by_url[dead]["error"]
    assert len(report["rounds"]) == 3
    for round_ in report["rounds"]:
        for run in round_["runs"]:
            if run["url"] != dead:
                assert run["figures"]["delivered_per_s"] == run["report"]["frames"]["steady_delivered_per_s"]


def test_the_order_alternates_from_round_to_round(with_unreachable):
    a, b, dead, _, report = with_unreachable
    # The unreachable relay fails in round 1 and is not run again.
    assert [[run["url"] for run in r["runs"]] for r in report["rounds"]] == [[a, b, dead], [b, a], [a, b]]


def test_url_counts_as_the_first_relay_and_a_clean_comparison_exits_0(relays):
    a, b = relays
    done = compare("--url", a.url, "--compare", b.url, "--rounds", "1")
    assert done.returncode == 0 and done.stderr == "", done.stdout + done.stderr
    assert table(done.stdout)["figure"] == ["better", a.url, "ratio", b.url, "ratio"], done.stdout


def test_a_single_relay_is_no_comparison(relays):
    done = compare("--compare", relays[0].url)
    assert done.returncode == 2 and "two relays or more" in done.stderr, done.stderr
