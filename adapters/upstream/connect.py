"""Opening a TCP connection to an upstream: the name resolved through ``HostResolver``
(answers reused for ``upstream.dns_ttl`` seconds, a bounded number of names, concurrent
look-ups of one name shared), then Happy Eyeballs (RFC 8305) across its addresses with
``aiohappyeyeballs``: the first address, in the resolver's order (RFC 6724's, which puts
IPv6 first where it is routed), then the first of the other family if nothing connected
within 250 ms, and so on, interleaved by family; the first to connect wins.

A name whose every address failed is forgotten at once, so the next connection asks the
resolver again instead of retrying a stale answer until it expires.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohappyeyeballs

__all__ = ["HAPPY_EYEBALLS_DELAY", "AddrInfo", "HostResolver", "open_socket"]

HAPPY_EYEBALLS_DELAY = 0.25  # RFC 8305's recommended connection attempt delay
_MAX_NAMES = 256

AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]
Resolve = Callable[[str, int], Awaitable[list[AddrInfo]]]


async def _getaddrinfo(host: str, port: int) -> list[AddrInfo]:
    loop = asyncio.get_running_loop()
    return list(await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))


def _literal(host: str, port: int) -> list[AddrInfo] | None:
    """The one address an IP literal names, with no look-up (a scoped one is left to it)."""
    if "%" in host:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.version == 6:
        return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port, 0, 0))]
    return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port))]


class HostResolver:
    """Names to addresses, each answer kept ``ttl`` seconds (0: none kept), for at most
    ``max_names`` names (the oldest answer goes first). ``resolve`` is the look-up
    (default: the event loop's ``getaddrinfo``), ``clock`` the time it is kept by."""

    def __init__(
        self,
        ttl: float,
        *,
        resolve: Resolve | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_names: int = _MAX_NAMES,
    ) -> None:
        self.ttl = ttl
        self._resolve = resolve or _getaddrinfo
        self._clock = clock
        self._max = max_names
        self._answers: dict[tuple[str, int], tuple[float, list[AddrInfo]]] = {}
        self._pending: dict[tuple[str, int], asyncio.Task[list[AddrInfo]]] = {}

    def __len__(self) -> int:
        return len(self._answers)

    async def addresses(self, host: str, port: int) -> list[AddrInfo]:
        literal = _literal(host, port)
        if literal is not None:
            return literal
        key = (host, port)
        kept = self._answers.get(key)
        if kept is not None:
            if self._clock() < kept[0]:
                return kept[1]
            del self._answers[key]
        task = self._pending.get(key)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.get_running_loop().create_task(self._look_up(key))
            self._pending[key] = task
        # Shielded: a request that gives up (its connect timeout, a client gone) leaves the
        # look-up to finish for the others waiting on it, and for the next one.
        return await asyncio.shield(task)

    async def _look_up(self, key: tuple[str, int]) -> list[AddrInfo]:
        try:
            found = await self._resolve(*key)
            if not found:
                raise socket.gaierror(socket.EAI_NONAME, "no addresses")
            if self.ttl > 0:
                self._answers.pop(key, None)
                self._answers[key] = (self._clock() + self.ttl, found)
                while len(self._answers) > self._max:
                    del self._answers[next(iter(self._answers))]
            return found
        finally:
            if self._pending.get(key) is asyncio.current_task():
                del self._pending[key]

    def forget(self, host: str, port: int) -> None:
        self._answers.pop((host, port), None)


async def open_socket(resolver: HostResolver, host: str, port: int) -> socket.socket:
    """A connected, non-blocking TCP socket to ``host``: resolved, then Happy Eyeballs."""
    infos = await resolver.addresses(host, port)
    try:
        return await aiohappyeyeballs.start_connection(
            infos, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY, interleave=1
        )
    except OSError:
        resolver.forget(host, port)
        raise
    except RuntimeError as exc:  # what uvloop may raise for a failed connect
        resolver.forget(host, port)
        raise OSError(f"connect failed: {exc}") from exc
