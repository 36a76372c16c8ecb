"""Every vector in scenarios/msgpack-vectors.json, which the C++ runner must also agree with: the bytes a
`msgpack` send puts on the wire, and the verdict and captures of a `msgpack` frame matcher."""

import json

import pytest

from relay_harness.msgpack_codec import NotMsgpack, pack, unpack
from relay_harness.patterns import match
from relay_harness.plugin import DEFAULT_SCENARIOS

VECTORS = json.loads((DEFAULT_SCENARIOS / "msgpack-vectors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", VECTORS["encode"], ids=[vector["name"] for vector in VECTORS["encode"]])
def test_encode(vector):
    assert pack(vector["value"]).hex() == vector["hex"]


@pytest.mark.parametrize("vector", VECTORS["decode"], ids=[vector["name"] for vector in VECTORS["decode"]])
def test_decode(vector):
    try:
        value = unpack(bytes.fromhex(vector["payload_hex"]))
    except NotMsgpack:
        assert not vector["matches"], "the payload did not decode"
        return
    result = match(vector["pattern"], value, vector.get("subset", False), vector.get("vars", {}))
    assert result.matched == vector["matches"], result.why
    if vector["matches"]:
        assert result.captures == vector.get("captures", {})
