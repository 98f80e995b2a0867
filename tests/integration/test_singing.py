"""The singing endpoints over the real app, the built-in voice and the real phrase cache:
the WAV's format and length, the pitch of a held note, cache hits (in Redis too, shared by
two apps as by two workers), every refusal as problem+json, the bounded render queue, and
a render that leaves /health answering."""

from __future__ import annotations

import asyncio
import io
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import soundfile

from dawai.bootstrap.lifecycle import app_for
from dawai.core.models import Audio, VoiceInfo
from dawai.plugins import hookimpl
from tests.conftest import make_container, make_settings
from tests.integration.test_http_foundation import assert_problem

SR = 44100
HOP = 512
PREFIXES = ("/diffsinger", "/ai/api/voice")


def phrase(*lyrics: str, pitch: int = 69, length: float = 0.4) -> dict[str, Any]:
    return {
        "notes": [
            {"pitch": pitch, "start": i * length, "duration": length, "lyric": word}
            for i, word in enumerate(lyrics)
        ]
    }


def read_wav(body: bytes) -> tuple[np.ndarray, Any]:
    info = soundfile.info(io.BytesIO(body))
    samples, _ = soundfile.read(io.BytesIO(body), dtype="float64")
    return samples, info


def estimate_f0(samples: np.ndarray, low: float = 60.0, high: float = 1200.0) -> float:
    """f0 by autocorrelation, the peak lag refined by parabolic interpolation."""
    x = samples - samples.mean()
    spectrum = np.fft.rfft(x, n=2 * len(x))
    ac = np.fft.irfft(spectrum * np.conj(spectrum))[: len(x)]
    lo, hi = int(SR / high), int(SR / low)
    lag = lo + int(np.argmax(ac[lo:hi]))
    a, b, c = ac[lag - 1], ac[lag], ac[lag + 1]
    return SR / (lag + 0.5 * (a - c) / (a - 2 * b + c))


def cents(f: float, target: float) -> float:
    return 1200 * math.log2(f / target)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_phrase_comes_back_as_16_bit_mono_wav_as_long_as_its_notes(client_for, prefix):
    client = client_for()
    body = {"language": "ja", "notes": [
        {"pitch": 60, "start": 0.25, "duration": 0.5, "lyric": "さ"},
        {"pitch": 62, "start": 0.75, "duration": 0.5, "lyric": "く"},
        {"pitch": 64, "start": 1.25, "duration": 0.8, "lyric": "ら"},
    ]}  # fmt: skip
    response = client.post(f"{prefix}/synthesize", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-cache"] == "miss" and float(response.headers["x-render-time-ms"]) >= 0
    samples, info = read_wav(response.content)
    assert (info.samplerate, info.channels, info.subtype, info.format) == (SR, 1, "PCM_16", "WAV")
    assert abs(len(samples) - 2.05 * SR) <= HOP
    assert np.abs(samples[: int(0.15 * SR)]).max() < 1e-3  # the rest before the first consonant
    assert np.sqrt(np.mean(samples[int(0.3 * SR) : int(2.0 * SR)] ** 2)) > 0.02  # sung


@pytest.mark.parametrize(
    ("pitch", "lyric", "language"), [(57, "あ", "ja"), (69, "ah", "en"), (76, "o", None)]
)
def test_a_held_note_is_in_tune_within_10_cents(client_for, pitch, lyric, language):
    client = client_for()
    body = {"notes": [{"pitch": pitch, "start": 0, "duration": 1.5, "lyric": lyric}]}
    if language:
        body["language"] = language
    samples, _ = read_wav(client.post("/diffsinger/synthesize", json=body).content)
    target = 440 * 2 ** ((pitch - 69) / 12)
    steady = samples[int(0.05 * SR) : int(0.3 * SR)]  # settled, before the vibrato sets in
    assert abs(cents(estimate_f0(steady), target)) < 10
    whole = samples[int(0.1 * SR) : int(1.4 * SR)]  # vibrato swings evenly about the note
    assert abs(cents(estimate_f0(whole), target)) < 10


def test_key_shift_moves_the_pitch(client_for):
    client = client_for()
    body = {"keyShift": -12, "notes": [{"pitch": 81, "start": 0, "duration": 0.6, "lyric": "a"}]}
    samples, _ = read_wav(client.post("/diffsinger/synthesize", json=body).content)
    assert abs(cents(estimate_f0(samples[int(0.05 * SR) : int(0.3 * SR)]), 440)) < 10


def test_the_same_phrase_again_is_a_cache_hit_until_the_cache_is_cleared(client_for):
    client = client_for()
    body = phrase("la", "la", "lu")
    first = client.post("/diffsinger/synthesize", json=body)
    again = client.post("/ai/api/voice/synthesize", json={**body, "notes": body["notes"][::-1]})
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert again.content == first.content
    assert client.post("/diffsinger/synthesize", json={**body, "keyShift": 1}).headers["x-cache"] == "miss"
    cleared = client.post("/diffsinger/cache/clear").json()
    assert cleared == {"cleared": 2, "freedBytes": 2 * len(first.content)}
    assert client.post("/diffsinger/synthesize", json=body).headers["x-cache"] == "miss"


def test_the_cache_is_bounded_in_bytes(client_for):
    client = client_for(make_settings({"DAWAI_AUDIO_CACHE_BYTES": "60000"}))  # one 0.4-s phrase fits
    one, two = phrase("la"), phrase("lu")
    assert client.post("/diffsinger/synthesize", json=one).headers["x-cache"] == "miss"
    assert client.post("/diffsinger/synthesize", json=two).headers["x-cache"] == "miss"
    assert client.post("/diffsinger/synthesize", json=one).headers["x-cache"] == "miss"  # evicted


@pytest.mark.redis
def test_two_workers_share_the_phrase_cache_in_redis(redis_url):
    settings = make_settings({"DAWAI_REDIS_URL": redis_url})
    from tests.conftest import local_client

    body = phrase("ka", "ze", pitch=64)
    with (
        local_client(app_for(make_container(settings))) as a,
        local_client(app_for(make_container(settings))) as b,
    ):
        a.post("/diffsinger/cache/clear")
        first = a.post("/diffsinger/synthesize", json=body)
        second = b.post("/diffsinger/synthesize", json=body)
        assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
        assert second.content == first.content
        assert b.post("/diffsinger/cache/clear").json()["cleared"] >= 1
        assert a.post("/diffsinger/synthesize", json=body).headers["x-cache"] == "miss"
        a.post("/diffsinger/cache/clear")


NOTE = {"pitch": 60, "start": 0, "duration": 0.5, "lyric": "la"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"voice": "tenor", "notes": [NOTE]}, 404, None),
        ({"speaker": "alto", "notes": [NOTE]}, 404, None),
        ({"notes": []}, 400, "notes"),
        ({"notes": [{**NOTE, "pitch": 128}]}, 400, "notes[0].pitch"),
        ({"keyShift": 70, "notes": [{**NOTE, "pitch": 60}]}, 400, "keyShift"),
        ({"keyShift": 40, "notes": [{**NOTE, "pitch": 100}]}, 400, "notes[0].pitch"),
        ({"notes": [{**NOTE, "start": -1}]}, 400, "notes[0].start"),
        ({"notes": [NOTE, {**NOTE, "start": 0.25}]}, 400, "notes[1].start"),
        ({"notes": [NOTE, {**NOTE, "start": 0.5, "lyric": "blorptz"}]}, 400, "notes[1].lyric"),
        ({"notes": [{**NOTE, "lyric": "+"}]}, 400, "notes[0].lyric"),
        ({"language": "en", "notes": [{**NOTE, "lyric": "さ"}]}, 400, "notes[0].lyric"),
        ({"notes": [{**NOTE, "start": 299.9, "duration": 0.2}]}, 413, None),
        ({"steps": 0, "notes": [NOTE]}, 400, "steps"),
        ({"steps": 1001, "notes": [NOTE]}, 400, "steps"),
    ],
)
def test_bad_input_is_a_problem_document(client_for, body, status, field):
    client = client_for()
    problem = assert_problem(client.post("/diffsinger/synthesize", json=body), status)
    if field:
        assert field in [e["field"] for e in problem["errors"]]
    if field == "notes[1].lyric":
        assert "blorptz" in problem["detail"]
    # The server and the cache are intact: a good phrase still sings.
    assert client.post("/diffsinger/synthesize", json={"notes": [NOTE]}).status_code == 200


def test_the_render_limit_is_a_setting(client_for):
    client = client_for(make_settings({"DAWAI_SING_MAX_SECONDS": "1"}))
    problem = assert_problem(client.post("/diffsinger/synthesize", json=phrase("la", "la", "la")), 413)
    assert "at most 1 s" in problem["detail"]


def test_models_and_health_list_the_builtin_voice(client_for):
    client = client_for()
    assert client.get("/ai/api/voice/health").json() == {
        "status": "ok", "voices": ["default"], "executionProvider": "cpu",
        "rendering": 0, "queued": 0, "failed": {}, "warnings": {},
    }  # fmt: skip
    assert client.get("/diffsinger/models").json() == [
        {"id": "default", "name": "Built-in formant voice", "languages": ["ja", "en"], "speakers": [],
         "sampleRate": 44100, "backend": "builtin", "executionProvider": "cpu", "status": "ok", "error": None}
    ]  # fmt: skip


class GatedVoice:
    """A voice whose renders wait until the test lets them go (a thread's event: the test
    client may run the app on a loop of its own)."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = 0

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("gated", "Gated", ("en",))]

    def identity(self) -> str:
        return "gated-1"

    async def synthesize(self, request, progress=None) -> Audio:
        self.started += 1
        while not self.gate.is_set():
            await asyncio.sleep(0.005)
        return Audio(np.zeros(HOP, dtype="<f4").tobytes(), SR)

    async def aclose(self) -> None:
        pass


class GatedPlugin:
    def __init__(self, voice: GatedVoice) -> None:
        self.voice = voice

    @hookimpl
    def register_voices(self, register: Callable[..., None]) -> None:
        register("gated", lambda config: self.voice)


def test_renders_past_the_slots_and_the_queue_are_refused_with_503(client_for):
    voice = GatedVoice()
    settings = make_settings({"DAWAI_SING_RENDERS": "1", "DAWAI_SING_QUEUE": "1"})
    client = client_for(settings, ("gated", GatedPlugin(voice)))

    def sing(i: int) -> Any:
        return client.post("/diffsinger/synthesize", json={"voice": "gated", **phrase("la", pitch=50 + i)})

    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(sing, i) for i in range(2)]  # one renders, one waits for the slot
        for _ in range(1000):  # until one renders and one waits
            health = client.get("/ai/api/voice/health").json()
            if (health["rendering"], health["queued"]) == (1, 1):
                break
            time.sleep(0.01)
        assert voice.started == 1
        problem = assert_problem(sing(3), 503)
        assert "singing.queued_renders" in problem["detail"]
        voice.gate.set()
        assert [r.result().status_code for r in running] == [200, 200]


def test_a_render_does_not_block_health(client_for):
    """A 250-s phrase renders (off the event loop) while health keeps answering; counted in
    answers, not timed."""
    client = client_for()
    long_phrase = {
        "notes": [
            {"pitch": 55 + i % 12, "start": i * 0.5, "duration": 0.5, "lyric": "la"} for i in range(500)
        ]
    }
    client.post("/diffsinger/synthesize", json=phrase("la"))  # the dictionary loaded, the voice built
    with ThreadPoolExecutor(1) as pool:
        render = pool.submit(client.post, "/diffsinger/synthesize", json=long_phrase)
        answered = rendering = 0
        while not render.done():
            health = client.get("/ai/api/voice/health")
            assert health.status_code == 200
            answered += 1
            rendering += health.json()["rendering"]
        assert render.result().status_code == 200
    assert answered >= 3 and rendering >= 1  # health answered while the render ran
