"""Grades, preconditions, --strict, --repeat and the report schema, end to end: the C++ runner against
the reference relay with scenarios whose verdicts are known (data/graded/), and its JSON report checked
against ci/report.schema.json."""

import json
import pathlib
import subprocess

import jsonschema
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNNER = ROOT / "build" / "relay-conformance"
GRADED = pathlib.Path(__file__).parent / "data" / "graded"
SCHEMA = json.loads((ROOT / "ci" / "report.schema.json").read_text(encoding="utf-8"))


def run(tmp_path: pathlib.Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp_path / "report.json"
    done = subprocess.run([str(RUNNER), "run", "--scenarios", str(GRADED), "--json", str(report), *args],
                          capture_output=True, text=True, timeout=120)
    document = json.loads(report.read_text(encoding="utf-8"))
    jsonschema.validate(document, SCHEMA)
    return done, document


def verdicts(document: dict) -> dict[str, str]:
    return {s["id"]: s["verdict"] for s in document["scenarios"]}


def test_each_detail_gets_its_grade_and_the_report_fits_the_schema(tmp_path):
    done, document = run(tmp_path)
    assert verdicts(document) == {"grade-strict-pass": "pass", "grade-nonstrict": "nonstrict",
                                  "grade-blocked": "blocked", "grade-json-send-substitutes": "pass"}, done.stdout
    assert done.returncode == 1, "a blocked scenario fails the run"
    blocked = next(s for s in document["scenarios"] if s["id"] == "grade-blocked")
    assert blocked["blocked_by"] == "V2-CTRL-1" and blocked["failure"]["step"] == 2
    difference = next(s for s in document["scenarios"] if s["id"] == "grade-nonstrict")["nonstrict"][0]
    assert difference["step"] == 1 and difference["requirement"] == "HTTP-2" and "Not found here" in difference["detail"]
    assert document["summary"]["nonstrict"] == 1 and document["summary"]["blocked"] == 1
    assert document["verdict"]["compatible"] is False
    assert document["timing"]["latency_source"] == "calibrated" and document["timing"]["latency_ms"] > 0
    assert "NOT compatible with Paseo clients: 1 blocked" in done.stdout.splitlines()[0]
    assert "✘ blocked by V2-CTRL-1 grade-blocked" in done.stdout


def test_non_strict_passes_unless_strict(tmp_path):
    lenient, document = run(tmp_path, "--id", "grade-nonstrict", "--id", "grade-strict-pass", "--latency", "5")
    assert lenient.returncode == 0, lenient.stdout
    assert document["verdict"] == {"compatible": True, "strict": False, "strict_mode": False,
                                   "headline": document["verdict"]["headline"]}
    assert document["timing"] == {"latency_ms": 5, "latency_source": "given", "time_scale": 1, "repeat": 1}
    assert lenient.stdout.strip().splitlines()[-1] == "2 passed, 0 failed"
    strict, _ = run(tmp_path, "--id", "grade-nonstrict", "--strict")
    assert strict.returncode == 1
    assert strict.stdout.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_repeat_reports_every_run(tmp_path):
    done, document = run(tmp_path, "--id", "grade-strict-pass", "--id", "grade-blocked", "--repeat", "3")
    by_id = {s["id"]: s for s in document["scenarios"]}
    assert by_id["grade-strict-pass"]["runs"] == ["pass"] * 3 and by_id["grade-strict-pass"]["passes"] == 3
    assert by_id["grade-blocked"]["runs"] == ["blocked"] * 3 and by_id["grade-blocked"]["verdict"] == "blocked"
    assert document["timing"]["repeat"] == 3
    assert done.returncode == 1


@pytest.mark.parametrize("bad", [["--repeat", "0"], ["--time-scale", "0"], ["--latency", "-1"]])
def test_bad_timing_options_are_usage_errors(bad):
    done = subprocess.run([str(RUNNER), "run", "--scenarios", str(GRADED), *bad], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
