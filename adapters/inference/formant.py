"""A formant synthesiser: the built-in voice's acoustic model and vocoder in one.

From an alignment (``dawai.core.singing.timing``) and an f0 curve it builds per-frame
parameters (voicing, aspiration and frication levels, five formants with bandwidths, the
frication band) and renders them in the frequency domain, numpy only:

- sources at the sample rate: a band-limited (PolyBLEP) sawtooth whose phase integrates the
  f0 curve exactly (piecewise linear between frame centres), and seeded white noise;
- every 512 samples a 1024-sample Hann frame of each source, zero-padded to 2048 and
  shaped by that frame's spectral envelope: the voice and the aspiration by a cascade of
  formant resonators (Klatt's magnitude response, 0 dB at DC), frication by a Gaussian band;
- overlap-add (the periodic Hann at 50% overlap sums to one), a gentle limiter.

Chunks of ``CHUNK_FRAMES`` frames bound the memory a render takes, whatever its length.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray

from dawai.core.singing.phonemes import kind_of
from dawai.core.singing.timing import Alignment

__all__ = ["HOP", "SAMPLE_RATE", "FormantRenderer", "FrameParams", "frame_params"]

SAMPLE_RATE = 44100
HOP = 512
WIN = 2 * HOP
NFFT = WIN
KEEP = NFFT * 11025 // SAMPLE_RATE + 1  # bins up to 11 kHz; nothing above is synthesised
CHUNK_FRAMES = 256
F32 = np.float32

# Vowel targets: F1-F4 in Hz (a second row for diphthongs: where they glide to).
_VOWELS: dict[str, tuple[tuple[float, ...], ...]] = {
    "a": ((800, 1200, 2500, 3500),),
    "i": ((300, 2300, 3000, 3700),),
    "u": ((350, 1350, 2400, 3400),),
    "e": ((500, 1900, 2600, 3500),),
    "o": ((500, 850, 2500, 3400),),
    "N": ((280, 1300, 2400, 3300),),
    "iy": ((280, 2250, 2900, 3700),),
    "ih": ((400, 1900, 2550, 3600),),
    "eh": ((550, 1770, 2500, 3500),),
    "ae": ((690, 1660, 2450, 3500),),
    "aa": ((750, 1100, 2450, 3400),),
    "ao": ((580, 880, 2500, 3400),),
    "uh": ((450, 1030, 2300, 3300),),
    "uw": ((320, 950, 2250, 3300),),
    "ah": ((640, 1200, 2400, 3400),),
    "er": ((480, 1350, 1650, 3300),),
    "ay": ((750, 1100, 2450, 3400), (300, 2200, 2900, 3600)),
    "aw": ((750, 1100, 2450, 3400), (350, 900, 2300, 3300)),
    "ey": ((550, 1770, 2500, 3500), (300, 2200, 2900, 3600)),
    "ow": ((580, 880, 2500, 3400), (350, 900, 2300, 3300)),
    "oy": ((580, 880, 2500, 3400), (300, 2200, 2900, 3600)),
}


# Consonants and specials: voicing, aspiration, frication, band centre and width (Hz),
# the fraction of the phoneme that is closure (stops, affricates) and, for sonorants,
# formants of their own (else they take the next vowel's).
class _Sound(msgspec.Struct, frozen=True):
    voice: float = 0.0
    aspiration: float = 0.0
    noise: float = 0.0
    centre: float = 4000.0
    width: float = 3000.0
    closure: float = 0.0
    formants: tuple[float, float, float, float] | None = None


_SOUNDS: dict[str, _Sound] = {
    "p": _Sound(noise=0.35, centre=1000, width=1500, closure=0.65),
    "t": _Sound(noise=0.45, centre=4200, width=2500, closure=0.65),
    "k": _Sound(noise=0.45, centre=2000, width=1200, closure=0.6),
    "ky": _Sound(noise=0.45, centre=3000, width=1500, closure=0.6),
    "py": _Sound(noise=0.35, centre=1500, width=1500, closure=0.65),
    "ty": _Sound(noise=0.45, centre=4000, width=2500, closure=0.6),
    "b": _Sound(voice=0.2, noise=0.2, centre=1000, width=1500, closure=0.7),
    "d": _Sound(voice=0.2, noise=0.25, centre=3800, width=2500, closure=0.7),
    "g": _Sound(voice=0.2, noise=0.25, centre=2000, width=1200, closure=0.7),
    "gy": _Sound(voice=0.2, noise=0.25, centre=2800, width=1500, closure=0.7),
    "by": _Sound(voice=0.2, noise=0.2, centre=1500, width=1500, closure=0.7),
    "dy": _Sound(voice=0.2, noise=0.25, centre=3800, width=2500, closure=0.7),
    "s": _Sound(noise=0.5, centre=6800, width=2200),
    "sh": _Sound(noise=0.5, centre=3300, width=1500),
    "f": _Sound(noise=0.18, centre=4500, width=5000),
    "th": _Sound(noise=0.15, centre=5000, width=5000),
    "hy": _Sound(noise=0.3, centre=3300, width=1500),
    "z": _Sound(voice=0.4, noise=0.3, centre=6500, width=2200),
    "zh": _Sound(voice=0.4, noise=0.3, centre=3200, width=1500),
    "v": _Sound(voice=0.45, noise=0.1, centre=4500, width=5000),
    "dh": _Sound(voice=0.45, noise=0.1, centre=5000, width=5000),
    "ch": _Sound(noise=0.5, centre=3300, width=1500, closure=0.4),
    "ts": _Sound(noise=0.5, centre=6500, width=2200, closure=0.4),
    "j": _Sound(voice=0.3, noise=0.35, centre=3200, width=1500, closure=0.35),
    "jh": _Sound(voice=0.3, noise=0.35, centre=3200, width=1500, closure=0.35),
    "m": _Sound(voice=0.45, formants=(250, 1100, 2300, 3300)),
    "my": _Sound(voice=0.45, formants=(250, 1900, 2600, 3300)),
    "n": _Sound(voice=0.45, formants=(250, 1600, 2600, 3300)),
    "ny": _Sound(voice=0.45, formants=(250, 2000, 2700, 3300)),
    "ng": _Sound(voice=0.45, formants=(250, 2100, 2700, 3300)),
    "r": _Sound(voice=0.6, formants=(350, 1100, 1700, 3300)),
    "ry": _Sound(voice=0.6, formants=(300, 1900, 2500, 3300)),
    "l": _Sound(voice=0.65, formants=(360, 1100, 2700, 3400)),
    "w": _Sound(voice=0.65, formants=(300, 700, 2300, 3300)),
    "y": _Sound(voice=0.65, formants=(280, 2200, 3000, 3600)),
    "h": _Sound(aspiration=0.45),
    "hh": _Sound(aspiration=0.45),
    "cl": _Sound(),
    "SP": _Sound(),
    "AP": _Sound(aspiration=0.18),
}
_BANDWIDTHS = np.array([80.0, 100.0, 140.0, 200.0], dtype=F32)
_F5 = (4500.0, 300.0)
_BREATHINESS = 0.025  # aspiration under every vowel
_NASAL_VOWEL = 0.6  # the moraic N is sung softer


class FrameParams(msgspec.Struct, frozen=True):
    """Per-frame parameters (arrays of ``total_frames``; formants ``(frames, 4)``)."""

    f0: NDArray[np.float32]
    voice: NDArray[np.float32]
    aspiration: NDArray[np.float32]
    noise: NDArray[np.float32]
    centre: NDArray[np.float32]
    width: NDArray[np.float32]
    formants: NDArray[np.float32]


def _smooth(track: NDArray[np.float32], width: int) -> NDArray[np.float32]:
    """A moving average along the first axis (edges held), ``width`` frames wide."""
    if width <= 1 or len(track) < 2:
        return track
    kernel = np.ones(width, dtype=F32) / width
    pad = ((width // 2, width - 1 - width // 2),) + ((0, 0),) * (track.ndim - 1)
    padded = np.pad(track, pad, mode="edge")
    if track.ndim == 1:
        return np.convolve(padded, kernel, mode="valid").astype(F32)
    return np.stack(
        [np.convolve(padded[:, i], kernel, mode="valid") for i in range(track.shape[1])], axis=1
    ).astype(F32)


def frame_params(alignment: Alignment, f0: NDArray[np.float64]) -> FrameParams:
    phonemes = alignment.phonemes
    counts = np.asarray(alignment.frames, dtype=np.int64)
    n = len(phonemes)
    # What each phoneme sounds like, with the formants it aims at (a consonant: the next
    # vowel's, else the previous one's; a diphthong: its two targets).
    starts_f = np.zeros((n, 4), dtype=F32)
    ends_f = np.zeros((n, 4), dtype=F32)
    table = np.zeros((n, 6), dtype=F32)  # voice, aspiration, noise, centre, width, closure
    nearest: list[str] = []
    upcoming = "a"
    for p in reversed(phonemes):
        if p in _VOWELS:
            upcoming = p
        nearest.append(upcoming)
    nearest.reverse()
    for i, p in enumerate(phonemes):
        if p in _VOWELS:
            targets = _VOWELS[p]
            starts_f[i], ends_f[i] = targets[0], targets[-1]
            table[i] = (_NASAL_VOWEL if p == "N" else 1.0, _BREATHINESS, 0.0, 4000.0, 3000.0, 0.0)
            continue
        sound = _SOUNDS.get(p) or _SOUNDS["SP"]
        own = sound.formants or _VOWELS[nearest[i]][0]
        starts_f[i] = ends_f[i] = own
        table[i] = (sound.voice, sound.aspiration, sound.noise, sound.centre, sound.width, sound.closure)
    seg = np.repeat(np.arange(n), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    pos = (np.arange(len(seg)) - first + 0.5) / np.repeat(np.maximum(counts, 1), counts)
    glide = np.clip((pos - 0.3) / 0.6, 0.0, 1.0)
    glide = (glide * glide * (3 - 2 * glide)).astype(F32)[:, None]
    formants = starts_f[seg] + (ends_f[seg] - starts_f[seg]) * glide
    voice, aspiration, noise = table[seg, 0].copy(), table[seg, 1].copy(), table[seg, 2].copy()
    closure = table[seg, 5]
    shut = pos < closure
    noise[shut] = 0.0  # the closure is silent but for a voice bar; the release bursts
    stop_like = closure > 0
    voice[stop_like & ~shut] *= 0.5
    kinds = [kind_of(p) for p in phonemes]
    liquid = np.array([k in ("liquid",) for k in kinds], dtype=bool)
    if liquid.any():  # a flap dips once, at its middle
        dip = liquid[seg]
        voice[dip] *= (0.6 + 0.4 * np.abs(2 * pos[dip] - 1)).astype(F32)
    return FrameParams(
        f0=f0.astype(F32),
        voice=_smooth(voice, 3),
        aspiration=_smooth(aspiration, 3),
        noise=_smooth(noise, 2),
        centre=table[seg, 3],
        width=table[seg, 4],
        formants=_smooth(formants.astype(F32), 5),
    )


def _resonators(freqs: NDArray[np.float32], formants: NDArray[np.float32]) -> NDArray[np.float32]:
    """The cascade's magnitude at ``freqs`` for each frame's F1-F4 (frames x bins), F5 fixed.

    Klatt's resonator: ``(F² + (B/2)²) / sqrt(((f - F)² + (B/2)²) ((f + F)² + (B/2)²))``,
    in kHz so the product of the four denominators stays inside float32."""
    f = (freqs / 1000)[None, :]
    centre = formants / 1000
    half2 = (_BANDWIDTHS / 2000) ** 2
    numerator = np.prod(centre * centre + half2, axis=1, keepdims=True)
    denominator = np.ones((formants.shape[0], freqs.shape[0]), dtype=F32)
    for i in range(4):
        c = centre[:, i : i + 1]
        denominator *= ((f - c) ** 2 + half2[i]) * ((f + c) ** 2 + half2[i])
    return (numerator / np.sqrt(denominator)).astype(F32)


def _fixed_resonator(freqs: NDArray[np.float32], centre: float, width: float) -> NDArray[np.float32]:
    half2 = (width / 2) ** 2
    value = (centre**2 + half2) / np.sqrt(((freqs - centre) ** 2 + half2) * ((freqs + centre) ** 2 + half2))
    return np.asarray(value, dtype=F32)


_NOISE_FRAMES = 64  # the noise repeats every 64 frames (0.74 s): its spectra are computed once


class FormantRenderer:
    """Renders ``FrameParams`` to float32 samples, ``HOP`` per frame."""

    level = 0.06  # voice source scale: a vowel near -14 dBFS RMS

    def __init__(self, sample_rate: int = SAMPLE_RATE) -> None:
        self.sample_rate = sample_rate
        self._freqs = np.fft.rfftfreq(NFFT, 1 / sample_rate).astype(F32)[:KEEP]
        n = np.arange(WIN)
        self._window = (0.5 - 0.5 * np.cos(2 * np.pi * n / WIN)).astype(F32)  # periodic Hann
        self._f5 = _fixed_resonator(self._freqs, *_F5)
        # Seeded white noise, one table: the spectrum of each of its windowed frames.
        noise = np.random.default_rng(0x5EED).standard_normal(_NOISE_FRAMES * HOP + WIN).astype(F32)
        frames = np.lib.stride_tricks.sliding_window_view(noise, WIN)[::HOP][:_NOISE_FRAMES] * self._window
        self._noise = self._spectrum(frames).astype(np.complex64)
        self._bands: dict[tuple[float, float], NDArray[np.float32]] = {}

    def _spectrum(self, frames: NDArray[np.floating[Any]]) -> NDArray[np.complexfloating[Any, Any]]:
        return np.fft.rfft(frames, axis=1)[:, :KEEP]

    def _band(self, centre: float, width: float) -> NDArray[np.float32]:
        band = self._bands.get((centre, width))
        if band is None:
            band = (4.0 * np.exp(-0.5 * ((self._freqs - centre) / width) ** 2)).astype(F32)
            self._bands[(centre, width)] = band
        return band

    def render(
        self, params: FrameParams, seed: int = 0, on_chunk: Callable[[float], None] | None = None
    ) -> NDArray[np.float32]:
        """The samples; ``on_chunk`` is told the fraction done after each chunk (and may
        raise to stop the render there)."""
        total = len(params.f0)
        if total == 0:
            return np.zeros(0, dtype=F32)
        samples = total * HOP
        sr = self.sample_rate
        f0 = params.f0.astype(np.float64)
        # Phase (in cycles) at each frame centre: the trapezoid rule over the linear f0,
        # kept as its fraction so the per-sample arithmetic fits float32.
        phase_at = np.concatenate(([0.0], np.cumsum((f0[:-1] + f0[1:]) / 2 * HOP / sr)))
        frac_at = (phase_at - np.floor(phase_at)).astype(F32)
        slope = np.zeros(total, dtype=F32)
        slope[:-1] = (f0[1:] - f0[:-1]) / HOP
        f0_32 = params.f0.astype(F32)
        # The noise band of each frame, from the few distinct (centre, width) pairs.
        pairs = np.stack([params.centre, params.width], axis=1)
        distinct, code = np.unique(pairs, axis=0, return_inverse=True)
        bands = np.stack([self._band(float(c), float(w)) for c, w in distinct])
        code = code.reshape(-1)
        # STFT frames k = -1 .. total (edge frames hold the first and last parameters).
        ks = np.arange(-1, total + 1)
        idx = np.clip(ks, 0, total - 1)
        # Block j (frame ks[j] = j - 1) covers samples from j * HOP - zero, and lands at out[j * HOP].
        zero = HOP - HOP // 2 + WIN // 2 - (NFFT - WIN) // 2
        out = np.zeros((len(ks) + 3) * HOP, dtype=F32)
        level = F32(self.level)
        view = np.lib.stride_tricks.sliding_window_view
        for c0 in range(0, len(ks), CHUNK_FRAMES):
            c1 = min(c0 + CHUNK_FRAMES, len(ks))
            count = c1 - c0
            lo = int(ks[c0]) * HOP + HOP // 2 - WIN // 2  # the first sample of the chunk's first window
            n = np.arange(lo, lo + (count - 1) * HOP + WIN)
            k0 = np.clip((n - HOP // 2) // HOP, 0, total - 1)
            d = (n - HOP // 2 - k0 * HOP).astype(F32)  # samples past frame k0's centre
            s = slope[k0]
            f = f0_32[k0] + s * d
            phase = frac_at[k0] + (f0_32[k0] * d + s * d * d / 2) / F32(sr)
            t = phase - np.floor(phase)
            dt = np.clip(f / F32(sr), F32(1e-5), F32(0.5))
            saw = 2 * t - 1  # PolyBLEP: the jump's aliasing smoothed out
            lead = t < dt
            x = t[lead] / dt[lead]
            saw[lead] -= x + x - x * x - 1
            tail = t > 1 - dt
            x = (t[tail] - 1) / dt[tail]
            saw[tail] -= x * x + x + x + 1
            spec = self._spectrum(view(saw, WIN)[::HOP][:count] * self._window)
            at = idx[c0:c1]
            envelope = _resonators(self._freqs, params.formants[at]) * self._f5
            noise = self._noise[(ks[c0:c1] + seed) % _NOISE_FRAMES]
            voiced = envelope * (params.voice[at] * level)[:, None]
            hiss = envelope * (params.aspiration[at] * level * 0.5)[:, None]
            hiss += bands[code[at]] * (params.noise[at] * level * 0.5)[:, None]
            blocks = np.fft.irfft(spec * voiced + noise * hiss, n=NFFT, axis=1).astype(F32)
            base = c0 * HOP  # overlap-add, one hop-long slice of every block at a time
            for part in range(NFFT // HOP):
                piece = blocks[:, part * HOP : (part + 1) * HOP].reshape(-1)
                out[base + part * HOP : base + part * HOP + len(piece)] += piece
            if on_chunk is not None:
                on_chunk(c1 / len(ks))
        audio = out[zero : zero + samples]
        return (np.tanh(audio * F32(1.2)) / F32(np.tanh(1.2))).astype(F32)
