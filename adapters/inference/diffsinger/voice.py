"""``DiffSingerVoice``: one OpenUtau-format voicebank as a ``SingingSynthesizer``.

The render, in a worker thread (the pool's, bounded):

1. lyrics -> the bank's phonemes (``phonemize``) -> syllables (``core.singing``);
2. timing: the rule-based alignment (consonants before the onset; frame counts sum to the
   render's length), then, when the bank has ``dsdur``, each word's frames (a vowel up to
   the next vowel, so every vowel still starts on its note) shared again in proportion to
   the duration model's prediction;
3. f0: the bank's ``dspitch`` model when present, else the rule-based curve (portamento,
   vibrato off: a DiffSinger bank sings its own);
4. variance curves (energy, breathiness, voicing, tension) from ``dsvariance`` when the
   acoustic model takes them;
5. the acoustic model (``tokens``, ``durations``, ``f0`` and the acceleration inputs of its
   generation: ``speedup``; ``speedup`` with int64 ``depth``; float ``depth`` with ``steps``,
   told apart by what the graph declares), the mel rescaled by ln 10 when bank and vocoder
   use different log bases, then the vocoder (``mel``, ``f0``) -> the waveform.

Every model sees ``SP`` padding, 8 frames each side, as OpenUtau does; the padding is cut
from the audio, which is then exactly the alignment's frames times the hop long.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dawai.adapters.inference.diffsinger.bank import Bank, BankError, Predictor
from dawai.adapters.inference.diffsinger.phonemize import BankPhonemizer, language_of
from dawai.adapters.inference.diffsinger.sessions import LoadedModel, SessionPool, check_inputs
from dawai.adapters.inference.g2p import G2PSet
from dawai.core.errors import BrokenVoice, DawaiError
from dawai.core.models import Audio, SynthesisNote, SynthesisProgress, SynthesisRequest, VoiceInfo
from dawai.core.singing import Alignment, align, f0_curve, midi_to_hz, syllables
from dawai.core.singing.phonemes import BREATH, SILENCE
from dawai.ports.singing import ProgressCallback

__all__ = ["DEFAULT_STEPS", "HEAD", "TAIL", "DiffSingerVoice", "acceleration", "fit_frames"]

HEAD = TAIL = 8  # SP frames around every phrase, as OpenUtau pads
DEFAULT_STEPS = 20
VARIANCES = ("energy", "breathiness", "voicing", "tension")
_ACOUSTIC_OPTIONAL = {"speedup", "depth", "steps", "languages", "spk_embed", "gender", "velocity", *VARIANCES}
_DTYPES = {"tensor(int64)": np.int64, "tensor(float)": np.float32, "tensor(bool)": np.bool_}


def acceleration(inputs: dict[str, str], steps: int, depth: float) -> dict[str, NDArray[Any]]:
    """The diffusion-acceleration inputs of the acoustic model's generation, from its
    declared inputs: ``steps`` (+ float ``depth``); int64 ``depth`` + ``speedup``; ``speedup``."""
    if "steps" in inputs:
        out = {"steps": np.array([steps], dtype=np.int64)}
        if "depth" in inputs:
            out["depth"] = np.array([depth], dtype=_DTYPES.get(inputs["depth"], np.float32))
        return out
    if "depth" in inputs:
        whole = round(depth * 1000)
        speedup = max(1, whole // steps)
        return {
            "depth": np.array([whole // speedup * speedup], dtype=np.int64),
            "speedup": np.array([speedup], dtype=np.int64),
        }
    speedup = max(1, 1000 // steps)
    while 1000 % speedup and speedup > 1:
        speedup -= 1
    return {"speedup": np.array([speedup], dtype=np.int64)}


def fit_frames(weights: Sequence[float], total: int) -> list[int]:
    """``total`` frames shared in proportion to ``weights`` (largest remainders), each part
    at least 1 while ``total`` allows; the parts always sum to ``total``."""
    n = len(weights)
    if n == 0:
        return []
    if total < n:
        return [0] * (n - total) + [1] * total
    w = np.clip(np.nan_to_num(np.asarray(weights, dtype=np.float64), nan=1.0), 1e-3, None)
    spare = total - n
    share = w / w.sum() * spare
    parts = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - parts), kind="stable")
    parts[order[: spare - int(parts.sum())]] += 1
    return [int(p) + 1 for p in parts]


def _tensor(values: Any, dtype: Any) -> NDArray[Any]:
    return np.asarray(values, dtype=dtype)[None, ...]


class DiffSingerVoice:
    def __init__(
        self, bank: Bank, pool: SessionPool, executor: Executor, *, steps: int = DEFAULT_STEPS
    ) -> None:
        self.bank = bank
        self._pool = pool
        self._executor = executor
        self._steps = steps
        self._phonemizer = BankPhonemizer(bank, G2PSet())
        self._languages = self._phonemizer.languages()

    # -- the port ---------------------------------------------------------------------

    def voices(self) -> list[VoiceInfo]:
        bank = self.bank
        provider = "cpu" if bank.id in self._pool.fallback else self._pool.provider
        return [
            VoiceInfo(
                id=bank.id,
                name=bank.name,
                languages=self._languages,
                speakers=bank.speakers,
                sample_rate=bank.sample_rate,
                backend="diffsinger",
                execution_provider=provider,
            )
        ]

    def identity(self) -> str:
        return f"diffsinger-1:{self.bank.identity}"

    def warnings(self) -> dict[str, str]:
        found = self._pool.fallback.get(self.bank.id)
        return {self.bank.id: found} if found else {}

    async def synthesize(self, request: SynthesisRequest, progress: ProgressCallback | None = None) -> Audio:
        loop = asyncio.get_running_loop()
        samples = await loop.run_in_executor(self._executor, self.render, request, progress)
        return Audio(samples.astype("<f4").tobytes(), self.bank.sample_rate)

    async def aclose(self) -> None:
        self._pool.forget(self.bank.id)

    # -- sessions ---------------------------------------------------------------------

    def _load(self) -> dict[str, LoadedModel]:
        bank, pool = self.bank, self._pool
        models = {
            "acoustic": pool.open(bank.id, "acoustic", bank.acoustic),
            "vocoder": pool.open(bank.id, "vocoder", bank.vocoder.model),
        }
        acoustic = models["acoustic"].inputs
        check_inputs(bank.id, "acoustic", acoustic, ("tokens", "durations", "f0"), _ACOUSTIC_OPTIONAL)
        if "speedup" not in acoustic and "steps" not in acoustic:
            raise BankError(f"voicebank '{bank.id}': the acoustic model has neither 'speedup' nor 'steps'")
        if "spk_embed" in acoustic and not bank.speakers:
            raise BankError(
                f"voicebank '{bank.id}': the acoustic model takes 'spk_embed' "
                "but dsconfig.yaml lists no speakers"
            )
        check_inputs(bank.id, "vocoder", models["vocoder"].inputs, ("mel", "f0"), ())
        for kind, predictor in bank.predictors.items():
            models[f"{kind}.linguistic"] = pool.open(bank.id, f"{kind} linguistic", predictor.linguistic)
            models[kind] = pool.open(bank.id, kind, predictor.model)
            word_mode = kind == "dur" or predictor.predict_dur
            check_inputs(
                bank.id,
                f"{kind} linguistic",
                models[f"{kind}.linguistic"].inputs,
                ("tokens", "word_div", "word_dur") if word_mode else ("tokens", "ph_dur"),
                ("languages",),
            )
            required, optional = {
                "dur": (("encoder_out", "x_masks", "ph_midi"), ("spk_embed",)),
                "pitch": (
                    ("encoder_out", "note_midi", "note_dur", "ph_dur", "pitch", "retake"),
                    ("speedup", "steps", "expr", "spk_embed", "note_rest"),
                ),
                "variance": (
                    ("encoder_out", "ph_dur", "pitch", "retake", *predictor.variances),
                    ("speedup", "steps", "spk_embed"),
                ),
            }[kind]
            check_inputs(bank.id, kind, models[kind].inputs, required, optional)
        wanted = [v for v in VARIANCES if v in acoustic]
        variance = bank.predictors.get("variance")
        missing = [v for v in wanted if variance is None or v not in variance.variances]
        if missing:
            raise BankError(
                f"voicebank '{bank.id}': the acoustic model takes '{missing[0]}' "
                "and no variance model predicts it"
            )
        return models

    def _models(self) -> dict[str, LoadedModel]:
        try:
            return self._pool.models(self.bank.id, self._load)
        except BankError as exc:
            self._pool.forget(self.bank.id)
            raise BrokenVoice(str(exc)) from None

    # -- the render -------------------------------------------------------------------

    def render(
        self, request: SynthesisRequest, progress: ProgressCallback | None = None
    ) -> NDArray[np.float32]:
        bank = self.bank
        alignment = self._align(request)
        if progress:
            progress(SynthesisProgress("phonemes", 0.05))
        models = self._models()
        try:
            return self._run(request, alignment, models, progress)
        except DawaiError:  # BrokenVoice, or a progress callback cancelling the render
            raise
        except BankError as exc:
            raise BrokenVoice(str(exc)) from None
        except Exception as exc:  # onnxruntime's own failures: shapes a graph cannot take
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BrokenVoice(f"voicebank '{bank.id}': a model failed to run ({first[:200]})") from None

    def _align(self, request: SynthesisRequest) -> Alignment:
        """The rule-based alignment of the request in the bank's phonemes (400 for a lyric
        the bank cannot sing)."""
        ph = self._phonemizer
        sung = syllables([n.lyric for n in request.notes], request.language, ph, ph.kind)
        bank = self.bank
        return align(
            request.notes, sung, sample_rate=bank.sample_rate, hop=bank.hop_size, kind=ph.timing_kind
        )

    def _speaker(
        self, request: SynthesisRequest, embeddings: dict[str, tuple[float, ...]]
    ) -> NDArray[np.float32]:
        name = request.speaker if request.speaker in embeddings else next(iter(embeddings))
        return np.asarray(embeddings[name], dtype=np.float32)

    def _run(
        self,
        request: SynthesisRequest,
        alignment: Alignment,
        models: dict[str, LoadedModel],
        progress: ProgressCallback | None,
    ) -> NDArray[np.float32]:
        bank = self.bank
        notes = request.notes
        steps = request.steps or self._steps
        # A breath is silence to a bank without AP.
        breath = BREATH in bank.phonemes
        phones = [SILENCE, *(p if breath or p != BREATH else SILENCE for p in alignment.phonemes), SILENCE]
        owners = [-1, *alignment.notes, -1]
        frames = [HEAD, *alignment.frames, TAIL]
        if "dur" in bank.predictors:
            frames = self._durations(request, phones, owners, frames, models)
            if progress:
                progress(SynthesisProgress("duration", 0.15))
        total = sum(frames)
        body = alignment.total_frames
        # f0: the notes' curve, or the pitch model's
        base = f0_curve(notes, body, alignment.frame_seconds, key_shift=request.key_shift, portamento=0.08)
        if body:
            base = np.concatenate([np.full(HEAD, base[0]), base, np.full(TAIL, base[-1])])
        else:
            base = np.full(total, midi_to_hz(60.0))
        midi = 69.0 + 12.0 * np.log2(np.maximum(base, 1e-3) / 440.0)
        if "pitch" in bank.predictors:
            midi = self._pitch(request, phones, owners, frames, midi, models, steps)
            if progress:
                progress(SynthesisProgress("pitch", 0.3))
        f0 = midi_to_hz(midi).astype(np.float32)
        variances: dict[str, NDArray[np.float32]] = {}
        acoustic = models["acoustic"]
        if any(v in acoustic.inputs for v in VARIANCES):
            variances = self._variance(request, phones, frames, midi, models, steps)
            if progress:
                progress(SynthesisProgress("variance", 0.45))
        feeds: dict[str, NDArray[Any]] = {
            "tokens": _tensor([bank.phonemes[p] for p in phones], np.int64),
            "durations": _tensor(frames, np.int64),
            "f0": _tensor(f0, np.float32),
            **acceleration(acoustic.inputs, steps, bank.max_depth),
        }
        if "languages" in acoustic.inputs:
            feeds["languages"] = _tensor([bank.languages.get(language_of(p), 0) for p in phones], np.int64)
        if "spk_embed" in acoustic.inputs:
            feeds["spk_embed"] = np.broadcast_to(
                self._speaker(request, bank.embeddings), (1, total, bank.hidden_size)
            ).astype(np.float32)
        if "gender" in acoustic.inputs:
            feeds["gender"] = np.zeros((1, total), dtype=np.float32)
        if "velocity" in acoustic.inputs:
            feeds["velocity"] = np.ones((1, total), dtype=np.float32)
        for name in VARIANCES:
            if name in acoustic.inputs:
                feeds[name] = variances[name][None, :]
        mel = np.asarray(acoustic.run(feeds)[0], dtype=np.float32)
        if progress:
            progress(SynthesisProgress("acoustic", 0.85))
        if mel.ndim != 3 or mel.shape[0] != 1 or mel.shape[1] != total:
            raise BankError(
                f"voicebank '{bank.id}': the acoustic model gave a mel of shape {mel.shape}, "
                f"not (1, {total}, bins)"
            )
        if bank.mel_base != bank.vocoder.mel_base:
            mel = mel * np.float32(math.log(10) if bank.mel_base == "10" else 1 / math.log(10))
        wave = np.asarray(models["vocoder"].run({"mel": mel, "f0": f0[None, :]})[0], dtype=np.float32)
        if wave.ndim != 2 or wave.shape[0] != 1:
            raise BankError(
                f"voicebank '{bank.id}': the vocoder gave a waveform of shape {wave.shape}, not (1, samples)"
            )
        samples = wave[0, HEAD * bank.hop_size : HEAD * bank.hop_size + body * bank.hop_size]
        if len(samples) < body * bank.hop_size:
            samples = np.pad(samples, (0, body * bank.hop_size - len(samples)))
        if progress:
            progress(SynthesisProgress("vocoder", 1.0))
        return np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)

    # -- predictors -------------------------------------------------------------------

    def _tokens(self, predictor: Predictor, phones: Sequence[str]) -> NDArray[np.int64]:
        table = predictor.phonemes
        try:
            return _tensor(
                [table[SILENCE if p == BREATH and p not in table else p] for p in phones], np.int64
            )
        except KeyError as exc:
            raise BankError(
                f"voicebank '{self.bank.id}': phoneme {exc.args[0]!r} is not in "
                f"{predictor.folder.name}'s phoneme list"
            ) from None

    def _words(self, phones: Sequence[str], frames: Sequence[int]) -> tuple[list[int], list[int]]:
        """DiffSinger's words over the padded phones: each starts at a vowel (the first also
        holds the padding and the consonants before it); their lengths and frame sums."""
        starts = [i for i in range(1, len(phones) - 1) if self._phonemizer.is_vowel(phones[i])]
        if not starts:
            starts = [len(phones) - 2] if len(phones) > 2 else []
        cuts = [0, *[s for s in starts if s > 0], len(phones)]
        cuts = sorted(set(cuts))
        div = [b - a for a, b in itertools.pairwise(cuts)]
        dur = [sum(frames[a:b]) for a, b in itertools.pairwise(cuts)]
        return div, dur

    def _encode(
        self, kind: str, phones: Sequence[str], frames: Sequence[int], models: dict[str, LoadedModel]
    ) -> tuple[NDArray[Any], NDArray[Any]]:
        predictor = self.bank.predictors[kind]
        model = models[f"{kind}.linguistic"]
        feeds = {"tokens": self._tokens(predictor, phones)}
        if "word_div" in model.inputs:
            div, dur = self._words(phones, frames)
            feeds["word_div"] = _tensor(div, np.int64)
            feeds["word_dur"] = _tensor(dur, np.int64)
        if "ph_dur" in model.inputs:
            feeds["ph_dur"] = _tensor(frames, np.int64)
        if "languages" in model.inputs:
            feeds["languages"] = _tensor(
                [predictor.languages.get(language_of(p), 0) for p in phones], np.int64
            )
        out = model.run(feeds)
        named = dict(zip(model.outputs, out, strict=False))
        encoder = named.get("encoder_out", out[0])
        masks = named.get("x_masks", out[1] if len(out) > 1 else np.ones(encoder.shape[:2], dtype=np.bool_))
        return encoder, masks

    def _durations(
        self,
        request: SynthesisRequest,
        phones: Sequence[str],
        owners: Sequence[int],
        frames: list[int],
        models: dict[str, LoadedModel],
    ) -> list[int]:
        predictor = self.bank.predictors["dur"]
        encoder, masks = self._encode("dur", phones, frames, models)
        notes = request.notes
        ph_midi = []
        for i, owner in enumerate(owners):
            if owner < 0:  # padding and gaps sing the next note's pitch, else the last one's
                later = next((o for o in owners[i:] if o >= 0), None)
                owner = later if later is not None else max(0, len(notes) - 1)
            ph_midi.append(notes[owner].pitch + request.key_shift)
        feeds: dict[str, NDArray[Any]] = {
            "encoder_out": encoder,
            "x_masks": masks,
            "ph_midi": _tensor(ph_midi, np.int64),
        }
        model = models["dur"]
        if "spk_embed" in model.inputs:
            vector = self._speaker(request, predictor.embeddings)
            feeds["spk_embed"] = np.broadcast_to(vector, (1, len(phones), len(vector))).astype(np.float32)
        predicted = np.asarray(model.run(feeds)[0], dtype=np.float64).reshape(-1)
        if predicted.shape[0] != len(phones):
            raise BankError(
                f"voicebank '{self.bank.id}': the duration model gave {predicted.shape[0]} "
                f"durations for {len(phones)} phonemes"
            )
        # Each word (a vowel up to the next) keeps its frames, shared by the prediction; the
        # padding and the silence before the first vowel stay as the rules placed them.
        out = list(frames)
        starts = [i for i in range(1, len(phones) - 1) if self._phonemizer.is_vowel(phones[i])]
        for a, b in zip(starts, [*starts[1:], len(phones) - 1], strict=True):
            group = range(a, b)
            movable = [i for i in group if phones[i] != SILENCE]
            if len(movable) < 2 or movable != list(range(a, a + len(movable))):
                continue
            span = sum(out[i] for i in movable)
            for i, n in zip(movable, fit_frames([predicted[i] for i in movable], span), strict=True):
                out[i] = n
        return out

    def _note_grid(self, request: SynthesisRequest, total: int) -> tuple[list[float], list[int], list[bool]]:
        """The pitch model's notes over the padded frames: the head, each note with a rest
        for every gap, the tail; their MIDI pitches, frame counts (summing to ``total``), rests."""
        fps = self.bank.sample_rate / self.bank.hop_size
        shift = request.key_shift
        notes: Sequence[SynthesisNote] = request.notes
        edges = [0]
        midi: list[float] = [float(notes[0].pitch + shift)]
        rest = [True]
        cursor = 0
        for note in notes:
            start = HEAD + round(note.start * fps)
            end = HEAD + round((note.start + note.duration) * fps)
            if start > cursor:
                edges.append(start)
                midi.append(float(note.pitch + shift))
                rest.append(cursor > 0)  # a gap between notes is a rest; the head already is
                cursor = start
            if end > cursor:
                edges.append(end)
                midi.append(float(note.pitch + shift))
                rest.append(note.lyric in ("SP", "AP", "-", "R", "br"))
                cursor = end
        edges.append(total)
        durations = fit_frames([max(b - a, 1) for a, b in itertools.pairwise(edges)], total)
        midi = midi[: len(durations)]
        rest = rest[: len(durations)]
        while len(midi) < len(durations):
            midi.append(midi[-1])
            rest.append(True)
        return midi, durations, rest

    def _pitch(
        self,
        request: SynthesisRequest,
        phones: Sequence[str],
        owners: Sequence[int],
        frames: Sequence[int],
        base_midi: NDArray[np.float64],
        models: dict[str, LoadedModel],
        steps: int,
    ) -> NDArray[np.float64]:
        predictor = self.bank.predictors["pitch"]
        encoder, _ = self._encode("pitch", phones, frames, models)
        total = sum(frames)
        note_midi, note_dur, note_rest = self._note_grid(request, total)
        model = models["pitch"]
        feeds: dict[str, NDArray[Any]] = {
            "encoder_out": encoder,
            "note_midi": _tensor(note_midi, np.float32),
            "note_dur": _tensor(note_dur, np.int64),
            "ph_dur": _tensor(frames, np.int64),
            "pitch": _tensor(base_midi, np.float32),
            "retake": np.ones((1, total), dtype=np.bool_),
            **acceleration(model.inputs, steps, 1.0),
        }
        if "expr" in model.inputs:
            feeds["expr"] = np.ones((1, total), dtype=np.float32)
        if "note_rest" in model.inputs:
            feeds["note_rest"] = _tensor(note_rest, np.bool_)
        if "spk_embed" in model.inputs:
            vector = self._speaker(request, predictor.embeddings)
            feeds["spk_embed"] = np.broadcast_to(vector, (1, total, len(vector))).astype(np.float32)
        predicted = np.asarray(model.run(feeds)[0], dtype=np.float64).reshape(-1)
        if predicted.shape[0] != total:
            raise BankError(
                f"voicebank '{self.bank.id}': the pitch model gave {predicted.shape[0]} frames, not {total}"
            )
        return np.clip(np.nan_to_num(predicted, nan=60.0), 0.0, 127.0)

    def _variance(
        self,
        request: SynthesisRequest,
        phones: Sequence[str],
        frames: Sequence[int],
        midi: NDArray[np.float64],
        models: dict[str, LoadedModel],
        steps: int,
    ) -> dict[str, NDArray[np.float32]]:
        predictor = self.bank.predictors["variance"]
        encoder, _ = self._encode("variance", phones, frames, models)
        total = sum(frames)
        model = models["variance"]
        feeds: dict[str, NDArray[Any]] = {
            "encoder_out": encoder,
            "ph_dur": _tensor(frames, np.int64),
            "pitch": _tensor(midi, np.float32),
            "retake": np.ones((1, total, len(predictor.variances)), dtype=np.bool_),
            **acceleration(model.inputs, steps, 1.0),
        }
        for name in predictor.variances:
            feeds[name] = np.zeros((1, total), dtype=np.float32)
        if "spk_embed" in model.inputs:
            vector = self._speaker(request, predictor.embeddings)
            feeds["spk_embed"] = np.broadcast_to(vector, (1, total, len(vector))).astype(np.float32)
        out = dict(zip(model.outputs, model.run(feeds), strict=False))
        curves: dict[str, NDArray[np.float32]] = {}
        for name in predictor.variances:
            got = out.get(f"{name}_pred")
            if got is None:
                raise BankError(f"voicebank '{self.bank.id}': the variance model has no output '{name}_pred'")
            curve = np.asarray(got, dtype=np.float32).reshape(-1)
            if curve.shape[0] != total:
                raise BankError(
                    f"voicebank '{self.bank.id}': the variance model gave {curve.shape[0]} "
                    f"frames of {name}, not {total}"
                )
            curves[name] = np.nan_to_num(curve)
        return curves
