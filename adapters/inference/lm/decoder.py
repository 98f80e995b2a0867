"""A decoder exported by Hugging Face optimum, read from its folder and run step by step.

optimum's ``text-generation-with-past`` export (Phi-2's ``phi`` and TinyLlama's ``llama``
both use its ``TextDecoderWithPositionIdsOnnxConfig``) gives one graph:

- inputs ``input_ids`` (batch, sequence), ``attention_mask`` (batch, past + sequence),
  ``position_ids`` (batch, sequence; GPT-2-style exports have none) and, per layer N,
  ``past_key_values.N.key`` / ``.value`` (batch, key-value heads, past, head size);
  older merged exports (``decoder_model_merged.onnx``) add a boolean ``use_cache_branch``;
- outputs ``logits`` (batch, sequence, vocabulary) and ``present.N.key`` / ``.value``.

Phi-2 has as many key-value heads as attention heads (32 x 80); TinyLlama groups its 32
query heads over 4 key-value heads (x 64). The heads and the head size are read from the
graph's input shapes when they are fixed there, else from ``config.json``
(``num_key_value_heads``, ``num_attention_heads``, ``head_dim`` or ``hidden_size``), so
both layouts load without naming the architecture.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import onnxruntime as ort

from dawai.core.errors import NotConfigured

__all__ = ["MODEL_FILES", "DecoderLayout", "LMFolderError", "OnnxDecoder", "load_folder"]

MODEL_FILES: Final = ("model.onnx", "decoder_model_merged.onnx")
MAX_CONFIG_BYTES: Final = 1 << 20
MAX_TOKENIZER_BYTES: Final = 64 << 20
_PAST: Final = re.compile(r"past_key_values\.(\d+)\.(key|value)")
_NUMPY_TYPES: Final = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
}


class LMFolderError(NotConfigured):
    """The model folder is missing, incomplete or not a decoder this engine can run; the
    message names the file and what is wrong (never its path or contents)."""


@dataclass(frozen=True, slots=True)
class DecoderLayout:
    """What the folder holds and how its graph is fed."""

    model_path: str
    tokenizer_path: str
    layers: int
    kv_heads: int
    head_dim: int
    past_dtype: Any  # np.float32 or np.float16
    id_dtype: Any  # of input_ids / position_ids
    mask_dtype: Any
    position_ids: bool
    use_cache_branch: bool
    eos_ids: frozenset[int]
    bos_id: int | None
    model_type: str


def _read_json(path: str, limit: int) -> dict[str, Any]:
    try:
        size = os.path.getsize(path)
    except OSError:
        raise LMFolderError(f"{os.path.basename(path)} is missing") from None
    if size > limit:
        raise LMFolderError(f"{os.path.basename(path)} is larger than {limit} bytes")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LMFolderError(f"{os.path.basename(path)} is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise LMFolderError(f"{os.path.basename(path)} is not a JSON object")
    return data


def _token_ids(value: Any) -> frozenset[int]:
    if isinstance(value, bool):
        return frozenset()
    if isinstance(value, int):
        return frozenset({value})
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, int) and not isinstance(v, bool))
    return frozenset()


def _positive(config: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = config.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


class _Loader:
    def __init__(self, folder: str | None) -> None:
        if not folder:
            raise LMFolderError("no model folder configured ([engines.lm] folder, DAWAI_GHOST_LM_FOLDER)")
        if not os.path.isdir(folder):
            raise LMFolderError("the model folder does not exist or is not a folder")
        self.folder = folder

    def load(
        self, session_options: dict[str, Any]
    ) -> tuple[DecoderLayout, ort.InferenceSession, dict[str, Any]]:
        folder = self.folder
        config = _read_json(os.path.join(folder, "config.json"), MAX_CONFIG_BYTES)
        tokenizer_path = os.path.join(folder, "tokenizer.json")
        if not os.path.isfile(tokenizer_path):
            raise LMFolderError("tokenizer.json is missing")
        if os.path.getsize(tokenizer_path) > MAX_TOKENIZER_BYTES:
            raise LMFolderError(f"tokenizer.json is larger than {MAX_TOKENIZER_BYTES} bytes")
        model_path = next(
            (
                os.path.join(folder, name)
                for name in MODEL_FILES
                if os.path.isfile(os.path.join(folder, name))
            ),
            None,
        )
        if model_path is None:
            raise LMFolderError(f"no {' or '.join(MODEL_FILES)} in the model folder")
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(session_options.get("threads", 0))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        available = set(ort.get_available_providers())  # CUDA only where this build has it
        providers = [p for p in session_options.get("providers") or () if p in available]
        providers = providers or ["CPUExecutionProvider"]
        try:
            session = ort.InferenceSession(model_path, options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
            raise LMFolderError(
                f"{os.path.basename(model_path)} does not load ({type(exc).__name__})"
            ) from None
        return self._layout(session, config, model_path, tokenizer_path), session, config

    def _layout(
        self, session: ort.InferenceSession, config: dict[str, Any], model_path: str, tokenizer_path: str
    ) -> DecoderLayout:
        name = os.path.basename(model_path)
        inputs = {i.name: i for i in session.get_inputs()}
        outputs = {o.name for o in session.get_outputs()}
        for needed in ("input_ids", "attention_mask"):
            if needed not in inputs:
                raise LMFolderError(f"{name} has no {needed} input")
        if "logits" not in outputs:
            raise LMFolderError(f"{name} has no logits output")
        found: dict[int, set[str]] = {}
        for input_name in inputs:
            match = _PAST.fullmatch(input_name)
            if match:
                found.setdefault(int(match.group(1)), set()).add(match.group(2))
        layers = len(found)
        if layers == 0:
            raise LMFolderError(
                f"{name} takes no past_key_values (export it with the KV cache: text-generation-with-past)"
            )
        for layer in range(layers):
            if found.get(layer) != {"key", "value"}:
                raise LMFolderError(f"{name}: past_key_values.{layer} is incomplete")
            for part in ("key", "value"):
                if f"present.{layer}.{part}" not in outputs:
                    raise LMFolderError(f"{name} has no present.{layer}.{part} output")
        known = {"input_ids", "attention_mask", "position_ids", "use_cache_branch"}
        extra = sorted(n for n in inputs if n not in known and not _PAST.fullmatch(n))
        if extra:
            raise LMFolderError(f"{name} takes inputs this engine does not feed: {', '.join(extra[:4])}")
        first = inputs["past_key_values.0.key"]
        shape = list(first.shape)
        if len(shape) != 4:
            raise LMFolderError(f"{name}: past_key_values.0.key is not (batch, heads, sequence, head size)")
        heads = _positive(config, "num_attention_heads", "n_head")
        kv_heads = shape[1] if isinstance(shape[1], int) and shape[1] > 0 else None
        kv_heads = kv_heads or _positive(config, "num_key_value_heads") or heads
        head_dim = shape[3] if isinstance(shape[3], int) and shape[3] > 0 else None
        if head_dim is None:
            head_dim = _positive(config, "head_dim")
            hidden = _positive(config, "hidden_size", "n_embd")
            if head_dim is None and hidden and heads:
                head_dim = hidden // heads
        if not kv_heads or not head_dim:
            raise LMFolderError("config.json does not say the key-value heads or the head size")
        past_dtype = _NUMPY_TYPES.get(first.type)
        if past_dtype not in (np.float32, np.float16):
            raise LMFolderError(f"{name}: past_key_values are {first.type}, not float or float16")
        id_dtype = _NUMPY_TYPES.get(inputs["input_ids"].type)
        mask_dtype = _NUMPY_TYPES.get(inputs["attention_mask"].type)
        if id_dtype not in (np.int64, np.int32) or mask_dtype not in (np.int64, np.int32):
            raise LMFolderError(f"{name}: input_ids or attention_mask is not an integer tensor")
        eos = _token_ids(config.get("eos_token_id"))
        bos = config.get("bos_token_id")
        return DecoderLayout(
            model_path=model_path,
            tokenizer_path=tokenizer_path,
            layers=layers,
            kv_heads=int(kv_heads),
            head_dim=int(head_dim),
            past_dtype=past_dtype,
            id_dtype=id_dtype,
            mask_dtype=mask_dtype,
            position_ids="position_ids" in inputs,
            use_cache_branch="use_cache_branch" in inputs,
            eos_ids=eos,
            bos_id=bos if isinstance(bos, int) and not isinstance(bos, bool) else None,
            model_type=str(config.get("model_type", ""))[:64],
        )


def load_folder(
    folder: str | None, *, threads: int = 0, providers: list[str] | None = None
) -> tuple[DecoderLayout, ort.InferenceSession, dict[str, Any]]:
    """The layout, the loaded session and ``config.json`` of ``folder``; ``LMFolderError``
    when any part is missing or does not fit."""
    return _Loader(folder).load({"threads": threads, "providers": providers})


Cache = list[np.ndarray]  # per layer: key, value (batch, kv heads, past, head size)


class OnnxDecoder:
    """One forward pass at a time over ``session``: tokens in, the last position's logits
    and the grown cache out. Thread-safe (``InferenceSession.run`` is)."""

    def __init__(self, layout: DecoderLayout, session: ort.InferenceSession) -> None:
        self.layout = layout
        self._session = session
        self._past_names = [
            f"past_key_values.{n}.{part}" for n in range(layout.layers) for part in ("key", "value")
        ]
        self._present_names = [
            f"present.{n}.{part}" for n in range(layout.layers) for part in ("key", "value")
        ]
        self._outputs = ["logits", *self._present_names]

    def empty_cache(self, batch: int) -> Cache:
        shape = (batch, self.layout.kv_heads, 0, self.layout.head_dim)
        return [np.zeros(shape, dtype=self.layout.past_dtype) for _ in self._past_names]

    def forward(self, tokens: np.ndarray, cache: Cache | None) -> tuple[np.ndarray, Cache]:
        """``tokens`` (batch, sequence) after ``cache`` (None: nothing before): the logits
        of every position (float32, batch x sequence x vocabulary) and the cache with them."""
        layout = self.layout
        batch, length = tokens.shape
        past = self.empty_cache(batch) if cache is None else cache
        before = past[0].shape[2]
        feeds: dict[str, np.ndarray] = {
            "input_ids": tokens.astype(layout.id_dtype, copy=False),
            "attention_mask": np.ones((batch, before + length), dtype=layout.mask_dtype),
        }
        if layout.position_ids:
            positions = np.arange(before, before + length, dtype=layout.id_dtype)
            feeds["position_ids"] = np.broadcast_to(positions, (batch, length)).copy()
        if layout.use_cache_branch:
            feeds["use_cache_branch"] = np.array([cache is not None])
        feeds.update(zip(self._past_names, past, strict=True))
        logits, *present = self._session.run(self._outputs, feeds)
        return np.asarray(logits, dtype=np.float32), list(present)

    @staticmethod
    def select(cache: Cache, rows: np.ndarray) -> Cache:
        """The cache of the batch rows ``rows`` (an index array: repeat to branch, pick to drop)."""
        return [np.ascontiguousarray(part[rows]) for part in cache]
