"""A tiny decoder in Hugging Face optimum's export layout, generated with the ``onnx`` helper.

``write_model_folder(path)`` writes ``model.onnx`` (or ``decoder_model_merged.onnx``),
``tokenizer.json`` and ``config.json``: a byte-level BPE tokenizer trained on a few lines
of English and Japanese with ``tokenizers``, and a transformer with seeded random weights:
token and learned position embeddings, ``layers`` blocks of layer norm, causal multi-head
(or grouped-query) attention over ``past_key_values.N.key/value`` concatenated with the
new keys and values (returned as ``present.N.key/value``), the attention mask and a ReLU
MLP, and a vocabulary projection to ``logits``. The causal mask compares each query's
position with each key's index, so a graph fed the wrong positions or cache disagrees
between cached and uncached runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

__all__ = ["CORPUS", "EOS", "build_tokenizer", "write_model_folder"]

EOS = "<|endoftext|>"
CORPUS = (
    "I walk alone through the city lights",
    "the night is young and so are we",
    "hold me close until the morning comes",
    "C G Am F, the four chords of the radio",
    "夜空に光る星を数えて",
    "君と歩いた帰り道",
    "さよならは言わないで",
    "ドレミファソラシド、ラララ",
    "we sing it loud 夜明けまで",
)


def build_tokenizer(
    vocab_size: int = 400, corpus: tuple[str, ...] = CORPUS, *, all_bytes: bool = False
) -> Tokenizer:
    """A byte-level BPE tokenizer (GPT-2 and Phi-2 style) trained on ``corpus``; its base
    alphabet is the bytes ``corpus`` uses (``all_bytes``: all 256, as GPT-2's, so any
    text encodes)."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet() if all_bytes else [],
        show_progress=False,
    )
    tokenizer.train_from_iterator([line + "\n" for line in corpus] * 4, trainer)
    return tokenizer


def _weights(rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def build_graph(
    vocab: int,
    *,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 4,
    head_dim: int = 8,
    ffn: int = 64,
    max_positions: int = 512,
    position_ids: bool = True,
    cache_branch: bool = False,
    symbolic_heads: bool = False,
    seed: int = 0,
) -> onnx.ModelProto:
    """The decoder graph (opset 17)."""
    rng = np.random.default_rng(seed)
    hidden = heads * head_dim
    rep = heads // kv_heads
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: object) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    const("wte", _weights(rng, (vocab, hidden), 1.0))
    const("wpe", _weights(rng, (max_positions, hidden), 0.5))
    const("ln_scale", np.ones(hidden, dtype=np.float32))
    const("ln_bias", np.zeros(hidden, dtype=np.float32))
    const("zero", np.array(0, dtype=np.int64))
    const("one", np.array(1, dtype=np.int64))
    const("axis0", np.array([0], dtype=np.int64))
    const("axis1", np.array([1], dtype=np.int64))
    const("axis_last", np.array([-1], dtype=np.int64))
    const("scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    const("masked", np.array(-1e9, dtype=np.float32))
    const("open", np.array(0.0, dtype=np.float32))
    const("q_shape", np.array([0, 0, heads, head_dim], dtype=np.int64))
    const("kv_shape", np.array([0, 0, kv_heads, head_dim], dtype=np.int64))
    const("merge_shape", np.array([0, 0, hidden], dtype=np.int64))
    const("group_shape", np.array([0, heads, -1, head_dim], dtype=np.int64))
    const("tile", np.array([1, 1, rep, 1, 1], dtype=np.int64))
    const("axis2", np.array([2], dtype=np.int64))

    # Positions: the input, or the past's length on (GPT-2 style exports have no input).
    node("Shape", ["input_ids"], "ids_shape")
    node("Gather", ["ids_shape", "one"], "seq_len")
    node("Shape", ["past_key_values.0.key"], "past_shape")
    node("Gather", ["past_shape", const("two", np.array(2, dtype=np.int64))], "past_len")
    if position_ids:
        positions = "position_ids"
    else:
        node("Add", ["past_len", "seq_len"], "end")
        node("Range", ["past_len", "end", "one"], "range")
        positions = node("Unsqueeze", ["range", "axis0"], "positions")
    node("Gather", ["wte", "input_ids"], "tok_emb")
    node("Gather", ["wpe", positions], "pos_emb")
    x = node("Add", ["tok_emb", "pos_emb"], "x0")

    # The mask: key j is seen from a query at position p when j <= p and the mask has j.
    node("Shape", ["attention_mask"], "mask_shape")
    node("Gather", ["mask_shape", "one"], "total_len")
    node("Range", ["zero", "total_len", "one"], "key_index")
    node("Unsqueeze", [positions, "axis_last"], "query_pos")
    node("LessOrEqual", ["key_index", "query_pos"], "causal")
    node("Cast", ["attention_mask"], "mask_bool", to=TensorProto.BOOL)
    node("Unsqueeze", ["mask_bool", "axis1"], "mask_rows")
    node("And", ["causal", "mask_rows"], "allowed")
    node("Where", ["allowed", "open", "masked"], "bias3")
    node("Unsqueeze", ["bias3", "axis1"], "bias")

    for n in range(layers):
        p = f"l{n}_"
        wq = const(p + "wq", _weights(rng, (hidden, hidden), 1.0 / np.sqrt(hidden)))
        wk = const(p + "wk", _weights(rng, (hidden, kv_heads * head_dim), 1.0 / np.sqrt(hidden)))
        wv = const(p + "wv", _weights(rng, (hidden, kv_heads * head_dim), 1.0 / np.sqrt(hidden)))
        wo = const(p + "wo", _weights(rng, (hidden, hidden), 1.0 / np.sqrt(hidden)))
        w1 = const(p + "w1", _weights(rng, (hidden, ffn), 1.0 / np.sqrt(hidden)))
        w2 = const(p + "w2", _weights(rng, (ffn, hidden), 1.0 / np.sqrt(ffn)))
        h = node("LayerNormalization", [x, "ln_scale", "ln_bias"], p + "h", axis=-1)
        node("MatMul", [h, wq], p + "q2")
        node("Reshape", [p + "q2", "q_shape"], p + "q3")
        q = node("Transpose", [p + "q3"], p + "q", perm=[0, 2, 1, 3])
        for part, weight in (("key", wk), ("value", wv)):
            node("MatMul", [h, weight], p + part + "2")
            node("Reshape", [p + part + "2", "kv_shape"], p + part + "3")
            node("Transpose", [p + part + "3"], p + part + "_new", perm=[0, 2, 1, 3])
            node("Concat", [f"past_key_values.{n}.{part}", p + part + "_new"], f"present.{n}.{part}", axis=2)
            if rep > 1:
                node("Unsqueeze", [f"present.{n}.{part}", "axis2"], p + part + "5")
                node("Tile", [p + part + "5", "tile"], p + part + "_tiled")
                node("Reshape", [p + part + "_tiled", "group_shape"], p + part + "_all")
            else:
                node("Identity", [f"present.{n}.{part}"], p + part + "_all")
        node("Transpose", [p + "key_all"], p + "kt", perm=[0, 1, 3, 2])
        node("MatMul", [q, p + "kt"], p + "raw")
        node("Mul", [p + "raw", "scale"], p + "scaled")
        node("Add", [p + "scaled", "bias"], p + "scores")
        node("Softmax", [p + "scores"], p + "weights", axis=-1)
        node("MatMul", [p + "weights", p + "value_all"], p + "ctx4")
        node("Transpose", [p + "ctx4"], p + "ctx3", perm=[0, 2, 1, 3])
        node("Reshape", [p + "ctx3", "merge_shape"], p + "ctx")
        node("MatMul", [p + "ctx", wo], p + "attn")
        x = node("Add", [x, p + "attn"], p + "x1")
        h2 = node("LayerNormalization", [x, "ln_scale", "ln_bias"], p + "h2", axis=-1)
        node("MatMul", [h2, w1], p + "up")
        node("Relu", [p + "up"], p + "act")
        node("MatMul", [p + "act", w2], p + "down")
        x = node("Add", [x, p + "down"], p + "x2")
    head = const("lm_head", _weights(rng, (hidden, vocab), 3.0 / np.sqrt(hidden)))
    final = node("LayerNormalization", [x, "ln_scale", "ln_bias"], "final", axis=-1)
    node("MatMul", [final, head], "logits")

    kv_dim: int | str = "num_kv_heads" if symbolic_heads else kv_heads
    size_dim: int | str = "head_size" if symbolic_heads else head_dim
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
        helper.make_tensor_value_info(
            "attention_mask", TensorProto.INT64, ["batch_size", "past_sequence_length + sequence_length"]
        ),
    ]
    if position_ids:
        inputs.append(
            helper.make_tensor_value_info(
                "position_ids", TensorProto.INT64, ["batch_size", "sequence_length"]
            )
        )
    outputs = [
        helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "sequence_length", vocab])
    ]
    for n in range(layers):
        for part in ("key", "value"):
            inputs.append(
                helper.make_tensor_value_info(
                    f"past_key_values.{n}.{part}",
                    TensorProto.FLOAT,
                    ["batch_size", kv_dim, "past_sequence_length", size_dim],
                )
            )
            outputs.append(
                helper.make_tensor_value_info(
                    f"present.{n}.{part}",
                    TensorProto.FLOAT,
                    ["batch_size", kv_dim, "past_sequence_length + 1", size_dim],
                )
            )
    if cache_branch:
        inputs.append(helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1]))
    graph = helper.make_graph(nodes, "tiny_decoder", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="dawai-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_model_folder(
    folder: Path,
    *,
    model_type: str = "phi",
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 4,
    head_dim: int = 8,
    ffn: int = 64,
    position_ids: bool = True,
    merged: bool = False,
    symbolic_heads: bool = False,
    seed: int = 0,
    tokenizer: Tokenizer | None = None,
) -> Path:
    """A model folder as optimum writes one (``merged``: the older ``decoder_model_merged.onnx``
    with ``use_cache_branch``). ``model_type`` "phi" has as many key-value heads as heads;
    pass ``kv_heads`` < ``heads`` with "llama" for TinyLlama's grouped-query attention."""
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = tokenizer or build_tokenizer()
    vocab = tokenizer.get_vocab_size()
    model = build_graph(
        vocab,
        layers=layers,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        ffn=ffn,
        position_ids=position_ids,
        cache_branch=merged,
        symbolic_heads=symbolic_heads,
        seed=seed,
    )
    onnx.save(model, str(folder / ("decoder_model_merged.onnx" if merged else "model.onnx")))
    tokenizer.save(str(folder / "tokenizer.json"))
    eos = tokenizer.token_to_id(EOS)
    config = {
        "model_type": model_type,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "hidden_size": heads * head_dim,
        "vocab_size": vocab,
        "eos_token_id": eos,
        "bos_token_id": eos,
    }
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder
