"""Host matching for http.allowed_hosts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.adapters.http.hosts import HostMatcher, default_allowed_hosts, host_name


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("localhost", "localhost"),
        ("LocalHost:8000", "localhost"),
        ("[::1]:8000", "[::1]"),
        ("[::1]", "[::1]"),
        ("example.org.", "example.org"),
        ("example.org.:80", "example.org"),
        ("a:b", "a:b"),
    ],
)
def test_host_name_drops_the_port(value, name):
    assert host_name(value) == name


@given(st.from_regex(r"[a-z0-9-]{1,10}(\.[a-z0-9-]{1,10}){0,3}", fullmatch=True), st.integers(1, 65535))
def test_a_listed_name_matches_with_any_port_and_case(name, port):
    matcher = HostMatcher([name])
    assert matcher.allows(name.upper()) and matcher.allows(f"{name}:{port}")
    assert not matcher.allows(f"x{name}") and not matcher.allows(f"{name}.evil.example")


def test_wildcards():
    matcher = HostMatcher(["*.Example.org"])
    assert matcher.allows("a.example.org") and matcher.allows("b.a.example.org:443")
    assert not matcher.allows("example.org") and not matcher.allows("evilexample.org")
    assert not matcher.allows(".example.org")
    assert HostMatcher(["*"]).allows("anything.example")


@pytest.mark.parametrize(
    ("bind", "extra"),
    [
        ("127.0.0.1", ()),
        ("0.0.0.0", ()),
        ("::", ()),
        ("::1", ()),
        ("10.0.0.5", ("10.0.0.5",)),
        ("fd00::5", ("[fd00::5]",)),
    ],
)
def test_default_hosts_add_the_bind_address(bind, extra):
    assert default_allowed_hosts(bind) == ("localhost", "127.0.0.1", "[::1]", *extra)


def test_text_after_a_bracketed_address_is_not_dropped():
    matcher = HostMatcher(default_allowed_hosts("127.0.0.1"))
    assert matcher.allows(host_name("[::1]:8000"))
    for value in ("[::1]evil.example", "[::1]:80x", "[::1]:"):
        assert not matcher.allows(host_name(value)), value
