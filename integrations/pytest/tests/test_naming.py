"""Unit tests of the cassette naming (run by tests/it/pytest_plugin.rs with the plugin off)."""

import re

import pytest

from pytest_traceforge.naming import MAX_LEN, cassette_name

# What src/cassette/name.rs accepts.
VALID = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


def valid(name):
    segments = name.split("/")
    return (
        VALID.match(name) is not None
        and len(name) <= MAX_LEN
        and all(s not in (".", "..") for s in segments)
        and not any(s.lower().endswith((".yaml", ".yaml.pending")) for s in segments[:-1])
    )


@pytest.mark.parametrize(
    "nodeid, name",
    [
        ("tests/test_chat.py::test_refund", "test_chat/test_refund"),
        ("test_chat.py::test_refund", "test_chat/test_refund"),
        ("tests/api/test_chat.py::test_refund", "api/test_chat/test_refund"),
        ("tests/test_chat.py::TestSupport::test_escalate", "test_chat/TestSupport.test_escalate"),
        ("tests/test_chat.py::TestA::TestB::test_c", "test_chat/TestA.TestB.test_c"),
        ("tests/test_chat.py::test_topics[shipping]", "test_chat/test_topics-shipping"),
        ("tests/test_chat.py::test_m[gpt-4o-0.5]", "test_chat/test_m-gpt-4o-0.5"),
        ("src/tests/test_x.py::test_y", "src/tests/test_x/test_y"),
    ],
)
def test_readable_names(nodeid, name):
    assert cassette_name(nodeid) == name


@pytest.mark.parametrize(
    "nodeid",
    [
        "tests/test_chat.py::test_topics[gift cards/vouchers]",
        "tests/test_chat.py::test_topics[caf\\xe9]",
        "tests/test_chat.py::test_t[a::b]",
        "tests/test_chat.py::test_t[..]",
        "tests/test_chat.py::test_t[]",
        "../outside/test_x.py::test_y",
        "tests/dir.yaml/test_x.py::test_y",
        "tests/test_chat.py::test_t[" + "x" * 400 + "]",
        "tests/" + "d" * 300 + "/test_x.py::test_y",
        "tests/test_x.py::test_y[ü/../../etc]",
    ],
)
def test_odd_ids_give_valid_names(nodeid):
    assert valid(cassette_name(nodeid)), cassette_name(nodeid)


def test_lossy_names_stay_distinct():
    a = cassette_name("tests/test_chat.py::test_t[a b]")
    b = cassette_name("tests/test_chat.py::test_t[a_b]")
    c = cassette_name("tests/test_chat.py::test_t[a/b]")
    assert len({a, b, c}) == 3
    assert b == "test_chat/test_t-a_b"
    assert a.startswith("test_chat/test_t-a_b-")


def test_long_names_are_cut_with_a_hash():
    one = cassette_name("tests/test_chat.py::test_t[" + "x" * 400 + "1]")
    two = cassette_name("tests/test_chat.py::test_t[" + "x" * 400 + "2]")
    assert one != two
    assert len(one) <= MAX_LEN and len(two) <= MAX_LEN
