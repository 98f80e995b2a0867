"""The client's address behind trusted proxies, and the IP allow and deny lists."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.adapters.http.client_ip import CLIENT_IP, BadForwardedFor, ClientAddress, Networks, client_address

PROXIES = Networks(["10.0.0.0/8", "::1"])


def scope(peer: str, *forwarded: str) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 4000)}


def test_the_peer_is_the_client_unless_it_is_a_trusted_proxy():
    assert str(client_address(scope("192.0.2.7", "198.51.100.1"), PROXIES)) == "192.0.2.7"
    assert str(client_address(scope("10.1.2.3", "198.51.100.1"), PROXIES)) == "198.51.100.1"


def test_the_rightmost_untrusted_hop_is_the_client():
    # The client wrote "203.0.113.9, 10.9.9.9" itself; the proxies appended the rest.
    forwarded = scope("10.0.0.1", "203.0.113.9, 10.9.9.9", "198.51.100.1, 10.0.0.2")
    assert str(client_address(forwarded, PROXIES)) == "198.51.100.1"


def test_hops_all_trusted_leave_the_leftmost_one():
    assert str(client_address(scope("10.0.0.1", "10.0.0.3, 10.0.0.2"), PROXIES)) == "10.0.0.3"
    assert str(client_address(scope("10.0.0.1"), PROXIES)) == "10.0.0.1"


def test_ports_brackets_and_v4_mapped_addresses():
    assert str(client_address(scope("::1", "[2001:db8::5]:443"), PROXIES)) == "2001:db8::5"
    assert str(client_address(scope("::1", "192.0.2.1:8080"), PROXIES)) == "192.0.2.1"
    assert ipaddress.ip_address("::ffff:10.0.0.5") in PROXIES


def test_an_unparseable_hop_reached_is_refused_and_one_beyond_the_client_is_not():
    with pytest.raises(BadForwardedFor):
        client_address(scope("10.0.0.1", "not-an-address"), PROXIES)
    assert str(client_address(scope("10.0.0.1", "junk, 192.0.2.8"), PROXIES)) == "192.0.2.8"


def test_without_trusted_proxies_the_header_is_ignored():
    assert str(client_address(scope("10.0.0.1", "192.0.2.8"), Networks([]))) == "10.0.0.1"


@given(st.lists(st.ip_addresses(), min_size=1, max_size=6), st.ip_addresses())
def test_a_client_cannot_choose_its_address_by_writing_the_header(written, real):
    """Whatever a client writes, the nearest proxy's appended hop (its real address) is
    what an untrusted client is known by."""
    if real in PROXIES:
        return
    hops = ", ".join(str(a) for a in written)
    assert client_address(scope("10.0.0.1", hops, str(real)), PROXIES) == real


def call(middleware: ClientAddress, peer: str, *forwarded: str) -> tuple[int, dict[str, Any]]:
    seen: dict[str, Any] = {}
    status = 0

    async def app(s: Any, receive: Any, send: Any) -> None:
        seen.update(s.get("state", {}))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Any) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    middleware.app = app
    asyncio.run(middleware(scope(peer, *forwarded), None, send))
    return status, seen


def test_deny_wins_and_allow_refuses_the_rest():
    guard = ClientAddress(None, allow=["192.0.2.0/24"], deny=["192.0.2.66"], trusted_proxies=["10.0.0.1"])
    assert call(guard, "192.0.2.5")[0] == 200
    assert call(guard, "192.0.2.66")[0] == 403
    assert call(guard, "198.51.100.1")[0] == 403
    assert call(guard, "10.0.0.1", "192.0.2.5") == (200, {CLIENT_IP: "192.0.2.5"})
    assert call(guard, "10.0.0.1", "192.0.2.66")[0] == 403
    assert call(guard, "10.0.0.1", "bogus")[0] == 400
    # A forged hop to the left of the proxy's does not get a denied client in.
    assert call(guard, "10.0.0.1", "192.0.2.5, 198.51.100.1")[0] == 403


def test_deny_alone_lets_every_other_address_in():
    guard = ClientAddress(None, deny=["2001:db8::/32"])
    assert call(guard, "2001:db8::1")[0] == 403
    assert call(guard, "2001:db9::1") == (200, {CLIENT_IP: "2001:db9::1"})
    assert call(guard, "not-an-ip")[0] == 403  # an address the lists cannot judge is refused


def test_without_lists_the_peer_is_kept_as_given():
    assert call(ClientAddress(None), "192.0.2.1", "198.51.100.1") == (200, {CLIENT_IP: "192.0.2.1"})


def test_a_hostile_long_header_is_read_no_further_than_max_forwarded_hops():
    # Ten thousand hops of a trusted network, behind junk: only the rightmost eight are read,
    # so the junk is never parsed (no 400), and the last hop read stands for the client.
    hostile = "junk, " + ", ".join(["10.0.0.7"] * 10_000)
    assert str(client_address(scope("10.0.0.1", hostile), PROXIES, max_hops=8)) == "10.0.0.7"
    # A client inside a trusted network cannot push its chosen address past the hops read...
    spoofed = "198.51.100.66, " + ", ".join(["10.0.0.7"] * 8)
    assert str(client_address(scope("10.0.0.1", spoofed), PROXIES, max_hops=8)) == "10.0.0.7"
    # ... which a chain of trusted proxies longer than the default needs the setting for.
    assert str(client_address(scope("10.0.0.1", spoofed), PROXIES, max_hops=9)) == "198.51.100.66"
    # The hops of several header fields count together, rightmost field last.
    split = scope("10.0.0.1", "198.51.100.66, 10.0.0.7", "10.0.0.8")
    assert str(client_address(split, PROXIES, max_hops=2)) == "10.0.0.7"
    assert str(client_address(split, PROXIES, max_hops=3)) == "198.51.100.66"


def test_max_forwarded_hops_is_a_setting_the_middleware_applies():
    from tests.conftest import make_settings

    settings = make_settings({"DAWAI_MAX_FORWARDED_HOPS": "2", "DAWAI_TRUSTED_PROXIES": "10.0.0.0/8"})
    assert settings.http.max_forwarded_hops == 2
    guard = ClientAddress(
        None,
        trusted_proxies=settings.http.trusted_proxies,
        max_forwarded_hops=settings.http.max_forwarded_hops,
    )
    assert call(guard, "10.0.0.1", "junk, 198.51.100.1, 10.0.0.2") == (200, {CLIENT_IP: "198.51.100.1"})
    assert call(guard, "10.0.0.1", "junk, 10.0.0.3, 10.0.0.2") == (200, {CLIENT_IP: "10.0.0.3"})
    assert call(guard, "10.0.0.1", "10.0.0.3, junk") == (400, {})
