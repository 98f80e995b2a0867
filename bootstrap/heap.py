"""Keeping the garbage collector's long pauses out of the request path (docs/adr/0009).

After start-up the process holds many long-lived objects (Litestar, pydantic, the
provider SDKs' types). Every full collection walks all of them, long enough to show in
the latency of somebody's stream (the ADR has the measurements). ``settle_heap``
collects once, then freezes what is left into the permanent generation, which the
collector never scans. It runs when the app has started and again after a provider's
SDK is loaded (lazily, on a provider's first use), so the SDK's objects are frozen too.
"""

from __future__ import annotations

import gc

__all__ = ["settle_heap"]


def settle_heap() -> None:
    gc.collect()
    gc.freeze()
