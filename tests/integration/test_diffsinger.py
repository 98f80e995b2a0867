"""DiffSinger voicebanks through the real loader, real onnxruntime and the real routes.

Every bank is written at test time (tests/fakes/voicebanks.py): real ONNX graphs with
seeded random weights and each format generation's input names; the vocoder sings a sine at
its f0, so pitch and length are checked from the WAV."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import make_settings
from tests.fakes.voicebanks import BankSpec, write_bank
from tests.integration.test_http_foundation import assert_problem
from tests.integration.test_render_jobs import until
from tests.integration.test_singing import HOP, SR, cents, estimate_f0, read_wav

HELD = {"notes": [{"pitch": 69, "start": 0.0, "duration": 1.2, "lyric": "a"}]}


def note(start: float, lyric: str, duration: float = 0.5) -> dict:
    return {"pitch": 60, "start": start, "duration": duration, "lyric": lyric}


def sung(pitch: int = 69, lyric: str = "ら", **extra):
    return {"notes": [{"pitch": pitch, "start": 0.1, "duration": 1.0, "lyric": lyric}], **extra}


@pytest.fixture
def voices_dir(tmp_path):
    root = tmp_path / "voices"
    root.mkdir()
    return root


def serve(client_for, root, **env):
    return client_for(make_settings({"DAWAI_VOICES_DIR": str(root), **env}))


def held_pitch(body: bytes) -> float:
    samples, _ = read_wav(body)
    return estimate_f0(samples[int(0.4 * SR) : int(0.9 * SR)])


@pytest.mark.parametrize("generation", [1, 2, 3])
@pytest.mark.parametrize("prefix", ["/diffsinger", "/ai/api/voice"])
def test_each_generation_sings_in_tune_and_as_long_as_the_notes(client_for, voices_dir, generation, prefix):
    write_bank(voices_dir, "tiny", BankSpec(generation=generation))
    client = serve(client_for, voices_dir)
    body = {"voice": "tiny", "notes": [
        {"pitch": 64, "start": 0.3, "duration": 0.5, "lyric": "さ"},
        {"pitch": 69, "start": 0.8, "duration": 1.0, "lyric": "ら"},
    ]}  # fmt: skip
    response = client.post(f"{prefix}/synthesize", json=body)
    assert response.status_code == 200, response.text
    samples, info = read_wav(response.content)
    assert (info.samplerate, info.channels, info.subtype) == (SR, 1, "PCM_16")
    assert abs(len(samples) - 1.8 * SR) <= HOP
    assert abs(cents(estimate_f0(samples[int(1.1 * SR) : int(1.7 * SR)]), 440.0)) < 30
    assert client.post(f"{prefix}/synthesize", json=body).headers["x-cache"] == "hit"


@pytest.mark.parametrize("generation", [1, 2, 3])
def test_each_generation_renders_through_the_job_api(client_for, voices_dir, generation):
    """The same bank through a render job: created, followed to done, its audio in tune."""
    write_bank(voices_dir, "tiny", BankSpec(generation=generation))
    client = serve(client_for, voices_dir)
    body = {"voice": "tiny", "notes": [{"pitch": 69, "start": 0.0, "duration": 1.2, "lyric": "ら"}]}
    created = client.post("/ai/api/voice/jobs", json=body)
    assert created.status_code == 202, created.text
    location = created.headers["location"]
    done = until(lambda: (j := client.get(location).json())["state"] in ("done", "failed") and j, "finished")
    assert done["state"] == "done", done
    audio = client.get(f"{location}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    samples, _ = read_wav(audio.content)
    assert abs(len(samples) - 1.2 * SR) <= HOP
    assert abs(cents(held_pitch(audio.content), 440.0)) < 30


def test_models_lists_banks_by_folder_with_their_names_and_speakers(client_for, voices_dir):
    write_bank(voices_dir, "alto", BankSpec(name="Alto Singer", speakers=("soft", "strong"), generation=3))
    write_bank(voices_dir, "kana", BankSpec(name="かなうた", character_cp932=True))
    client = serve(client_for, voices_dir)
    models = {m["id"]: m for m in client.get("/diffsinger/models").json()}
    assert set(models) == {"default", "alto", "kana"}
    assert models["alto"]["name"] == "Alto Singer" and models["alto"]["speakers"] == ["soft", "strong"]
    assert models["kana"]["name"] == "かなうた"  # character.txt in cp932
    assert models["alto"]["backend"] == "diffsinger" and models["alto"]["status"] == "ok"
    assert models["alto"]["executionProvider"] == "cpu" and models["alto"]["sampleRate"] == SR
    ok = client.post("/diffsinger/synthesize", json=sung(voice="alto", speaker="strong"))
    assert ok.status_code == 200, ok.text
    problem = assert_problem(
        client.post("/diffsinger/synthesize", json=sung(voice="alto", speaker="nobody")), 404
    )
    assert "soft, strong" in problem["detail"]


def _break(root, how: str) -> None:
    folder = write_bank(root, "broken", BankSpec(
        acoustic_rename={"tokens": "token_ids"} if how == "renamed input" else {},
        acoustic_extra={"mystery": ("float", [1])} if how == "unknown input" else {},
        vocoder_in_bank=how != "no vocoder",
    ), vocoders_dir=root.parent / "elsewhere")  # fmt: skip
    if how == "missing acoustic":
        (folder / "acoustic.onnx").unlink()
    elif how == "bad yaml":
        (folder / "dsconfig.yaml").write_text("acoustic: [unclosed\n  : :")
    elif how == "corrupt onnx":
        (folder / "acoustic.onnx").write_bytes(b"\x08\x07half-copied" + bytes(100))


BROKEN = {
    "missing acoustic": "acoustic model acoustic.onnx is missing",
    "bad yaml": "dsconfig.yaml is not valid YAML",
    "renamed input": "has no input 'tokens'",
    "unknown input": "declares input 'mystery'",
    "corrupt onnx": "cannot be loaded",
    "no vocoder": "vocoder 'tiny_hifigan'",
}


@pytest.mark.parametrize("how", sorted(BROKEN))
def test_a_broken_bank_is_reported_and_never_stops_the_others(client_for, voices_dir, how):
    write_bank(voices_dir, "good")
    _break(voices_dir, how)
    client = serve(client_for, voices_dir)
    assert client.get("/health").status_code == 200
    problem = assert_problem(client.post("/diffsinger/synthesize", json=sung(voice="broken")), 503)
    assert "voicebank 'broken'" in problem["detail"] and BROKEN[how] in problem["detail"]
    models = {m["id"]: m for m in client.get("/diffsinger/models").json()}
    assert models["broken"]["status"] == "failed" and BROKEN[how] in models["broken"]["error"]
    assert models["good"]["status"] == "ok"
    health = client.get("/health").json()
    assert health["status"] == "degraded" and BROKEN[how] in health["voices_failed"]["broken"]
    assert "broken" not in health["voices"] and "good" in health["voices"]
    voice_health = client.get("/ai/api/voice/health").json()
    assert voice_health["status"] == "degraded" and "broken" in voice_health["failed"]
    for voice in ("good", "default"):  # the others still sing
        assert client.post("/diffsinger/synthesize", json=sung(voice=voice)).status_code == 200


def test_a_vocoder_package_from_vocoders_dir(client_for, voices_dir, tmp_path):
    vocoders = tmp_path / "vocoders"
    write_bank(voices_dir, "shared", BankSpec(vocoder_in_bank=False), vocoders_dir=vocoders)
    assert_problem(
        serve(client_for, voices_dir).post("/diffsinger/synthesize", json=sung(voice="shared")), 503
    )
    client = serve(client_for, voices_dir, DAWAI_VOCODERS_DIR=str(vocoders))
    response = client.post("/diffsinger/synthesize", json=sung(voice="shared"))
    assert response.status_code == 200, response.text


def _rms(body: bytes) -> float:
    samples, _ = read_wav(body)
    return float(np.sqrt(np.mean(samples[int(0.3 * SR) : int(1.0 * SR)] ** 2)))


def test_mel_base_is_rescaled_by_ln_10_when_bank_and_vocoder_differ(client_for, voices_dir):
    write_bank(voices_dir, "same", BankSpec(mel_base="10", vocoder_mel_base="10", level=1.0))
    write_bank(voices_dir, "log10", BankSpec(mel_base="10", vocoder_mel_base="e", level=1.0))
    write_bank(voices_dir, "natural", BankSpec(mel_base="e", vocoder_mel_base="10", level=2.0))
    client = serve(client_for, voices_dir)
    rms = {
        v: _rms(client.post("/diffsinger/synthesize", json=sung(voice=v)).content)
        for v in ("same", "log10", "natural")
    }
    assert rms["log10"] / rms["same"] == pytest.approx(math.log(10), rel=0.02)
    assert rms["natural"] / rms["same"] == pytest.approx(2.0 / math.log(10), rel=0.02)


def test_the_banks_pitch_duration_and_variance_models_are_used(client_for, voices_dir):
    spec = BankSpec(dur=True, pitch_offset=1.0, variance=("energy", "breathiness"), multilingual=True)
    write_bank(voices_dir, "full", spec)
    client = serve(client_for, voices_dir)
    response = client.post("/diffsinger/synthesize", json={"voice": "full", **HELD})
    assert response.status_code == 200, response.text
    samples, _ = read_wav(response.content)
    assert abs(len(samples) - 1.2 * SR) <= HOP
    # The pitch model sings a semitone up: its f0, not the notes', reaches the vocoder.
    assert abs(cents(held_pitch(response.content), 440.0 * 2 ** (1 / 12))) < 30
    english = client.post("/diffsinger/synthesize", json={"voice": "full", "language": "en", "notes": [
        {"pitch": 60, "start": 0, "duration": 0.6, "lyric": "hello"},
        {"pitch": 62, "start": 0.6, "duration": 0.6, "lyric": "world"}]})  # fmt: skip
    assert english.status_code == 200, english.text


def test_lyrics_go_through_the_banks_dictionary_first(client_for, voices_dir):
    write_bank(voices_dir, "dict", BankSpec(dictionary={"zzq": ["s", "a"], "hello": ["h", "e", "r", "o"]}))
    write_bank(voices_dir, "plain")
    client = serve(client_for, voices_dir)
    body = {"notes": [{"pitch": 60, "start": 0, "duration": 0.5, "lyric": "la"},
                      {"pitch": 60, "start": 0.5, "duration": 0.5, "lyric": "zzq"}]}  # fmt: skip
    assert client.post("/diffsinger/synthesize", json={"voice": "dict", **body}).status_code == 200
    problem = assert_problem(client.post("/diffsinger/synthesize", json={"voice": "plain", **body}), 400)
    assert problem["errors"][0]["field"] == "notes[1].lyric" and "zzq" in problem["detail"]


def test_the_language_dictionary_renames_the_shared_g2ps_phonemes(client_for, voices_dir):
    folder = write_bank(voices_dir, "ax", BankSpec(dictionary_language="en", replacements={"ah": "ax"}))
    listed = (folder / "phonemes.txt").read_text().replace("\nah\n", "\nax\n")
    (folder / "phonemes.txt").write_text(listed)  # the bank says "ax" where CMUdict says "ah"
    write_bank(voices_dir, "plain")
    (voices_dir / "plain" / "phonemes.txt").write_text(listed)  # the same list, no dictionary
    client = serve(client_for, voices_dir)
    body = {"language": "en", "notes": [note(0, "love")]}  # CMUdict: l ah v
    assert client.post("/diffsinger/synthesize", json={"voice": "ax", **body}).status_code == 200
    problem = assert_problem(client.post("/diffsinger/synthesize", json={"voice": "plain", **body}), 400)
    assert "love" in problem["detail"]


def test_a_lyric_the_bank_cannot_sing_is_a_400_naming_the_note(client_for, voices_dir):
    write_bank(voices_dir, "tiny")
    client = serve(client_for, voices_dir)
    body = {"voice": "tiny", "notes": [note(0, "la"), note(0.5, "blorptz")]}
    problem = assert_problem(client.post("/diffsinger/synthesize", json=body), 400)
    assert problem["errors"][0]["field"] == "notes[1].lyric" and "blorptz" in problem["detail"]
    rests = {
        "voice": "tiny",
        "notes": [note(0, "la"), note(0.5, "+", 0.3), note(0.8, "AP", 0.3), note(1.1, "-", 0.3)],
    }
    samples, _ = read_wav(client.post("/diffsinger/synthesize", json=rests).content)
    assert abs(len(samples) - 1.4 * SR) <= HOP


def test_a_breath_on_a_bank_without_ap_is_silence(client_for, voices_dir):
    folder = write_bank(voices_dir, "noap", BankSpec(phonemes_json=True))
    (folder / "phonemes.json").write_text('{"SP": 0, "a": 1, "l": 2, "aa": 3}')
    client = serve(client_for, voices_dir)
    body = {"voice": "noap", "notes": [note(0, "AP"), note(0.5, "la")]}
    response = client.post("/diffsinger/synthesize", json=body)
    assert response.status_code == 200, response.text
    assert client.get("/diffsinger/models").json()[-1]["status"] == "ok"


def test_cuda_asked_for_on_a_machine_without_it_falls_back_to_the_cpu_with_a_flag(client_for, voices_dir):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this machine's onnxruntime has CUDA: the fallback is not reachable by asking for it")
    write_bank(voices_dir, "tiny")
    client = serve(client_for, voices_dir, DAWAI_EXECUTION_PROVIDER="cuda")
    assert client.get("/ai/api/voice/health").json()["executionProvider"] == "cuda"
    response = client.post("/diffsinger/synthesize", json=sung(voice="tiny"))
    assert response.status_code == 200, response.text
    voice_health = client.get("/ai/api/voice/health").json()
    assert voice_health["status"] == "degraded" and "running on the CPU" in voice_health["warnings"]["tiny"]
    assert client.get("/health").json()["voice_warnings"]["tiny"].startswith("CUDA was asked for")
    models = {m["id"]: m for m in client.get("/diffsinger/models").json()}
    assert models["tiny"]["executionProvider"] == "cpu"


@pytest.mark.cuda
def test_on_a_gpu_the_bank_runs_on_cuda(client_for, voices_dir):
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        pytest.skip("needs onnxruntime-gpu with a CUDA device")
    write_bank(voices_dir, "tiny")
    client = serve(client_for, voices_dir, DAWAI_EXECUTION_PROVIDER="auto")
    response = client.post("/diffsinger/synthesize", json=sung(voice="tiny"))
    assert response.status_code == 200, response.text
    assert abs(cents(held_pitch(response.content), 440 * 2 ** ((69 - 69) / 12))) < 30
    models = {m["id"]: m for m in client.get("/diffsinger/models").json()}
    assert models["tiny"]["executionProvider"] == "cuda"
    assert client.get("/ai/api/voice/health").json()["warnings"] == {}
