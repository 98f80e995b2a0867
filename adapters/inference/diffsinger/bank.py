"""An OpenUtau-format DiffSinger voicebank on disk, read and checked without loading a model.

A bank is a folder (its name is the voice's id) holding:

- ``character.txt`` (``name=...``; UTF-8, else cp932 as older Japanese banks are written)
  and/or ``character.yaml`` (``name``, ``subbanks``...): the display name;
- ``dsconfig.yaml``: the acoustic model, its phoneme list, languages, speakers and mel
  specification, each key defaulting as OpenUtau's ``DsConfig`` does;
- the phoneme list: ``.json`` (phoneme -> token) or ``.txt`` (one a line, the line number
  is the token; ``<PAD>`` on line 0 by convention);
- ``languages.json`` (language -> id) when ``use_lang_id``; speaker embeddings
  ``<speaker>.emb`` (``hidden_size`` little-endian float32s) for each of ``speakers``;
- optionally ``dsdur/``, ``dspitch/``, ``dsvariance/``: the duration, pitch and variance
  predictors, each a folder with a ``dsconfig.yaml`` of its own (``linguistic`` plus
  ``dur``, ``pitch`` or ``variance``);
- optionally ``dsdict.yaml`` and ``dsdict-<language>.yaml``: the bank's dictionaries
  (``entries`` grapheme -> phonemes, ``symbols`` with their types, ``replacements`` from a
  G2P's phoneme to the bank's), the language's own first, as OpenUtau reads them;
- the vocoder: ``dsvocoder/vocoder.yaml`` in the bank, else the package named by
  ``dsconfig.yaml``'s ``vocoder`` in ``inference.vocoders_dir``.

``read_bank`` returns a ``Bank`` or raises ``BankError`` naming the bank and what is wrong;
it opens no ONNX file (that happens on first use, ``sessions``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "MAX_CONFIG_BYTES",
    "Bank",
    "BankError",
    "Predictor",
    "VocoderSpec",
    "looks_like_bank",
    "read_bank",
]

# A configuration, dictionary or phoneme file larger than this is refused (a bank's are
# kilobytes; a dsdict of a big language a few megabytes).
MAX_CONFIG_BYTES = 32 * 1024 * 1024
SAMPLE_RATE = 44100


class BankError(Exception):
    """A voicebank that cannot be used, with the reason (the bank's name is in the text)."""


@dataclass(frozen=True, slots=True)
class VocoderSpec:
    folder: Path
    model: Path
    sample_rate: int
    hop_size: int
    win_size: int
    fft_size: int
    num_mel_bins: int
    mel_fmin: float
    mel_fmax: float
    mel_base: str
    mel_scale: str
    pitch_controllable: bool


@dataclass(frozen=True, slots=True)
class Predictor:
    """One of ``dsdur``, ``dspitch``, ``dsvariance``: its linguistic encoder and model."""

    kind: str  # "dur", "pitch", "variance"
    folder: Path
    linguistic: Path
    model: Path
    phonemes: dict[str, int]
    languages: dict[str, int]
    speakers: tuple[str, ...]
    embeddings: dict[str, tuple[float, ...]]
    hidden_size: int
    hop_size: int
    sample_rate: int
    predict_dur: bool
    continuous: bool  # useContinuousAcceleration: ``steps``, else ``speedup``
    use_expr: bool
    use_note_rest: bool
    variances: tuple[str, ...]  # for dsvariance: which of energy, breathiness, voicing, tension


@dataclass(frozen=True, slots=True)
class DsDict:
    """One ``dsdict*.yaml``: whole lyrics to phonemes, and a G2P's phonemes renamed."""

    entries: dict[str, tuple[str, ...]]
    replacements: dict[str, str]


@dataclass(frozen=True, slots=True)
class Bank:
    id: str
    name: str
    folder: Path
    acoustic: Path
    phonemes: dict[str, int]
    languages: dict[str, int]
    speakers: tuple[str, ...]  # the speaker names a request may choose (basename of each entry)
    embeddings: dict[str, tuple[float, ...]]  # speaker name -> its embedding
    hidden_size: int
    sample_rate: int
    hop_size: int
    mel_base: str
    max_depth: float  # in the acoustic's own unit: 0..1 of the diffusion (OpenUtau's maxDepth)
    continuous: bool
    use_key_shift_embed: bool
    use_speed_embed: bool
    key_shift_range: tuple[float, float]
    vocoder: VocoderSpec
    # language ("" for dsdict.yaml) -> its dictionary
    dictionaries: dict[str, DsDict] = field(default_factory=dict)
    symbol_types: dict[str, str] = field(default_factory=dict)
    predictors: dict[str, Predictor] = field(default_factory=dict)
    identity: str = ""  # hashes of every file a render reads: the phrase cache keys on it

    @property
    def frame_seconds(self) -> float:
        return self.hop_size / self.sample_rate


def looks_like_bank(folder: Path) -> bool:
    """Whether a folder under ``voices_dir`` is meant as a DiffSinger bank."""
    return any((folder / name).is_file() for name in ("dsconfig.yaml", "character.yaml", "character.txt"))


def _read_bytes(path: Path, what: str, bank: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise BankError(
                f"voicebank '{bank}': {what} {path.name} is {size} bytes, over {MAX_CONFIG_BYTES}"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise BankError(f"voicebank '{bank}': {what} {path.name} is missing") from None
    except OSError as exc:
        raise BankError(f"voicebank '{bank}': cannot read {what} {path.name}: {exc.strerror}") from None


def _yaml(path: Path, what: str, bank: str) -> dict[str, Any]:
    raw = _read_bytes(path, what, bank)
    try:
        data = yaml.safe_load(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BankError(f"voicebank '{bank}': {what} {path.name} is not valid YAML ({reason})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BankError(f"voicebank '{bank}': {what} {path.name} must be a mapping")
    return data


def _json_map(path: Path, what: str, bank: str) -> dict[str, int]:
    raw = _read_bytes(path, what, bank)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise BankError(f"voicebank '{bank}': {what} {path.name} is not valid JSON") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in data.items()
    ):
        raise BankError(f"voicebank '{bank}': {what} {path.name} must map names to ids (0 or more)")
    return data


def _inside(folder: Path, relative: Any, key: str, bank: str) -> Path:
    """``folder / relative``, refused when it is not a plain relative path inside the bank."""
    if not isinstance(relative, str) or not relative:
        raise BankError(f"voicebank '{bank}': dsconfig.yaml key '{key}' must name a file")
    path = (folder / relative).resolve()
    root = folder.resolve()
    if root not in path.parents and path != root:
        raise BankError(f"voicebank '{bank}': '{key}' points outside the voicebank ({relative})")
    return path


def _phonemes(path: Path, bank: str) -> dict[str, int]:
    if path.suffix.lower() == ".json":
        table = _json_map(path, "phoneme list", bank)
    else:
        text = _read_bytes(path, "phoneme list", bank).decode("utf-8-sig", errors="replace")
        lines = text.splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        table = {}
        for index, line in enumerate(lines):
            table.setdefault(line.strip(), index)
    if "SP" not in table:
        raise BankError(f"voicebank '{bank}': phoneme list {path.name} has no SP (silence)")
    return table


def _number(config: Mapping[str, Any], key: str, default: float, bank: str, file: str) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BankError(f"voicebank '{bank}': {file} key '{key}' must be a number")
    return float(value)


def _integer(config: Mapping[str, Any], key: str, default: int, bank: str, file: str, low: int = 1) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise BankError(f"voicebank '{bank}': {file} key '{key}' must be a whole number, {low} or more")
    return value


def _flag(config: Mapping[str, Any], key: str, default: bool, bank: str, file: str) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise BankError(f"voicebank '{bank}': {file} key '{key}' must be true or false")
    return value


def _mel_base(value: Any, bank: str, where: str) -> str:
    text = str(value)
    if text not in ("10", "e"):
        raise BankError(f"voicebank '{bank}': {where} mel_base must be 10 or e, not {text!r}")
    return text


def _speakers(
    folder: Path, config: Mapping[str, Any], hidden: int, bank: str
) -> tuple[tuple[str, ...], dict[str, tuple[float, ...]]]:
    raw = config.get("speakers")
    if raw is None:
        return (), {}
    if not isinstance(raw, list) or not raw or not all(isinstance(s, str) and s for s in raw):
        raise BankError(f"voicebank '{bank}': dsconfig.yaml 'speakers' must be a list of embedding names")
    names: list[str] = []
    embeddings: dict[str, tuple[float, ...]] = {}
    for entry in raw:
        path = _inside(folder, entry + ".emb", "speakers", bank)
        data = _read_bytes(path, "speaker embedding", bank)
        if len(data) != hidden * 4:
            raise BankError(
                f"voicebank '{bank}': speaker embedding {path.name} holds {len(data)} bytes, "
                f"not hidden_size {hidden} float32s ({hidden * 4} bytes)"
            )
        import numpy as np

        vector = np.frombuffer(data, dtype="<f4")
        if not np.all(np.isfinite(vector)):
            raise BankError(f"voicebank '{bank}': speaker embedding {path.name} holds a NaN or infinity")
        name = Path(entry).name
        if name in embeddings:
            raise BankError(f"voicebank '{bank}': speaker '{name}' is listed twice")
        names.append(name)
        embeddings[name] = tuple(float(x) for x in vector)
    return tuple(names), embeddings


def _display_name(folder: Path, bank: str) -> str:
    name = ""
    txt = folder / "character.txt"
    if txt.is_file():
        raw = _read_bytes(txt, "character.txt", bank)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp932", errors="replace")
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip().lower() == "name" and value.strip():
                name = value.strip()
                break
    character = folder / "character.yaml"
    if character.is_file():
        data = _yaml(character, "character.yaml", bank)
        if isinstance(data.get("name"), str) and data["name"].strip():
            name = data["name"].strip()
    return (name or bank)[:200]


def _dictionaries(folder: Path, bank: str) -> tuple[dict[str, DsDict], dict[str, str]]:
    """Every ``dsdict.yaml`` (language "") and ``dsdict-<language>.yaml``, and the symbol
    types they declare."""
    found: dict[str, DsDict] = {}
    types: dict[str, str] = {}
    for path in sorted(folder.glob("dsdict*.yaml")):
        stem = path.stem
        if stem != "dsdict" and not stem.startswith("dsdict-"):
            continue
        language = stem.removeprefix("dsdict").removeprefix("-")
        data = _yaml(path, "dictionary", bank)
        entries: dict[str, tuple[str, ...]] = {}
        for item in data.get("entries") or []:
            if not isinstance(item, dict):
                raise BankError(f"voicebank '{bank}': {path.name} entries must be mappings")
            grapheme, phonemes = item.get("grapheme"), item.get("phonemes")
            if not isinstance(grapheme, str) or not isinstance(phonemes, list) or not phonemes:
                raise BankError(
                    f"voicebank '{bank}': {path.name} entry {item!r:.60} needs grapheme and phonemes"
                )
            entries.setdefault(grapheme, tuple(str(p) for p in phonemes))
        replacements: dict[str, str] = {}
        for item in data.get("replacements") or []:
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("from"), str)
                or not isinstance(item.get("to"), str)
            ):
                raise BankError(f"voicebank '{bank}': {path.name} replacements need 'from' and 'to'")
            replacements[item["from"]] = item["to"]
        for item in data.get("symbols") or []:
            if isinstance(item, dict) and isinstance(item.get("symbol"), str):
                types.setdefault(item["symbol"].strip(), str(item.get("type", "consonant")).lower())
        found[language] = DsDict(entries, replacements)
    return found, types


def _file_hash(path: Path, bank: str) -> str:
    """A model file's fingerprint: its size, modification time and first and last MiB (a
    bank's models are hundreds of MB; reading them whole would stall the first request)."""
    digest = hashlib.blake2b(digest_size=12)
    try:
        stat = path.stat()
        digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        with path.open("rb") as handle:
            digest.update(handle.read(1 << 20))
            if stat.st_size > 2 << 20:
                handle.seek(-(1 << 20), os.SEEK_END)
                digest.update(handle.read(1 << 20))
    except FileNotFoundError:
        raise BankError(f"voicebank '{bank}': {path.name} is missing") from None
    except OSError as exc:
        raise BankError(f"voicebank '{bank}': cannot read {path.name}: {exc.strerror}") from None
    return digest.hexdigest()


def _vocoder(folder: Path, config: Mapping[str, Any], vocoders_dir: str | None, bank: str) -> VocoderSpec:
    local = folder / "dsvocoder"
    if (local / "vocoder.yaml").is_file():
        where = local
    else:
        name = config.get("vocoder")
        if not isinstance(name, str) or not name:
            raise BankError(f"voicebank '{bank}': no dsvocoder/ folder and dsconfig.yaml names no vocoder")
        if not vocoders_dir:
            raise BankError(
                f"voicebank '{bank}': vocoder '{name}' is not in the bank (dsvocoder/) and "
                "inference.vocoders_dir is not set"
            )
        root = Path(vocoders_dir)
        where = (root / name).resolve()
        if where.parent != root.resolve():
            raise BankError(f"voicebank '{bank}': vocoder name {name!r} is not a folder name")
        if not (where / "vocoder.yaml").is_file():
            raise BankError(f"voicebank '{bank}': vocoder '{name}' is not in inference.vocoders_dir")
    file = "vocoder.yaml"
    spec = _yaml(where / file, "vocoder.yaml", bank)
    model = spec.get("model", "model.onnx")
    if not isinstance(model, str) or not model or Path(model).is_absolute() or ".." in Path(model).parts:
        raise BankError(f"voicebank '{bank}': vocoder.yaml 'model' must be a file in the vocoder's folder")
    scale = str(spec.get("mel_scale", "slaney"))
    if scale not in ("slaney", "htk"):
        raise BankError(f"voicebank '{bank}': vocoder mel_scale must be slaney or htk, not {scale!r}")
    return VocoderSpec(
        folder=where,
        model=where / model,
        sample_rate=_integer(spec, "sample_rate", 44100, bank, file),
        hop_size=_integer(spec, "hop_size", 512, bank, file),
        win_size=_integer(spec, "win_size", 2048, bank, file),
        fft_size=_integer(spec, "fft_size", 2048, bank, file),
        num_mel_bins=_integer(spec, "num_mel_bins", 128, bank, file),
        mel_fmin=_number(spec, "mel_fmin", 40, bank, file),
        mel_fmax=_number(spec, "mel_fmax", 16000, bank, file),
        mel_base=_mel_base(spec.get("mel_base", "10"), bank, "vocoder"),
        mel_scale=scale,
        pitch_controllable=_flag(spec, "pitch_controllable", False, bank, file),
    )


def _predictor(folder: Path, kind: str, bank: str, acoustic_hop: int, acoustic_rate: int) -> Predictor | None:
    sub = folder / {"dur": "dsdur", "pitch": "dspitch", "variance": "dsvariance"}[kind]
    if not (sub / "dsconfig.yaml").is_file():
        return None
    file = f"{sub.name}/dsconfig.yaml"
    config = _yaml(sub / "dsconfig.yaml", file, bank)
    if not config.get(kind):
        raise BankError(f"voicebank '{bank}': {file} names no '{kind}' model")
    hop = _integer(config, "hop_size", 512, bank, file)
    rate = _integer(config, "sample_rate", 44100, bank, file)
    if (hop, rate) != (acoustic_hop, acoustic_rate):
        raise BankError(
            f"voicebank '{bank}': {sub.name} runs at hop {hop} / {rate} Hz, the acoustic model at "
            f"{acoustic_hop} / {acoustic_rate} Hz; resampling between them is not supported"
        )
    hidden = _integer(config, "hiddenSize", 256, bank, file)
    use_lang = _flag(config, "use_lang_id", False, bank, file)
    languages: dict[str, int] = {}
    if use_lang:
        languages = _json_map(_inside(sub, config.get("languages"), "languages", bank), "languages", bank)
    speakers, embeddings = _speakers(sub, config, hidden, bank)
    variances = tuple(
        name
        for name, default in (("energy", True), ("breathiness", True), ("voicing", False), ("tension", False))
        if _flag(config, f"predict_{name}", default, bank, file)
    )
    return Predictor(
        kind=kind,
        folder=sub,
        linguistic=_inside(sub, config.get("linguistic"), "linguistic", bank),
        model=_inside(sub, config.get(kind), kind, bank),
        phonemes=_phonemes(_inside(sub, config.get("phonemes", "phonemes.txt"), "phonemes", bank), bank),
        languages=languages,
        speakers=speakers,
        embeddings=embeddings,
        hidden_size=hidden,
        hop_size=hop,
        sample_rate=rate,
        predict_dur=_flag(config, "predict_dur", True, bank, file),
        continuous=_flag(config, "useContinuousAcceleration", False, bank, file),
        use_expr=_flag(config, "use_expr", False, bank, file),
        use_note_rest=_flag(config, "use_note_rest", False, bank, file),
        variances=variances if kind == "variance" else (),
    )


def read_bank(
    folder: str | os.PathLike[str], vocoders_dir: str | None = None, *, hash_files: bool = True
) -> Bank:
    """The bank in ``folder``, checked: every file it names exists and parses, the vocoder
    matches the acoustic model's mel specification. ``BankError`` otherwise. Without
    ``hash_files`` the models are not read (a quick check at start-up; ``identity`` is "")."""
    root = Path(folder)
    bank = root.name
    if not root.is_dir():
        raise BankError(f"voicebank '{bank}': not a folder")
    file = "dsconfig.yaml"
    config = _yaml(root / file, file, bank)
    if not config.get("acoustic"):
        raise BankError(f"voicebank '{bank}': dsconfig.yaml names no acoustic model")
    acoustic = _inside(root, config.get("acoustic"), "acoustic", bank)
    if not acoustic.is_file():
        raise BankError(f"voicebank '{bank}': acoustic model {acoustic.name} is missing")
    phonemes = _phonemes(_inside(root, config.get("phonemes", "phonemes.txt"), "phonemes", bank), bank)
    languages: dict[str, int] = {}
    if _flag(config, "use_lang_id", False, bank, file):
        languages = _json_map(_inside(root, config.get("languages"), "languages", bank), "languages", bank)
    hidden = _integer(config, "hiddenSize", 256, bank, file)
    speakers, embeddings = _speakers(root, config, hidden, bank)
    sample_rate = _integer(config, "sample_rate", 44100, bank, file)
    hop = _integer(config, "hop_size", 512, bank, file)
    if sample_rate != SAMPLE_RATE:
        raise BankError(
            f"voicebank '{bank}': sample_rate {sample_rate}; this server sings at {SAMPLE_RATE} Hz"
        )
    mel_base = _mel_base(config.get("mel_base", "10"), bank, "dsconfig.yaml")
    continuous = _flag(config, "useContinuousAcceleration", False, bank, file)
    max_depth = _number(config, "max_depth", 0.0, bank, file)
    variable = config.get("use_variable_depth", config.get("use_shallow_diffusion", False))
    if not isinstance(variable, bool):
        raise BankError(f"voicebank '{bank}': dsconfig.yaml 'use_variable_depth' must be true or false")
    depth = (max_depth if continuous else max_depth / 1000.0) if variable else 1.0
    if variable and depth <= 0:
        raise BankError(f"voicebank '{bank}': use_variable_depth needs a positive max_depth")
    pitch_range = (-5.0, 5.0)
    aug = config.get("augmentationArgs")
    if isinstance(aug, dict) and isinstance(aug.get("randomPitchShifting"), dict):
        got = aug["randomPitchShifting"].get("range")
        if isinstance(got, list) and len(got) == 2 and all(isinstance(x, int | float) for x in got):
            pitch_range = (float(got[0]), float(got[1]))
    vocoder = _vocoder(root, config, vocoders_dir, bank)
    mine = {
        "sample_rate": sample_rate,
        "hop_size": hop,
        "win_size": _integer(config, "win_size", 2048, bank, file),
        "fft_size": _integer(config, "fft_size", 2048, bank, file),
        "num_mel_bins": _integer(config, "num_mel_bins", 128, bank, file),
        "mel_fmin": _number(config, "mel_fmin", 40, bank, file),
        "mel_fmax": _number(config, "mel_fmax", 16000, bank, file),
        "mel_scale": str(config.get("mel_scale", "slaney")),
    }
    for key, value in mine.items():
        theirs = getattr(vocoder, key)
        same = abs(theirs - value) < 1e-5 if isinstance(value, float) else theirs == value
        if not same:
            raise BankError(
                f"voicebank '{bank}': the vocoder's {key} ({theirs}) differs from "
                f"the acoustic model's ({value})"
            )
    if not vocoder.model.is_file():
        raise BankError(f"voicebank '{bank}': vocoder model {vocoder.model.name} is missing")
    dictionaries, types = _dictionaries(root, bank)
    predictors = {
        kind: found
        for kind in ("dur", "pitch", "variance")
        if (found := _predictor(root, kind, bank, hop, sample_rate)) is not None
    }
    for predictor in predictors.values():
        for path in (predictor.linguistic, predictor.model):
            if not path.is_file():
                raise BankError(f"voicebank '{bank}': {predictor.folder.name}/{path.name} is missing")
    files = [acoustic, vocoder.model, *(p for pr in predictors.values() for p in (pr.linguistic, pr.model))]
    configs = json.dumps(
        [
            config,
            sorted(phonemes.items()),
            sorted(languages.items()),
            sorted(
                (k, sorted(v.entries.items()), sorted(v.replacements.items()))
                for k, v in dictionaries.items()
            ),
        ],
        sort_keys=True,
        default=str,
    ).encode()
    identity = ""
    if hash_files:
        hashes = "".join(_file_hash(f, bank) for f in files).encode()
        identity = hashlib.blake2b(configs + hashes, digest_size=12).hexdigest()
    return Bank(
        id=bank,
        name=_display_name(root, bank),
        folder=root,
        acoustic=acoustic,
        phonemes=phonemes,
        languages=languages,
        speakers=speakers,
        embeddings=embeddings,
        hidden_size=hidden,
        sample_rate=sample_rate,
        hop_size=hop,
        mel_base=mel_base,
        max_depth=depth,
        continuous=continuous,
        use_key_shift_embed=_flag(config, "useKeyShiftEmbed", False, bank, file),
        use_speed_embed=_flag(config, "useSpeedEmbed", False, bank, file),
        key_shift_range=pitch_range,
        vocoder=vocoder,
        dictionaries=dictionaries,
        symbol_types=types,
        predictors=predictors,
        identity=identity,
    )
