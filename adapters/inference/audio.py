"""Audio encoding: the WAV the singing endpoints answer with."""

from __future__ import annotations

import io

import numpy as np
import soundfile

from dawai.core.models import Audio

__all__ = ["wav_bytes"]


def wav_bytes(audio: Audio) -> bytes:
    """``audio`` as a RIFF WAV file: 16-bit PCM, mono, at its own sample rate."""
    samples = np.frombuffer(audio.samples, dtype="<f4")
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(samples, -1.0, 1.0), audio.sample_rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()
