"""Every vector in scenarios/matcher-vectors.json, which the C++ runner must also agree with."""

import json

import pytest

from relay_harness.patterns import match
from relay_harness.plugin import DEFAULT_SCENARIOS

VECTORS = json.loads((DEFAULT_SCENARIOS / "matcher-vectors.json").read_text(encoding="utf-8"))["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["name"] for vector in VECTORS])
def test_vector(vector):
    result = match(vector["pattern"], vector["value"], vector.get("subset", False), vector.get("vars", {}))
    assert result.matched == vector["matches"], result.why
    if vector["matches"]:
        assert result.captures == vector.get("captures", {})
        assert result.nonstrict == vector.get("nonstrict", False), result.differences
        assert all(result.differences), "a non-strict difference must say why"
    else:
        assert result.why, "a mismatch must say why"
