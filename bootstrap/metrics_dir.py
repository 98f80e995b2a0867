"""The folder prometheus-client's multi-process mode keeps every worker's samples in.

``dawai serve --workers N`` (N > 1) makes one of its own in the temporary folder when
``PROMETHEUS_MULTIPROC_DIR`` is not set, so ``/metrics`` adds up every worker's samples
whichever worker answers it, and removes it when the server stops. A folder the operator
names is emptied of samples first, as prometheus-client asks (a run's samples must not
count in the next).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, MutableMapping
from pathlib import Path

__all__ = ["ENV", "multiprocess_metrics"]

ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextlib.contextmanager
def multiprocess_metrics(environ: MutableMapping[str, str], workers: int) -> Iterator[str | None]:
    """Within: ``environ`` names the folder (workers inherit it); yields it, or None for one
    worker and no folder configured."""
    named = environ.get(ENV)
    if named:
        folder = Path(named)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield named
        return
    if workers <= 1:
        yield None
        return
    made = tempfile.mkdtemp(prefix="dawai-metrics-")
    environ[ENV] = made
    try:
        yield made
    finally:
        environ.pop(ENV, None)
        shutil.rmtree(made, ignore_errors=True)
