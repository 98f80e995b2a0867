"""Which ``Host`` names this server answers to (DNS rebinding protection).

A page on ``evil.example`` whose DNS name is re-pointed at 127.0.0.1 talks to a local
server as a same-origin page would; the one thing it cannot change is the ``Host`` header,
which still says ``evil.example``. Patterns: a name or address (``localhost``,
``127.0.0.1``, ``[::1]``), ``*.example.org`` (any subdomain of it, not the name itself) or
``*`` (any). Ports are ignored; names compare case-insensitively, a trailing dot dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["DEFAULT_ALLOWED_HOSTS", "HostMatcher", "default_allowed_hosts", "host_name"]

DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "[::]"})


def _normal(name: str) -> str:
    return name.strip().lower().rstrip(".")


def host_name(value: str) -> str:
    """The name in a ``Host`` value, without its port: ``[::1]:8000`` -> ``[::1]``."""
    value = _normal(value)
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1 :] if end > 0 else ""
        if end > 0 and (not rest or (rest[0] == ":" and rest[1:].isdigit())):
            return value[: end + 1]
        return value  # "[::1]evil.example" is no bracketed address: matched as it stands
    name, colon, port = value.rpartition(":")
    return _normal(name) if colon and port.isdigit() else value


def default_allowed_hosts(bind_host: str) -> tuple[str, ...]:
    """Loopback names plus the bind address; ``0.0.0.0`` and ``::`` name no host, so a
    server bound to every interface serves only the names its operator lists."""
    bind = _normal(bind_host)
    if bind in _WILDCARD_BINDS:
        return DEFAULT_ALLOWED_HOSTS
    if ":" in bind and not bind.startswith("["):
        bind = f"[{bind}]"
    return DEFAULT_ALLOWED_HOSTS if bind in DEFAULT_ALLOWED_HOSTS else (*DEFAULT_ALLOWED_HOSTS, bind)


class HostMatcher:
    def __init__(self, patterns: Iterable[str]) -> None:
        names = [_normal(p) for p in patterns]
        self.any = "*" in names
        self.exact = frozenset(n for n in names if not n.startswith("*"))
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*."))

    def allows(self, host_value: str) -> bool:
        """Whether a ``Host`` header value (port included or not) is one we serve."""
        if self.any:
            return True
        name = host_name(host_value)
        if name in self.exact:
            return True
        return bool(self.suffixes) and name.endswith(self.suffixes) and not name.startswith(".")
