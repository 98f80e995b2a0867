"""The private parts of dependencies the adapters rely on, and whether each still has the
shape we verified (docs/adr/0021).

Each ``Internal`` names one: what we use, the check that looks at it, and the public path
the adapters take instead when the check fails. A check looks at names, signatures and
values and makes small probes that send nothing; it returns ``None`` when the shape is the
one the side-by-side tests verified, else a one-line reason. Any difference counts, a
new optional parameter included: what we copied was verified for one shape only.

A verdict is a fact about the installed libraries, so it is taken once per process:
``problem(name)`` runs the check on first use (the composition root asks at start-up for
the libraries that cost little to import, an adapter when its SDK loads, before its first
request), logs a warning when it fails, and keeps the answer. ``verdicts`` reports them
all for ``/health`` and ``dawai plugins``; ones whose library is not loaded yet are
``unchecked`` unless asked to load it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

import msgspec
import structlog

__all__ = [
    "ANTHROPIC_RAW_STREAMS",
    "GEMINI_RAW_PATH",
    "HTTPX2_LEAN_CLIENT",
    "HTTPX2_PROXIES",
    "INTERNALS",
    "OPENAI_RAW_STREAMS",
    "Internal",
    "Verdict",
    "VerdictStatus",
    "forget",
    "plugin_states",
    "problem",
    "usable",
    "verdicts",
]

_PROVIDER_PLUGINS = ("dawai.anthropic", "dawai.openai", "dawai.google")


class Internal(msgspec.Struct, frozen=True):
    name: str
    library: str  # the module whose shape is checked (imported to check it)
    relies_on: str
    fallback: str
    check: str  # "module:function", imported when the check runs
    plugins: tuple[str, ...]  # the built-in plugins whose providers use it
    eager: bool = False  # checked at start-up even before anything loads ``library``


VerdictStatus = Literal["ok", "degraded", "unchecked"]


class Verdict(msgspec.Struct, frozen=True):
    name: str
    status: VerdictStatus
    relies_on: str
    fallback: str
    plugins: tuple[str, ...]
    reason: str | None = None


HTTPX2_LEAN_CLIENT = "httpx2.lean-client"
HTTPX2_PROXIES = "httpx2.environment-proxies"
OPENAI_RAW_STREAMS = "openai.raw-streams"
ANTHROPIC_RAW_STREAMS = "anthropic.raw-streams"
GEMINI_RAW_PATH = "google-genai.raw-path"

INTERNALS: tuple[Internal, ...] = (
    Internal(
        HTTPX2_LEAN_CLIENT,
        "httpx2",
        "httpx2 client internals under the lean client class (docs/adr/0010)",
        "the SDK's own client class",
        "dawai.adapters.upstream.lean_client:shape_problem",
        _PROVIDER_PLUGINS,
        eager=True,
    ),
    Internal(
        HTTPX2_PROXIES,
        "httpx2",
        "httpx2._utils.get_environment_proxies, to route proxied hosts (docs/adr/0008)",
        "httpx2's own transport for every host while the environment names a proxy",
        "dawai.adapters.upstream.clients:proxies_problem",
        _PROVIDER_PLUGINS,
        eager=True,
    ),
    Internal(
        OPENAI_RAW_STREAMS,
        "openai",
        "the openai SDK's raw-response header for streamed bodies (docs/adr/0007)",
        "the SDK's public with_streaming_response",
        "dawai.adapters.providers.raw:openai_problem",
        ("dawai.openai",),
    ),
    Internal(
        ANTHROPIC_RAW_STREAMS,
        "anthropic",
        "the anthropic SDK's raw-response header for streamed bodies (docs/adr/0007)",
        "the SDK's public with_streaming_response",
        "dawai.adapters.providers.raw:anthropic_problem",
        ("dawai.anthropic",),
    ),
    Internal(
        GEMINI_RAW_PATH,
        "google.genai",
        "google-genai's API client (_build_request, _async_request) for raw bodies (docs/adr/0011)",
        "the SDK's public generate_content and generate_content_stream",
        "dawai.adapters.providers.gemini:raw_path_problem",
        ("dawai.google",),
    ),
)
_BY_NAME = {internal.name: internal for internal in INTERNALS}
_found: dict[str, str | None] = {}  # name -> None (as verified) or the reason it is not


def _run(internal: Internal) -> str | None:
    module, _, function = internal.check.partition(":")
    try:
        check: Callable[[], str | None] = getattr(importlib.import_module(module), function)
        return check()
    except Exception as exc:  # a check that cannot even look is a changed shape too
        return f"the check failed ({type(exc).__name__}: {exc})"[:300]


def problem(name: str) -> str | None:
    """``None`` when ``name``'s internal has the shape we verified, else why not; checked
    once per process (a failure is logged then)."""
    if name in _found:
        return _found[name]
    internal = _BY_NAME[name]
    found = _found[name] = _run(internal)
    if found is not None:
        # A logger got now, not at import: it logs through whatever is configured by then.
        structlog.get_logger("dawai.internals").warning(
            "sdk_internal_changed",
            internal=name,
            relies_on=internal.relies_on,
            reason=found,
            fallback=internal.fallback,
        )
    return found


def usable(name: str) -> bool:
    """Whether the adapters may take the private path ``name`` (else its fallback)."""
    return problem(name) is None


def verdicts(*, load: bool = False, plugins: Callable[[str], bool] | None = None) -> list[Verdict]:
    """Every internal's state. One not checked yet is checked now if it is ``eager``, its
    library is loaded, or ``load`` says to import it (only for internals some plugin that
    ``plugins`` accepts uses, when given); else it is ``unchecked``."""
    found = []
    for internal in INTERNALS:
        wanted = plugins is None or any(plugins(p) for p in internal.plugins)
        status: VerdictStatus
        if internal.name in _found or (
            wanted and (internal.eager or load or internal.library in sys.modules)
        ):
            reason = problem(internal.name)
            status = "ok" if reason is None else "degraded"
        else:
            reason, status = None, "unchecked"
        found.append(
            Verdict(internal.name, status, internal.relies_on, internal.fallback, internal.plugins, reason)
        )
    return found


def forget() -> None:
    """Drop every verdict, so the next question checks again (tests that change a shape)."""
    _found.clear()


def plugin_states(infos: Iterable[Any], verdicts: Sequence[Verdict]) -> Iterator[tuple[Any, str, list[str]]]:
    """``(info, status, warnings)`` per plugin (a ``PluginInfo``): a loaded plugin whose
    providers take a fallback is ``degraded``, with each reason among its warnings."""
    for info in infos:
        notes = [
            f"{v.name}: {v.reason}; using {v.fallback} instead"
            for v in verdicts
            if v.status == "degraded" and info.name in v.plugins
        ]
        if notes and info.status == "loaded":
            yield info, "degraded", [*info.warnings, *notes]
        else:
            yield info, info.status, list(info.warnings)
