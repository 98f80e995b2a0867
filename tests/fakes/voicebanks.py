"""Tiny OpenUtau-format DiffSinger voicebanks, written at test time.

Every model is a real ONNX graph (opset 17) built with ``onnx.helper`` with seeded random
weights and the exact input and output names of its format generation; nothing binary is
committed. What they compute is simple enough to check from outside:

- the acoustic model's mel is ``level`` plus a small seeded-random function of f0, one
  row per frame of its ``f0`` input; every other input it declares is consumed (times 0),
  so onnxruntime really receives it;
- the vocoder sings a sine at its ``f0`` input (hop samples a frame, phase accumulated),
  its amplitude ``0.2 * mean(mel)``: a mel rescaled by ln 10 shows in the level;
- the duration model predicts ``1 + mean|encoder_out|`` frames a phoneme; the pitch model
  returns its ``pitch`` input plus ``pitch_offset`` semitones; the variance model a
  constant curve for each variance.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from dawai.core.singing.phonemes import KINDS

__all__ = ["PHONEMES", "BankSpec", "acoustic_model", "vocoder_model", "write_bank"]

OPSET = [helper.make_opsetid("", 17)]
PHONEMES = [
    "<PAD>", "SP", "AP", "a", "i", "u", "e", "o", "N", "cl", "k", "g", "s", "z", "t", "d", "n", "h", "b",
    "p", "m", "y", "r", "w", "sh", "ch", "ts", "j", "f", "ky", "ny", "ry", "hy", "my", "gy", "by", "py",
    "aa", "ae", "ah", "ao", "aw", "ay", "eh", "er", "ey", "ih", "iy", "ow", "oy", "uh", "uw",
    "l", "hh", "ng", "th", "dh", "v", "zh", "jh",
]  # fmt: skip
_ONNX_TYPES = {"int64": TensorProto.INT64, "float": TensorProto.FLOAT, "bool": TensorProto.BOOL}


class _Graph:
    """A small graph builder: named nodes, initializers, inputs, outputs."""

    def __init__(self, seed: int) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self.rng = np.random.default_rng(seed)
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, value: Any, hint: str = "c") -> str:
        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, kind: str, *inputs: str, hint: str = "", **attrs: Any) -> str:
        out = self.name(hint or kind.lower())
        self.nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out

    def input(self, name: str, dtype: str, shape: list[Any]) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, _ONNX_TYPES[dtype], shape))
        return name

    def output(self, source: str, name: str, dtype: str, shape: list[Any]) -> None:
        self.nodes.append(helper.make_node("Identity", [source], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, _ONNX_TYPES[dtype], shape))

    def zero_of(self, *names: str) -> str:
        """A float scalar 0 that depends on every named input (so each is really consumed)."""
        total = self.const(np.float32(0.0), "zero")
        for n in names:
            cast = self.op("Cast", n, to=TensorProto.FLOAT)
            total = self.op("Add", total, self.op("ReduceSum", cast, keepdims=0))
        return self.op("Mul", total, self.const(np.float32(0.0)))

    def save(self, path: Path, graph_name: str) -> None:
        graph = helper.make_graph(self.nodes, graph_name, self.inputs, self.outputs, self.inits)
        model = helper.make_model(graph, opset_imports=OPSET, producer_name="dawai-tests")
        model.ir_version = 8
        onnx.checker.check_model(model)
        path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(path))


# The acoustic inputs of each generation, beside tokens, durations and f0.
GENERATIONS: dict[int, dict[str, str]] = {
    1: {"speedup": "int64"},
    2: {"depth": "int64", "speedup": "int64"},
    3: {"depth": "float", "steps": "int64"},
}


def acoustic_model(
    path: Path,
    *,
    generation: int = 1,
    bins: int = 128,
    level: float = 1.0,
    seed: int = 0,
    extra: dict[str, tuple[str, list[Any]]] | None = None,
    rename: dict[str, str] | None = None,
    hidden: int = 0,
) -> None:
    g = _Graph(seed)
    rename = rename or {}
    tokens = g.input(rename.get("tokens", "tokens"), "int64", [1, "n_tokens"])
    durations = g.input(rename.get("durations", "durations"), "int64", [1, "n_tokens"])
    f0 = g.input(rename.get("f0", "f0"), "float", [1, "n_frames"])
    others = [g.input(n, t, [1]) for n, t in GENERATIONS[generation].items()]
    for name, (dtype, shape) in (extra or {}).items():
        others.append(g.input(name, dtype, shape))
    logf = g.op("Log", g.op("Add", f0, g.const(np.float32(1.0))))
    feat = g.op("Unsqueeze", logf, g.const(np.array([2], dtype=np.int64)))  # [1, T, 1]
    weight = g.const(g.rng.standard_normal((1, bins)).astype(np.float32), "w")
    mel = g.op("Tanh", g.op("Mul", g.op("MatMul", feat, weight), g.const(np.float32(0.01))))
    mel = g.op("Add", g.op("Mul", mel, g.const(np.float32(0.01))), g.const(np.float32(level)))
    mel = g.op("Add", mel, g.zero_of(tokens, durations, *others))
    g.output(mel, "mel", "float", [1, "n_frames", bins])
    g.save(path, "acoustic")


def vocoder_model(
    path: Path, *, hop: int = 512, sample_rate: int = 44100, bins: int = 128, seed: int = 1
) -> None:
    g = _Graph(seed)
    mel = g.input("mel", "float", [1, "n_frames", bins])
    f0 = g.input("f0", "float", [1, "n_frames"])
    per_sample = g.op("Expand", g.op("Unsqueeze", f0, g.const(np.array([2], dtype=np.int64))),
                      g.const(np.array([1, 1, hop], dtype=np.int64)))  # fmt: skip
    flat = g.op("Reshape", per_sample, g.const(np.array([1, -1], dtype=np.int64)))
    cycles = g.op("CumSum", g.op("Div", flat, g.const(np.float32(sample_rate))), g.const(np.int64(1)))
    frac = g.op("Sub", cycles, g.op("Floor", cycles))  # keeps float32 phase exact
    wave = g.op("Sin", g.op("Mul", frac, g.const(np.float32(2 * np.pi))))
    amplitude = g.op("Mul", g.op("ReduceMean", mel, keepdims=0), g.const(np.float32(0.2)))
    g.output(g.op("Mul", wave, amplitude), "waveform", "float", [1, "n_samples"])
    g.save(path, "vocoder")


def linguistic_model(path: Path, *, word_mode: bool, hidden: int, languages: bool, seed: int) -> None:
    g = _Graph(seed)
    tokens = g.input("tokens", "int64", [1, "n_tokens"])
    used = [tokens]
    if word_mode:
        used += [g.input("word_div", "int64", [1, "n_words"]), g.input("word_dur", "int64", [1, "n_words"])]
    else:
        used.append(g.input("ph_dur", "int64", [1, "n_tokens"]))
    if languages:
        used.append(g.input("languages", "int64", [1, "n_tokens"]))
    as_float = g.op(
        "Unsqueeze", g.op("Cast", tokens, to=TensorProto.FLOAT), g.const(np.array([2], dtype=np.int64))
    )
    weight = g.const((g.rng.standard_normal((1, hidden)) * 0.1).astype(np.float32), "w")
    encoded = g.op("Add", g.op("Tanh", g.op("MatMul", as_float, weight)), g.zero_of(*used[1:]))
    g.output(encoded, "encoder_out", "float", [1, "n_tokens", hidden])
    g.output(g.op("Greater", tokens, g.const(np.int64(-1))), "x_masks", "bool", [1, "n_tokens"])
    g.save(path, "linguistic")


def duration_model(path: Path, *, hidden: int, speakers: bool, seed: int) -> None:
    g = _Graph(seed)
    encoder = g.input("encoder_out", "float", [1, "n_tokens", hidden])
    used = [g.input("x_masks", "bool", [1, "n_tokens"]), g.input("ph_midi", "int64", [1, "n_tokens"])]
    if speakers:
        used.append(g.input("spk_embed", "float", [1, "n_tokens", hidden]))
    mean = g.op("ReduceMean", g.op("Abs", encoder), axes=[2], keepdims=0)  # opset 17: axes an attribute
    pred = g.op("Add", g.op("Add", g.op("Mul", mean, g.const(np.float32(20.0))), g.const(np.float32(1.0))),
                g.zero_of(*used))  # fmt: skip
    g.output(pred, "ph_dur_pred", "float", [1, "n_tokens"])
    g.save(path, "duration")


def pitch_model(path: Path, *, hidden: int, offset: float, continuous: bool, seed: int) -> None:
    g = _Graph(seed)
    used = [
        g.input("encoder_out", "float", [1, "n_tokens", hidden]),
        g.input("note_midi", "float", [1, "n_notes"]),
        g.input("note_dur", "int64", [1, "n_notes"]),
        g.input("ph_dur", "int64", [1, "n_tokens"]),
        g.input("retake", "bool", [1, "n_frames"]),
        g.input("steps" if continuous else "speedup", "int64", [1]),
    ]
    pitch = g.input("pitch", "float", [1, "n_frames"])
    out = g.op("Add", g.op("Add", pitch, g.const(np.float32(offset))), g.zero_of(*used))
    g.output(out, "pitch_pred", "float", [1, "n_frames"])
    g.save(path, "pitch")


def variance_model(path: Path, *, hidden: int, variances: tuple[str, ...], seed: int) -> None:
    g = _Graph(seed)
    used = [
        g.input("encoder_out", "float", [1, "n_tokens", hidden]),
        g.input("ph_dur", "int64", [1, "n_tokens"]),
        g.input("retake", "bool", [1, "n_frames", len(variances)]),
        g.input("speedup", "int64", [1]),
    ]
    pitch = g.input("pitch", "float", [1, "n_frames"])
    zero = g.zero_of(*used)
    for i, name in enumerate(variances):
        curve = g.input(name, "float", [1, "n_frames"])
        value = g.op("Add", g.op("Mul", pitch, g.const(np.float32(0.0))), g.const(np.float32(-20.0 + i)))
        g.output(g.op("Add", g.op("Add", value, g.op("Mul", curve, g.const(np.float32(0.0)))), zero),
                 f"{name}_pred", "float", [1, "n_frames"])  # fmt: skip
    g.save(path, "variance")


def _yaml(path: Path, data: dict[str, Any]) -> None:
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@dataclass
class BankSpec:
    generation: int = 1
    name: str = "Test Singer"
    mel_base: str = "10"
    vocoder_mel_base: str = "10"
    vocoder_in_bank: bool = True  # dsvocoder/, else a package named "tiny_hifigan" in vocoders_dir
    speakers: tuple[str, ...] = ()
    multilingual: bool = False  # phonemes ja/a, en/aa ... and languages.json
    phonemes_json: bool = False
    character_cp932: bool = False
    dur: bool = False
    pitch_offset: float | None = None  # a dspitch that sings this many semitones up
    variance: tuple[str, ...] = ()  # a dsvariance predicting these, fed to the acoustic model
    dictionary: dict[str, list[str]] = field(default_factory=dict)
    dictionary_language: str = ""  # "en": written as dsdict-en.yaml
    replacements: dict[str, str] = field(default_factory=dict)
    acoustic_rename: dict[str, str] = field(default_factory=dict)
    acoustic_extra: dict[str, tuple[str, list[Any]]] = field(default_factory=dict)
    hidden: int = 16
    bins: int = 128
    level: float = 1.0
    seed: int = 0


def _phoneme_list(spec: BankSpec) -> list[str]:
    if not spec.multilingual:
        return PHONEMES
    japanese = [f"ja/{p}" for p in PHONEMES[3:37]]
    consonants = ["n", "t", "k", "s", "m", "r", "d", "w", "y", "p", "b", "g", "z", "f", "sh", "ch"]
    english = [f"en/{p}" for p in [*PHONEMES[37:], *consonants]]
    return PHONEMES[:3] + japanese + english


def _write_phonemes(folder: Path, spec: BankSpec, names: list[str]) -> str:
    if spec.phonemes_json:
        (folder / "phonemes.json").write_text(
            json.dumps({p: i for i, p in enumerate(names)}), encoding="utf-8"
        )
        return "phonemes.json"
    (folder / "phonemes.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    return "phonemes.txt"


def write_bank(
    root: Path, folder_name: str, spec: BankSpec | None = None, vocoders_dir: Path | None = None
) -> Path:
    """A complete bank at ``root/folder_name``; returns its folder."""
    spec = spec or BankSpec()
    folder = root / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    names = _phoneme_list(spec)
    phonemes_file = _write_phonemes(folder, spec, names)
    if spec.character_cp932:
        (folder / "character.txt").write_bytes(f"name={spec.name}\nauthor=テスト\n".encode("cp932"))
    else:
        _yaml(folder / "character.yaml", {"name": spec.name, "singer_type": "diffsinger"})
    extra = dict(spec.acoustic_extra)
    config: dict[str, Any] = {
        "acoustic": "acoustic.onnx",
        "phonemes": phonemes_file,
        "vocoder": "tiny_hifigan",
        "mel_base": spec.mel_base,
        "hiddenSize": spec.hidden,
        "num_mel_bins": spec.bins,
    }
    if spec.generation == 2:
        config.update(use_shallow_diffusion=True, max_depth=600)
    if spec.generation == 3:
        config.update(useContinuousAcceleration=True, use_variable_depth=True, max_depth=0.6)
    if spec.multilingual:
        config.update(use_lang_id=True, languages="languages.json")
        (folder / "languages.json").write_text(json.dumps({"ja": 1, "en": 2}), encoding="utf-8")
        extra["languages"] = ("int64", [1, "n_tokens"])
    if spec.speakers:
        (folder / "embeds").mkdir(exist_ok=True)
        rng = np.random.default_rng(spec.seed + 7)
        for speaker in spec.speakers:
            vector = rng.standard_normal(spec.hidden).astype("<f4")
            (folder / "embeds" / f"{speaker}.emb").write_bytes(struct.pack(f"<{spec.hidden}f", *vector))
        config["speakers"] = [f"embeds/{s}" for s in spec.speakers]
        extra["spk_embed"] = ("float", [1, "n_frames", spec.hidden])
    for name in spec.variance:
        config[f"use{name.capitalize()}Embed"] = True
        extra[name] = ("float", [1, "n_frames"])
    _yaml(folder / "dsconfig.yaml", config)
    acoustic_model(folder / "acoustic.onnx", generation=spec.generation, bins=spec.bins, level=spec.level,
                   seed=spec.seed, extra=extra, rename=spec.acoustic_rename)  # fmt: skip
    vocoder_spec = {
        "name": "tiny_hifigan",
        "model": "vocoder.onnx",
        "mel_base": spec.vocoder_mel_base,
        "num_mel_bins": spec.bins,
    }
    if spec.vocoder_in_bank:
        target = folder / "dsvocoder"
    else:
        assert vocoders_dir is not None, "a vocoder outside the bank needs vocoders_dir"
        target = vocoders_dir / "tiny_hifigan"
    _yaml(target / "vocoder.yaml", vocoder_spec)
    vocoder_model(target / "vocoder.onnx", bins=spec.bins, seed=spec.seed + 1)
    if spec.dictionary or spec.replacements:
        entries = [{"grapheme": k, "phonemes": v} for k, v in spec.dictionary.items()]
        replacements = [{"from": k, "to": v} for k, v in spec.replacements.items()]
        kinds = {"vowel": "vowel", "glide": "semivowel", "liquid": "liquid", "nasal": "nasal"}
        symbols = [
            {"symbol": p, "type": kinds.get(KINDS.get(p.split("/")[-1], ""), "stop")} for p in names[1:]
        ]
        file = f"dsdict-{spec.dictionary_language}.yaml" if spec.dictionary_language else "dsdict.yaml"
        _yaml(folder / file, {"entries": entries, "symbols": symbols, "replacements": replacements})
    predictors: list[tuple[str, str]] = []
    if spec.dur:
        predictors.append(("dsdur", "dur"))
    if spec.pitch_offset is not None:
        predictors.append(("dspitch", "pitch"))
    if spec.variance:
        predictors.append(("dsvariance", "variance"))
    for sub_name, kind in predictors:
        sub = folder / sub_name
        sub.mkdir(exist_ok=True)
        sub_phonemes = _write_phonemes(sub, spec, names)
        sub_config: dict[str, Any] = {
            "phonemes": sub_phonemes,
            "linguistic": "linguistic.onnx",
            kind: f"{kind}.onnx",
            "hiddenSize": spec.hidden,
            "predict_dur": kind == "dur",
        }
        if kind == "variance":
            for name in ("energy", "breathiness", "voicing", "tension"):
                sub_config[f"predict_{name}"] = name in spec.variance
        if spec.multilingual:
            sub_config.update(use_lang_id=True, languages="languages.json")
            (sub / "languages.json").write_text(json.dumps({"ja": 1, "en": 2}), encoding="utf-8")
        _yaml(sub / "dsconfig.yaml", sub_config)
        linguistic_model(sub / "linguistic.onnx", word_mode=kind == "dur", hidden=spec.hidden,
                         languages=spec.multilingual, seed=spec.seed + 3)  # fmt: skip
        if kind == "dur":
            duration_model(sub / "dur.onnx", hidden=spec.hidden, speakers=False, seed=spec.seed + 4)
        elif kind == "pitch":
            pitch_model(sub / "pitch.onnx", hidden=spec.hidden, offset=spec.pitch_offset or 0.0,
                        continuous=False, seed=spec.seed + 5)  # fmt: skip
        else:
            variance_model(
                sub / "variance.onnx", hidden=spec.hidden, variances=spec.variance, seed=spec.seed + 6
            )
    return folder
