"""Pattern behaviour the shared vectors do not pin down: errors and descriptions."""

import pytest

from relay_harness.patterns import MISSING, UnknownVariable, describe, match, match_member, pattern_problems, \
    substitute


def test_unknown_variable_is_an_error_not_a_mismatch():
    with pytest.raises(UnknownVariable, match=r"\$\{cid\}"):
        match({"id": "${cid}"}, {"id": "x"})


def test_substitution_renders_non_strings_as_compact_json():
    assert substitute("${a}|${b}|$${c}", {"a": [1, "x"], "b": None}) == '[1,"x"]|null|${c}'


def test_absent_header():
    assert match_member({"$absent": True}, MISSING).matched
    assert not match_member({"$absent": True}, "chat").matched
    assert not match_member("x", MISSING).matched


def test_mismatch_says_where():
    result = match({"type": "pong", "ts": {"$integer": True}}, {"type": "pong", "ts": "12"})
    assert result.why == 'at /ts: expected an integer, got "12"'


def test_describe_matchers():
    assert describe({"$integer": True, "$min": 0}) == "any integer >= 0"
    assert describe({"id": {"$regex": "c[0-9]"}}) == '{"id":a string matching /c[0-9]/}'


def test_static_problems():
    assert pattern_problems({"a": {"$anything": True}}) == ["/a: unknown matcher key $anything"]
    assert pattern_problems({"$regex": "("})[0].startswith("/: $regex does not compile")


def test_strict_difference_says_where_and_what_the_official_relay_sends():
    result = match({"id": {"$regex": "conn_.*", "$strict": "conn_1"}}, {"id": "conn_2"})
    assert result.matched and result.differences == ['at /id: expected "conn_1", got "conn_2"']


def test_strict_patterns_are_checked_and_described():
    assert pattern_problems({"$any": True, "$strict": {"$regex": "("}})[0].startswith("/$strict: $regex does not compile")
    assert describe({"$any": True, "$strict": "Not found"}) == 'any value (strictly "Not found")'
