"""OpenUtau-format DiffSinger voicebanks on onnxruntime (docs/adr/0030).

``register_banks`` (called by the built-in ``dawai.diffsinger`` plugin) registers every bank
folder under ``inference.voices_dir`` as a voice named after its folder; ``bank`` reads and
checks one without loading a model; ``sessions`` makes and caches the ONNX sessions;
``phonemize`` maps lyrics to the bank's phonemes; ``voice`` renders.

Importing this package loads neither numpy nor onnxruntime: a server with banks installed
but never asked to sing keeps its start-up light.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import structlog

from dawai.adapters.inference.diffsinger.bank import BankError, looks_like_bank, read_bank
from dawai.core.settings import Settings
from dawai.ports.singing import SingingSynthesizer, VoiceConfig

__all__ = ["BankError", "read_bank", "register_banks"]

log = structlog.get_logger("dawai.diffsinger")


def register_banks(register: Callable[..., None], settings: Settings) -> None:
    """Register each voicebank folder under ``inference.voices_dir``. A bank whose files are
    wrong is registered with its ``problem`` (so ``/health`` and ``/diffsinger/models`` name it
    from the start) and logged; it never stops the others."""
    inference = settings.inference
    if not inference.voices_dir:
        return
    root = Path(inference.voices_dir)
    if not root.is_dir():
        log.warning("voices_dir_missing", voices_dir=inference.voices_dir)
        return
    shared: dict[str, Any] = {}

    def pool() -> Any:
        if "pool" not in shared:  # one per server: eviction counts every bank
            from dawai.adapters.inference.diffsinger.sessions import SessionPool

            shared["pool"] = SessionPool(
                execution_provider=inference.execution_provider,
                threads=inference.threads,
                max_loaded=inference.max_loaded_voices,
            )
        return shared["pool"]

    def factory(config: VoiceConfig) -> SingingSynthesizer:
        from dawai.adapters.inference.diffsinger.voice import DiffSingerVoice

        if config.folder is None:
            raise BankError(f"voicebank '{config.name}': no folder")
        bank = read_bank(config.folder, inference.vocoders_dir)
        workers = ThreadPoolExecutor(
            max_workers=settings.singing.concurrent_renders, thread_name_prefix="dawai-ds"
        )
        return DiffSingerVoice(bank, pool(), workers)

    for folder in sorted(root.iterdir(), key=lambda p: p.name):
        if folder.name.startswith(".") or not folder.is_dir() or not looks_like_bank(folder):
            continue
        problem = None
        try:
            read_bank(folder, inference.vocoders_dir, hash_files=False)
        except BankError as exc:
            problem = str(exc)[:300]
            log.error("voicebank_broken", voice=folder.name, error=problem)
        register(
            folder.name, factory, description="DiffSinger voicebank", folder=str(folder), problem=problem
        )
