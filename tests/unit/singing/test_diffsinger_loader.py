"""The voicebank loader's parts: reading banks (and refusing broken ones), the acceleration
inputs of each generation, frame sharing, provider choice, lazy sessions and eviction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.adapters.inference.diffsinger import register_banks
from dawai.adapters.inference.diffsinger.bank import BankError, read_bank
from dawai.adapters.inference.diffsinger.phonemize import BankPhonemizer
from dawai.adapters.inference.diffsinger.sessions import SessionPool, choose_provider, planned_provider
from dawai.adapters.inference.diffsinger.voice import DiffSingerVoice, acceleration, fit_frames
from dawai.adapters.inference.g2p import G2PSet
from dawai.core.models import SynthesisNote, SynthesisRequest
from tests.conftest import make_settings
from tests.fakes.voicebanks import BankSpec, write_bank


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.floats(0, 50) | st.just(float("nan")), min_size=1, max_size=12), st.integers(0, 400))
def test_fit_frames_always_sums_and_gives_every_part_a_frame_when_it_can(weights, total):
    parts = fit_frames(weights, total)
    assert sum(parts) == total and len(parts) == len(weights)
    if total >= len(weights):
        assert min(parts) >= 1


def test_acceleration_inputs_follow_the_graphs_generation():
    one = acceleration({"speedup": "tensor(int64)"}, steps=20, depth=1.0)
    assert one["speedup"].tolist() == [50] and one["speedup"].dtype == np.int64
    assert acceleration({"speedup": "tensor(int64)"}, steps=7, depth=1.0)["speedup"].tolist() == [125]
    two = acceleration({"speedup": "tensor(int64)", "depth": "tensor(int64)"}, steps=20, depth=0.6)
    assert two["speedup"].tolist() == [30] and two["depth"].tolist() == [600]
    three = acceleration({"steps": "tensor(int64)", "depth": "tensor(float)"}, steps=20, depth=0.6)
    assert three["steps"].tolist() == [20] and three["depth"].dtype == np.float32
    assert three["depth"].tolist() == pytest.approx([0.6])


def test_provider_choice():
    assert choose_provider("auto", ["CPUExecutionProvider"]) == "cpu"
    assert choose_provider("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"]) == "cuda"
    assert choose_provider("cpu", ["CUDAExecutionProvider"]) == "cpu"
    assert choose_provider("cuda", ["CPUExecutionProvider"]) == "cuda"  # then falls back, flagged
    assert planned_provider("cpu") == "cpu"


def test_a_bank_reads_its_defaults_and_files(tmp_path):
    bank = read_bank(write_bank(tmp_path, "b", BankSpec(generation=2, speakers=("x",), phonemes_json=True)))
    assert (bank.id, bank.name, bank.hop_size, bank.sample_rate, bank.mel_base) == (
        "b",
        "Test Singer",
        512,
        44100,
        "10",
    )
    assert (
        bank.max_depth == pytest.approx(0.6) and bank.speakers == ("x",) and len(bank.embeddings["x"]) == 16
    )
    assert bank.phonemes["SP"] == 1 and bank.vocoder.mel_base == "10" and bank.identity


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: (f / "phonemes.txt").write_text("<PAD>\na\ni\n"), "has no SP"),
        (lambda f: (f / "embeds" / "x.emb").write_bytes(b"\0" * 12), "not hidden_size 16 float32s"),
        (
            lambda f: (f / "dsconfig.yaml").write_text(
                (f / "dsconfig.yaml")
                .read_text()
                .replace("acoustic: acoustic.onnx", "acoustic: ../../etc/passwd")
            ),
            "points outside the voicebank",
        ),
        (
            lambda f: (f / "dsvocoder" / "vocoder.yaml").write_text(
                "num_mel_bins: 80\nmodel: vocoder.onnx\n"
            ),
            r"num_mel_bins \(80\) differs",
        ),
        (lambda f: (f / "dsconfig.yaml").write_text("- just\n- a list\n"), "must be a mapping"),
        (lambda f: (f / "dsvocoder" / "vocoder.onnx").unlink(), "vocoder model vocoder.onnx is missing"),
    ],
)
def test_a_broken_bank_is_refused_with_its_name_and_the_reason(tmp_path, mutate, message):
    folder = write_bank(tmp_path, "bad", BankSpec(speakers=("x",)))
    mutate(folder)
    with pytest.raises(BankError, match=message) as caught:
        read_bank(folder)
    assert "voicebank 'bad'" in str(caught.value)


def test_register_banks_finds_folders_and_marks_broken_ones(tmp_path):
    write_bank(tmp_path, "good")
    (write_bank(tmp_path, "bad") / "acoustic.onnx").unlink()
    (tmp_path / "notes").mkdir()  # not a bank: no dsconfig.yaml, character.*
    got: dict[str, dict] = {}
    register_banks(
        lambda name, factory, **kw: got.setdefault(name, kw),
        make_settings({"DAWAI_VOICES_DIR": str(tmp_path)}),
    )
    assert sorted(got) == ["bad", "good"]
    assert got["good"]["problem"] is None and "acoustic.onnx is missing" in got["bad"]["problem"]


def test_multilingual_banks_prefix_phonemes_by_language(tmp_path):
    bank = read_bank(write_bank(tmp_path, "ml", BankSpec(multilingual=True)))
    phonemize = BankPhonemizer(bank, G2PSet())
    assert phonemize("ja", "ka") == ("ja/k", "ja/a")
    assert phonemize("en", "la") == ("en/l", "en/aa")
    assert (
        phonemize.kind("ja/a") == "vowel"
        and phonemize.kind("en/l") == "liquid"
        and phonemize.kind("zz") is None
    )
    assert phonemize.languages() == ("en", "ja")


def _request(voice: str) -> SynthesisRequest:
    return SynthesisRequest(voice=voice, notes=(SynthesisNote(60, 0.0, 0.5, "ka"),), language="ja")


def test_sessions_are_made_on_first_render_cached_and_evicted_past_the_limit(tmp_path):
    pool = SessionPool(execution_provider="cpu", threads=1, max_loaded=1)
    workers = ThreadPoolExecutor(1)
    voices = {n: DiffSingerVoice(read_bank(write_bank(tmp_path, n)), pool, workers) for n in ("a", "b")}
    assert pool.loaded() == [] and pool.loads == 0  # nothing loaded by building the voices
    voices["a"].render(_request("a"))
    voices["a"].render(_request("a"))
    assert pool.loads == 1 and pool.loaded() == ["a"]
    voices["b"].render(_request("b"))
    assert pool.loaded() == ["b"] and pool.evictions == 1
    samples = voices["a"].render(_request("a"))  # loaded again, the other one dropped
    assert pool.loads == 3 and pool.loaded() == ["a"] and abs(len(samples) - 0.5 * 44100) <= 512
    workers.shutdown()


class Recorder:
    """A real session that keeps what each run was fed."""

    def __init__(self, session, calls: list) -> None:
        self.session, self.calls = session, calls

    def run(self, names, feeds):
        self.calls.append(feeds)
        return self.session.run(names, feeds)


def _recorded(voice: DiffSingerVoice, pool: SessionPool, request: SynthesisRequest) -> dict[str, dict]:
    voice.render(request)  # loads the sessions
    models = pool.models(voice.bank.id, dict)
    calls: dict[str, list] = {}
    for name, model in models.items():
        model.session = Recorder(model.session, calls.setdefault(name, []))
    voice.render(request)
    for name, model in models.items():
        assert all(set(feeds) == set(model.inputs) for feeds in calls[name]), name  # exactly what it declares
    return {name: got[-1] for name, got in calls.items() if got}


def test_each_model_is_fed_exactly_its_declared_inputs_and_the_chosen_speaker(tmp_path):
    spec = BankSpec(generation=3, speakers=("soft", "strong"), multilingual=True, dur=True, pitch_offset=0.0,
                    variance=("energy",))  # fmt: skip
    bank = read_bank(write_bank(tmp_path, "full", spec))
    pool = SessionPool(execution_provider="cpu", threads=1, max_loaded=1)
    voice = DiffSingerVoice(bank, pool, ThreadPoolExecutor(1))
    notes = (SynthesisNote(60, 0.1, 0.4, "かな"), SynthesisNote(62, 0.5, 0.6, "la"))
    request = SynthesisRequest("full", notes, speaker="strong")
    fed = _recorded(voice, pool, request)
    acoustic = fed["acoustic"]
    total = int(acoustic["durations"].sum())
    assert total == round(1.1 * 44100 / 512) + 16  # the notes' frames and 8 of SP padding each side
    assert acoustic["f0"].shape == (1, total) and acoustic["spk_embed"].shape == (1, total, 16)
    assert np.allclose(acoustic["spk_embed"][0, 0], bank.embeddings["strong"])
    assert acoustic["steps"].tolist() == [20] and acoustic["depth"].dtype == np.float32
    tokens = acoustic["tokens"][0].tolist()
    names = {i: p for p, i in bank.phonemes.items()}
    sung = [names[t] for t in tokens]
    assert sung[0] == sung[-1] == "SP" and "ja/k" in sung and "en/l" in sung
    languages = acoustic["languages"][0].tolist()
    assert languages[sung.index("ja/k")] == 1 and languages[sung.index("en/l")] == 2 and languages[0] == 0
    # The duration model's prediction reshaped the frames inside each word, and they still sum.
    rule = [8, *voice._align(request).frames, 8]
    assert acoustic["durations"][0].tolist() != rule and sum(rule) == total
    assert fed["variance"]["retake"].shape == (1, total, 1)
    assert fed["pitch"]["note_dur"].sum() == total


def test_sessions_take_the_configured_thread_count(tmp_path):
    bank = read_bank(write_bank(tmp_path, "t"))
    pool = SessionPool(execution_provider="cpu", threads=3, max_loaded=1)
    model = pool.open(bank.id, "acoustic", bank.acoustic)
    options = model.session.get_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (3, 1)
    assert model.provider == "cpu" and set(model.inputs) == {"tokens", "durations", "f0", "speedup"}
