"""ONNX Runtime sessions for voicebanks: where they run, what they take, how many stay loaded.

- **Execution provider.** ``inference.execution_provider``: ``cpu``; ``cuda``; or ``auto``,
  CUDA when the installed onnxruntime (``onnxruntime-gpu``) offers ``CUDAExecutionProvider``,
  else CPU. A CUDA session that cannot be made, or that onnxruntime quietly put on the CPU,
  is made again on the CPU: the voice goes on, a warning is logged and ``fallback`` says why
  (``/ai/api/voice/health`` and ``/health`` show it).
- **Inputs.** Each model's declared inputs are compared with what the pipeline can feed it
  when the session is made: an input it needs and the graph lacks, or one the graph declares
  and the pipeline does not know, is a ``BankError`` naming the bank, the model and the input.
  Only the declared inputs are ever fed.
- **Loading.** A bank's sessions are made on its first render, kept, and dropped (least
  recently used first) when more than ``inference.max_loaded_voices`` banks are loaded; a
  render in progress keeps its own references, so dropping never breaks it.
"""

from __future__ import annotations

import functools
import importlib.metadata
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from dawai.adapters.inference.diffsinger.bank import BankError

__all__ = ["LoadedModel", "SessionPool", "check_inputs", "choose_provider", "planned_provider"]

log = structlog.get_logger("dawai.diffsinger")

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def choose_provider(requested: str, available: Collection[str]) -> str:
    """``cuda`` or ``cpu`` for a setting of ``auto``, ``cpu`` or ``cuda`` and the providers
    the installed onnxruntime offers (``cuda`` asked of a CPU-only build stays ``cuda``: the
    session then falls back, with the warning)."""
    if requested == "auto":
        return "cuda" if CUDA in available else "cpu"
    return requested


@functools.lru_cache(maxsize=4)
def planned_provider(requested: str) -> str:
    """``choose_provider`` without importing onnxruntime (for health answers): CUDA is on
    offer when the ``onnxruntime-gpu`` distribution is installed."""
    if requested != "auto":
        return requested
    try:
        importlib.metadata.distribution("onnxruntime-gpu")
    except importlib.metadata.PackageNotFoundError:
        return "cpu"
    return "cuda"


@dataclass(slots=True)
class LoadedModel:
    """A session and what its graph declares."""

    session: Any
    inputs: dict[str, str]  # name -> ONNX type ("tensor(int64)", ...)
    outputs: list[str]
    provider: str  # "cpu" or "cuda", where it actually runs

    def run(self, feeds: dict[str, Any]) -> list[Any]:
        return list(self.session.run(None, {k: v for k, v in feeds.items() if k in self.inputs}))


def check_inputs(
    bank: str, model: str, declared: Iterable[str], required: Collection[str], optional: Collection[str]
) -> None:
    names = list(declared)
    for name in required:
        if name not in names:
            raise BankError(f"voicebank '{bank}': the {model} model has no input '{name}', which it needs")
    for name in names:
        if name not in required and name not in optional:
            raise BankError(
                f"voicebank '{bank}': the {model} model declares input '{name}', which DAWAI cannot feed"
            )


@dataclass(slots=True)
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    models: dict[str, LoadedModel] | None = None


class SessionPool:
    """The sessions of every loaded bank, shared by the DiffSinger voices of one server."""

    def __init__(self, *, execution_provider: str, threads: int, max_loaded: int) -> None:
        self.requested = execution_provider
        self.threads = threads
        self.max_loaded = max_loaded
        self._lock = threading.Lock()
        self._loaded: OrderedDict[str, _Entry] = OrderedDict()
        self.fallback: dict[str, str] = {}  # bank -> why it runs on the CPU though CUDA was asked
        self.loads = 0  # sessions sets made (a test reads it to see caching and eviction)
        self.evictions = 0
        self._ort: Any = None

    def _runtime(self) -> Any:
        if self._ort is None:
            import onnxruntime

            onnxruntime.set_default_logger_severity(3)  # its warnings are ours to log
            self._ort = onnxruntime
        return self._ort

    @property
    def provider(self) -> str:
        """Where new sessions go first: ``cpu`` or ``cuda``."""
        return choose_provider(self.requested, self._runtime().get_available_providers())

    def loaded(self) -> list[str]:
        with self._lock:
            return [name for name, entry in self._loaded.items() if entry.models is not None]

    def _options(self) -> Any:
        ort = self._runtime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return options

    def open(self, bank: str, model: str, path: Path) -> LoadedModel:
        """One session for ``path``, on CUDA when chosen (falling back to the CPU)."""
        ort = self._runtime()
        want = self.provider
        if want == "cuda":
            if CUDA not in ort.get_available_providers():
                reason = "this onnxruntime has no CUDA provider (install onnxruntime-gpu)"
            else:
                try:
                    session = ort.InferenceSession(str(path), self._options(), providers=[CUDA, CPU])
                    if CUDA in session.get_providers():
                        return _described(session, "cuda")
                    reason = "onnxruntime could not start the CUDA provider (no device, or its libraries)"
                except Exception as exc:
                    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]
            if bank not in self.fallback:
                log.warning("cuda_fallback", voice=bank, model=model, reason=reason, now="cpu")
            self.fallback[bank] = f"CUDA was asked for; running on the CPU: {reason}"
        try:
            session = ort.InferenceSession(str(path), self._options(), providers=[CPU])
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BankError(
                f"voicebank '{bank}': the {model} model {path.name} cannot be loaded ({first[:200]})"
            ) from None
        return _described(session, "cpu")

    def models(self, bank: str, load: Callable[[], dict[str, LoadedModel]]) -> dict[str, LoadedModel]:
        """The bank's sessions, made by ``load`` on first use; the least recently used bank
        beyond ``max_loaded`` is dropped."""
        with self._lock:
            entry = self._loaded.get(bank)
            if entry is None:
                entry = self._loaded[bank] = _Entry()
            self._loaded.move_to_end(bank)
        with entry.lock:
            if entry.models is None:
                entry.models = load()
                self.loads += 1
            models = entry.models
        with self._lock:
            while len(self._loaded) > self.max_loaded:
                name, old = next(iter(self._loaded.items()))
                if name == bank:
                    break
                del self._loaded[name]
                self.evictions += 1
                log.info("voice_unloaded", voice=name, reason="inference.max_loaded_voices")
                old.models = None
        return models

    def forget(self, bank: str) -> None:
        with self._lock:
            self._loaded.pop(bank, None)


def _described(session: Any, provider: str) -> LoadedModel:
    return LoadedModel(
        session=session,
        inputs={i.name: i.type for i in session.get_inputs()},
        outputs=[o.name for o in session.get_outputs()],
        provider=provider,
    )
