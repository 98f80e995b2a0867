"""The ONNX language-model engine against tiny decoders generated here (seeded random
weights, optimum's input and output names) and tokenizers trained here: cached and batched
greedy decoding agrees token for token with decoding the whole sequence again each step,
in Phi-2's, TinyLlama's and the older merged layouts; detokenisation never splits a
character; every bound holds; a broken folder says what is wrong."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from dawai.adapters.inference.lm import LMFolderError, OnnxLMCompleter
from dawai.adapters.inference.lm.engine import Branch
from dawai.core.errors import NotConfigured, Overloaded
from dawai.core.models import CompletionQuery
from dawai.ports.completion import EngineConfig
from tests.fakes.tiny_decoder import build_tokenizer, write_model_folder

LAYOUTS = {
    # Phi-2: as many key-value heads as heads, position_ids, model.onnx.
    "phi": {"model_type": "phi"},
    # TinyLlama: grouped-query attention; heads left symbolic in the graph (config.json says).
    "llama": {"model_type": "llama", "heads": 4, "kv_heads": 2, "symbolic_heads": True},
    # GPT-2-style merged export: no position_ids, use_cache_branch, decoder_model_merged.onnx.
    "merged": {"model_type": "gpt2", "position_ids": False, "merged": True, "layers": 3},
}
PROMPTS = ["I walk alone through the ", "夜空に光る", "we sing it loud ", "C G Am"]


def engine_for(folder: Path, **options: object) -> OnnxLMCompleter:
    return OnnxLMCompleter(EngineConfig(name="lm", folder=str(folder), options=dict(options)))


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def layout_engine(request, tmp_path_factory) -> OnnxLMCompleter:
    folder = write_model_folder(tmp_path_factory.mktemp(request.param), **LAYOUTS[request.param])  # type: ignore[arg-type]
    return engine_for(folder, max_new_tokens=10, branches=3)


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> OnnxLMCompleter:
    return engine_for(write_model_folder(tmp_path_factory.mktemp("phi")), max_new_tokens=10)


def uncached_greedy(engine: OnnxLMCompleter, prompt: list[int], first: int, steps: int) -> list[int]:
    """The whole sequence through the graph again for every token, no cache, batch of one."""
    sequence = [*prompt, first]
    for _ in range(steps):
        logits, _ = engine.decoder.forward(np.array([sequence], dtype=np.int64), None)
        sequence.append(int(logits[0, -1].argmax()))
    return sequence[len(prompt) :]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_cached_batched_decoding_agrees_with_uncached_token_for_token(layout_engine, prompt):
    ids = layout_engine.prompt_ids(prompt)
    branches = layout_engine.generate(ids)
    assert len(branches) == 3
    logits, _ = layout_engine.decoder.forward(np.array([ids], dtype=np.int64), None)
    assert [b.tokens[0] for b in branches] == [int(t) for t in np.argsort(-logits[0, -1], kind="stable")[:3]]
    for branch in branches:
        assert branch.tokens == uncached_greedy(layout_engine, ids, branch.tokens[0], len(branch.tokens) - 1)
        assert 1 <= len(branch.tokens) <= 10


def test_the_cache_grows_by_one_position_a_step_in_every_layer(layout_engine):
    ids = layout_engine.prompt_ids("I walk alone")
    _, cache = layout_engine.decoder.forward(np.array([ids]), None)
    layout = layout_engine.decoder.layout
    assert len(cache) == 2 * layout.layers
    assert {part.shape for part in cache} == {(1, layout.kv_heads, len(ids), layout.head_dim)}
    logits, grown = layout_engine.decoder.forward(np.array([[ids[-1]]]), cache)
    assert {part.shape[2] for part in grown} == {len(ids) + 1} and logits.shape[:2] == (1, 1)


def test_layouts_are_read_from_the_graph_and_config(layout_engine):
    layout = layout_engine.decoder.layout
    model_type = layout.model_type
    assert layout.kv_heads == LAYOUTS[model_type if model_type != "gpt2" else "merged"].get("kv_heads", 4)
    assert layout.head_dim == 8
    assert layout.position_ids is (model_type != "gpt2") and layout.use_cache_branch is (model_type == "gpt2")


def test_candidates_are_the_branches_text_up_to_the_line_end_scored_in_range(engine):
    candidates = asyncio.run(engine.complete(CompletionQuery("I walk alone through the ", 25)))
    branches = engine.generate(engine.prompt_ids("I walk alone through the "))
    texts = [b.text.rstrip() for b in branches if b.text.strip()]
    assert [c.text for c in candidates] == texts
    for candidate in candidates:
        assert "\n" not in candidate.text and 0 < candidate.score <= 0.8
        assert candidate.kind in ("lyric", "phrase", "chord")


def test_nothing_before_the_cursor_asks_nothing(engine):
    assert asyncio.run(engine.complete(CompletionQuery("   \nabc", 3))) == []


def test_the_prompt_is_left_truncated_to_max_prompt_tokens(tmp_path):
    engine = engine_for(write_model_folder(tmp_path), max_prompt_tokens=8)
    text = " ".join(["the night is young and so are we"] * 40)
    ids = engine.prompt_ids(text)
    full = engine._tokenizer.encode(text).ids
    assert len(ids) == 8 and ids == full[-8:]


def test_max_new_tokens_and_max_chars_end_a_branch(tmp_path):
    folder = write_model_folder(tmp_path)
    short = engine_for(folder, max_new_tokens=2)
    assert all(len(b.tokens) <= 2 for b in short.generate(short.prompt_ids("we sing it loud ")))
    narrow = engine_for(folder, max_chars=3, max_new_tokens=20)
    assert all(len(b.text) <= 3 for b in narrow.generate(narrow.prompt_ids("we sing it loud ")))


@pytest.fixture(scope="module")
def byte_engine(tmp_path_factory) -> OnnxLMCompleter:
    """A tokenizer over all 256 bytes, so kanji it never saw are split into byte tokens."""
    folder = write_model_folder(tmp_path_factory.mktemp("bytes"), tokenizer=build_tokenizer(all_bytes=True))
    return engine_for(folder, max_new_tokens=128, max_chars=1000)


def stream(engine: OnnxLMCompleter, text: str) -> Branch:
    from tokenizers.decoders import DecodeStream

    branch = Branch([], DecodeStream(ids=[], skip_special_tokens=True))
    for token in engine._tokenizer.encode(text, add_special_tokens=False).ids:
        if branch.done:
            break
        engine.extend(branch, token, 0.0)
    return branch


def test_a_character_split_over_byte_tokens_comes_out_whole(byte_engine):
    text = "鬱蒼とした森"  # none of these kanji are in the training lines: bytes, 3 tokens each
    tokens = byte_engine._tokenizer.encode(text, add_special_tokens=False).ids
    assert len(tokens) > len(text)
    branch = stream(byte_engine, text)
    assert branch.text == text and "".join(branch.pieces) == text
    assert all("\ufffd" not in piece for piece in branch.pieces)
    assert len(branch.pieces) < len(tokens)  # some tokens completed no character


JAPANESE = st.text(
    st.characters(categories=("Lo", "Lm", "Nd", "Po"), min_codepoint=0x3000, max_codepoint=0x9FFF)
    | st.sampled_from(list("abc ー。、😀")),
    min_size=1,
    max_size=24,
)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(text=JAPANESE)
def test_detokenisation_never_splits_a_character(byte_engine, text):
    branch = stream(byte_engine, text)
    assert "".join(branch.pieces) == text
    assert all("\ufffd" not in piece for piece in branch.pieces)


def test_a_line_end_or_a_control_character_ends_the_text(byte_engine):
    assert stream(byte_engine, "夜空に\n光る").text == "夜空に"
    assert stream(byte_engine, "abc\x07def").text == "abc"
    branch = stream(byte_engine, "ab\r\ncd")
    assert branch.text == "ab" and branch.done


def test_more_completions_than_max_pending_are_refused_at_once(tmp_path):
    engine = engine_for(write_model_folder(tmp_path), max_pending=1, workers=1)
    gate = threading.Event()
    blocker = engine._pool.submit(gate.wait)  # the one worker is busy

    async def scenario() -> None:
        first = asyncio.ensure_future(engine.complete(CompletionQuery("we sing", 7)))
        await asyncio.sleep(0)
        with pytest.raises(Overloaded):
            await engine.complete(CompletionQuery("we sing", 7))
        gate.set()
        assert isinstance(await first, list)
        assert isinstance(await engine.complete(CompletionQuery("we sing", 7)), list)  # the slot is back

    asyncio.run(scenario())
    blocker.result()
    engine.close()


def test_a_cancelled_completion_never_runs_and_frees_its_slot(tmp_path):
    engine = engine_for(write_model_folder(tmp_path), max_pending=1, workers=1)
    gate = threading.Event()
    blocker = engine._pool.submit(gate.wait)
    calls: list[str] = []
    original = engine.generate

    def counted(ids, cancel=None):
        calls.append("run")
        return original(ids, cancel)

    engine.generate = counted  # type: ignore[method-assign]

    async def scenario() -> None:
        queued = asyncio.ensure_future(engine.complete(CompletionQuery("we sing", 7)))
        await asyncio.sleep(0)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        gate.set()
        await asyncio.get_running_loop().run_in_executor(None, blocker.result)
        assert await engine.complete(CompletionQuery("we sing", 7)) is not None

    asyncio.run(scenario())
    assert calls == ["run"]  # only the last one
    engine.close()


def test_a_cancel_flag_stops_the_decode_after_the_first_token(engine):
    cancel = threading.Event()
    cancel.set()
    branches = engine.generate(engine.prompt_ids("I walk alone"), cancel)
    assert branches and all(len(b.tokens) == 1 for b in branches)


def test_analysis_is_not_this_engines(engine):
    with pytest.raises(NotConfigured):
        asyncio.run(engine.analyze("夜空"))


def _no_past_model(path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Cast", ["input_ids"], ["logits"], to=TensorProto.FLOAT)],
        "no_past",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "s"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", "s"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path / "model.onnx"))


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("no folder", "does not exist"),
        ("no config", "config.json is missing"),
        ("bad config", "config.json is not valid JSON"),
        ("no tokenizer", "tokenizer.json is missing"),
        ("bad tokenizer", "tokenizer.json does not load"),
        ("no model", "no model.onnx"),
        ("garbage model", "model.onnx does not load"),
        ("no past", "takes no past_key_values"),
        ("bad options", "options"),
    ],
)
def test_a_broken_folder_says_what_is_wrong_and_never_its_path(tmp_path, breakage, message):
    folder = write_model_folder(tmp_path / "model")
    options: dict[str, object] = {}
    if breakage == "no folder":
        folder = tmp_path / "nowhere"
    elif breakage == "no config":
        (folder / "config.json").unlink()
    elif breakage == "bad config":
        (folder / "config.json").write_text("{not json")
    elif breakage == "no tokenizer":
        (folder / "tokenizer.json").unlink()
    elif breakage == "bad tokenizer":
        (folder / "tokenizer.json").write_text('{"version": "1.0"}')
    elif breakage == "no model":
        (folder / "model.onnx").unlink()
    elif breakage == "garbage model":
        (folder / "model.onnx").write_bytes(b"\x00not an onnx graph" * 10)
    elif breakage == "no past":
        _no_past_model(folder)
    elif breakage == "bad options":
        options = {"max_new_tokens": 10_000}
    with pytest.raises(LMFolderError, match=message) as caught:
        engine_for(folder, **options)
    assert str(tmp_path) not in str(caught.value)
    assert isinstance(caught.value, NotConfigured)


def test_no_folder_configured_names_the_settings():
    with pytest.raises(LMFolderError, match=r"\[engines.lm\] folder"):
        OnnxLMCompleter(EngineConfig(name="lm"))


def test_cuda_asked_of_a_build_without_it_runs_on_the_cpu(tmp_path):
    import onnxruntime as ort

    folder = write_model_folder(tmp_path)
    engine = OnnxLMCompleter(EngineConfig(name="lm", folder=str(folder), execution_provider="cuda"))
    expected = "CUDAExecutionProvider" if "CUDAExecutionProvider" in ort.get_available_providers() else None
    assert engine.decoder._session.get_providers()[0] == (expected or "CPUExecutionProvider")
    assert engine.generate(engine.prompt_ids("we sing"))
