"""Every vector in scenarios/timing-vectors.json, which the C++ runner must also agree with."""

import json

import pytest

from relay_harness.plugin import DEFAULT_SCENARIOS
from relay_harness.timing import Interval, allowance_ms, judge_time, quiet_ms, window_bounds

VECTORS = json.loads((DEFAULT_SCENARIOS / "timing-vectors.json").read_text(encoding="utf-8"))


def cases(kind: str):
    return pytest.mark.parametrize("vector", VECTORS[kind], ids=[vector["name"] for vector in VECTORS[kind]])


@cases("allowance")
def test_allowance(vector):
    assert allowance_ms(vector["calibrated_ms"], vector["longest_step_ms"]) == pytest.approx(vector["allowance_ms"])


@cases("quiet")
def test_quiet_period(vector):
    assert quiet_ms(vector["within_ms"], vector["time_scale"], vector["allowance_ms"]) == pytest.approx(vector["quiet_ms"])


@cases("window")
def test_window(vector):
    mark = Interval(vector["mark"]["start"], vector["mark"]["finish"])
    bounds = window_bounds(mark, vector["min_ms"], vector["max_ms"], vector["time_scale"], vector["allowance_ms"])
    assert (bounds.earliest, bounds.latest) == (pytest.approx(vector["earliest"]), pytest.approx(vector["latest"]))
    assert judge_time(vector["at"], bounds) == vector["judgement"]
