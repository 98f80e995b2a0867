"""Imported first by the built-in voice's render workers' forkserver
(``dawai.adapters.inference.render_pool``): numpy, the renderer and both G2P dictionaries
load once there, so every worker forked from it starts with them, shared copy-on-write,
instead of each spending seconds loading its own."""

from __future__ import annotations

from dawai.adapters.inference import builtin_voice as _voice
from dawai.adapters.inference.g2p import english_phonemes, japanese_phonemes

__all__: list[str] = []

_ = _voice
try:
    english_phonemes("la")
    japanese_phonemes("ら")
except Exception:  # a dictionary missing: the worker reports it when a lyric needs it
    pass
