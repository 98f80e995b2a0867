"""``POST /api/generate`` through the app: the local generator, JSON and MIDI, the limits,
and provider models through the real SDKs against the loopback fake upstream."""

from __future__ import annotations

import io
import json

import mido
import pytest

from dawai.adapters.http.route_set import API_PREFIXES
from dawai.core.generation import key_tones
from dawai.core.music import parse_key
from tests.conftest import make_settings, upstream_env

PROVIDERS = ("anthropic", "openai", "google")
TYPES = ("drum_pattern", "bassline", "chord_progression", "melody", "harmony")


@pytest.fixture
def local(client_for):
    return client_for(make_settings())


@pytest.fixture
def client(client_for, upstream, tmp_path):
    config = tmp_path / "dawai.toml"
    config.write_text("[reliability]\nbackoff_base = 0.01\nbackoff_max = 0.05\n")
    upstream.reset()
    return client_for(make_settings(upstream_env(upstream, DAWAI_CONFIG=str(config))))


def generate(client, prefix="/api", **body):
    return client.post(f"{prefix}/generate", json={"prompt": "", "model": "local", **body})


@pytest.mark.parametrize("prefix", API_PREFIXES)
@pytest.mark.parametrize("part", TYPES)
def test_local_generation_needs_no_key_and_repeats_for_a_seed(local, prefix, part):
    first = generate(local, prefix, type=part, key="F#m", tempo=96, bars=8, seed=42)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["type"], body["key"], body["tempo"], body["bars"], body["seed"]) == (
        part,
        "F# minor",
        96,
        8,
        42,
    )
    assert (body["model"], body["provider"]) == ("local", "local")
    assert body["notes"] and body["description"] and body["suggestions"]
    end = 8 * 4 * 60 / 96
    assert all(n["start"] >= 0 and n["start"] + n["duration"] <= end + 1e-6 for n in body["notes"])
    again = generate(local, prefix, type=part, key="F# minor", tempo=96, bars=8, seed=42)
    assert again.json()["notes"] == body["notes"]


def test_the_prompt_fills_what_the_body_leaves_out(local):
    body = generate(local, prompt="funky bassline in Eb at 100 bpm, 2 bars").json()
    assert (body["type"], body["key"], body["tempo"], body["bars"]) == ("bassline", "Eb major", 100, 2)
    assert "funk" in body["description"]
    assert isinstance(body["seed"], int)
    japanese = generate(local, prompt="ボサノヴァのコードを8小節、イ短調で").json()
    assert (japanese["type"], japanese["key"], japanese["bars"]) == ("chord_progression", "A minor", 8)
    assert "bossa nova" in japanese["description"]


def test_a_drawn_seed_is_given_back_and_gives_the_same_take(local):
    first = generate(local, prompt="jazz melody in D minor").json()
    again = generate(local, prompt="jazz melody in D minor", seed=first["seed"]).json()
    assert again["notes"] == first["notes"]
    assert 0 <= first["seed"] <= 2**53 - 1


def test_defaults_are_a_four_bar_melody_in_c_major_at_120(local):
    body = generate(local).json()
    assert (body["type"], body["key"], body["tempo"], body["bars"]) == ("melody", "C major", 120, 4)
    assert all(n["pitch"] % 12 in key_tones(parse_key("C")) for n in body["notes"])


@pytest.mark.parametrize("prefix", API_PREFIXES)
@pytest.mark.parametrize("part", TYPES)
def test_midi_is_the_same_part_as_the_json(local, prefix, part):
    request = {"type": part, "key": "Bb", "tempo": 137.5, "bars": 4, "seed": 9}
    notes = generate(local, prefix, **request).json()["notes"]
    response = local.post(
        f"{prefix}/generate",
        json={"prompt": "", "model": "local", **request},
        headers={"Accept": "audio/midi"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/midi"
    assert response.headers["content-disposition"] == f'attachment; filename="dawai-{part}.mid"'
    midi = mido.MidiFile(file=io.BytesIO(response.content))
    assert midi.type == 1 and len(midi.tracks) == 2
    meta = {m.type: m for m in midi.tracks[0]}
    assert mido.tempo2bpm(meta["set_tempo"].tempo) == pytest.approx(137.5, abs=1e-3)
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (4, 4)
    assert midi.tracks[1][0].type == "track_name" and "Bb major" in midi.tracks[1][0].name
    tick = 60 / 137.5 / midi.ticks_per_beat
    now, open_notes, read = 0, {}, []
    channels = set()
    for message in midi.tracks[1]:
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            open_notes.setdefault(message.note, []).append((now, message.velocity))
            channels.add(message.channel)
        elif message.type in ("note_off", "note_on"):
            start, velocity = open_notes[message.note].pop(0)
            read.append((message.note, start * tick, (now - start) * tick, velocity))
    assert channels == ({9} if part == "drum_pattern" else {0})
    read.sort(key=lambda n: (n[1], n[0]))
    assert len(read) == len(notes)
    for (pitch, start, duration, velocity), sent in zip(read, notes, strict=True):
        assert (pitch, velocity) == (sent["pitch"], sent["velocity"])
        assert start == pytest.approx(sent["start"], abs=tick)
        assert duration == pytest.approx(sent["duration"], abs=2 * tick)


def test_json_is_the_default_whatever_else_is_accepted(local):
    for accept in ("*/*", "application/json", "text/html", "application/json, audio/midi;q=0.5"):
        response = local.post(
            "/api/generate", json={"prompt": "", "model": "local"}, headers={"Accept": accept}
        )
        assert response.headers["content-type"] == "application/json", accept
    assert (
        local.post(
            "/api/generate", json={"prompt": "", "model": "local"}, headers={"Accept": "audio/*"}
        ).headers["content-type"]
        == "audio/midi"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bars": 0}, "bars"),
        ({"bars": 65}, "bars"),
        ({"tempo": 19.9}, "tempo"),
        ({"tempo": 301}, "tempo"),
        ({"prompt": "x" * 4001}, "prompt"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**53}, "seed"),
        ({"type": "solo"}, "type"),
        ({"key": "H major"}, "key"),
        ({"key": ""}, "key"),
        ({"timeSignature": "5/3"}, "timeSignature"),
        ({"timeSignature": "12/16x"}, "timeSignature"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_limits_are_field_errors(local, body, field):
    response = generate(local, **body)
    assert response.status_code == 400
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["request_id"] and any(e["field"] == field for e in problem["errors"]), problem


def test_the_limits_themselves_are_accepted(local):
    for body in (
        {"bars": 1},
        {"bars": 64},
        {"tempo": 20},
        {"tempo": 300},
        {"prompt": "x" * 4000},
        {"seed": 2**53 - 1},
    ):
        assert generate(local, **body).status_code == 200, body


# -- provider models ----------------------------------------------------------------------

GOOD = {
    "notes": [
        {"pitch": 57, "startBeat": 0, "durationBeats": 1, "velocity": 90},
        {"pitch": 60, "startBeat": 1, "durationBeats": 1, "velocity": 90},
        {"pitch": 64, "startBeat": 2, "durationBeats": 2, "velocity": 100},
    ],
    "description": "切ないメロディ",
    "suggestions": "Double it an octave up.",
}
BROKEN = {
    "notes": [
        {"pitch": 150, "startBeat": 0, "durationBeats": 1, "velocity": 300},
        {"pitch": 60, "startBeat": 1.02, "durationBeats": 0, "velocity": 90},
        {"pitch": 62, "startBeat": 30, "durationBeats": 1, "velocity": 90},
        {"pitch": 64, "startBeat": 3.01, "durationBeats": 9, "velocity": 90},
    ],
    "description": "A melody.",
    "suggestions": "",
}


@pytest.mark.parametrize("prefix", API_PREFIXES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_model_writes_the_part_with_structured_output(client, upstream, provider, prefix):
    upstream.replies["gen-good"] = json.dumps(GOOD)
    response = client.post(
        f"{prefix}/generate",
        json={
            "prompt": "切ないメロディ",
            "model": f"{provider}/gen-good",
            "key": "Am",
            "tempo": 120,
            "bars": 1,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(n["pitch"], n["start"], n["duration"]) for n in body["notes"]] == [
        (57, 0.0, 0.5),
        (60, 0.5, 0.5),
        (64, 1.0, 1.0),
    ]
    assert (body["description"], body["suggestions"]) == ("切ないメロディ", "Double it an octave up.")
    assert (body["provider"], body["model"], body["key"], body["seed"]) == (
        provider,
        "gen-good",
        "A minor",
        None,
    )
    seen = upstream.requests[-1]
    sent = json.dumps(seen.body)
    assert "A minor" in sent and "4 beats" in sent and "startBeat" in sent
    if provider == "anthropic":
        assert seen.body["tool_choice"]["type"] == "tool"
    elif provider == "openai":
        assert seen.body["response_format"]["json_schema"]["strict"] is True
    else:
        assert seen.body["generationConfig"]["responseMimeType"] == "application/json"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_out_of_range_notes_from_a_model_are_repaired_and_listed(client, upstream, provider):
    upstream.replies["gen-broken"] = json.dumps(BROKEN)
    response = client.post(
        "/api/generate", json={"prompt": "melody", "model": f"{provider}/gen-broken", "key": "C", "bars": 1}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(n["pitch"], n["start"], n["duration"], n["velocity"]) for n in body["notes"]] == [
        (126, 0.0, 0.5, 127),
        (64, 1.5, 0.5, 90),
    ]
    said = body["suggestions"]
    assert said.startswith("Repaired: ")
    for reason in (
        "1 pitch moved by octaves",
        "1 velocity clamped",
        "no length",
        "starting after bar 1",
        "cut",
    ):
        assert reason in said, said


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_prose_only_reply_is_a_clear_502(client, upstream, provider):
    upstream.replies["gen-prose"] = "Here is a lovely melody: C D E F G, then back down."
    response = client.post("/api/generate", json={"prompt": "melody", "model": f"{provider}/gen-prose"})
    assert response.status_code == 502
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "not valid JSON" in problem["detail"] and problem["request_id"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_json_without_notes_is_a_502(client, upstream, provider):
    upstream.replies["gen-nonotes"] = json.dumps({"tempo": 120})
    response = client.post("/api/generate", json={"prompt": "melody", "model": f"{provider}/gen-nonotes"})
    assert response.status_code == 502
    assert "no list of notes" in response.json()["detail"]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("status", "expected"), [(429, 429), (500, 502), (401, 502)])
def test_provider_errors_map_as_chat_does(client, provider, status, expected):
    model = f"{provider}/gen+status={status}+retry_after=0"
    response = client.post("/api/generate", json={"prompt": "melody", "model": model})
    assert response.status_code == expected, response.text
    if expected == 429:
        assert "retry-after" in response.headers


def test_no_key_is_a_401_naming_the_setting(client_for):
    response = client_for(make_settings()).post("/api/generate", json={"prompt": "melody"})
    assert response.status_code == 401
    assert "GEMINI_API_KEY" in response.json()["detail"]


def test_a_slow_provider_is_a_504(client_for, upstream, tmp_path):
    config = tmp_path / "dawai.toml"
    config.write_text("[reliability]\ntotal_timeout = 0.3\nmax_retries = 0\n")
    client = client_for(make_settings(upstream_env(upstream, DAWAI_CONFIG=str(config))))
    response = client.post("/api/generate", json={"prompt": "melody", "model": "openai/gen+first_delay=2"})
    assert response.status_code == 504


@pytest.mark.parametrize("prefix", API_PREFIXES)
@pytest.mark.parametrize(("signature", "quarters"), [("6/8", 3.0), ("3/4", 3.0), ("7/8", 3.5), ("5/4", 5.0)])
def test_the_time_signature_sets_the_bars_and_the_midi_meta(local, prefix, signature, quarters):
    body = {"type": "bassline", "key": "G", "tempo": 120, "bars": 4, "seed": 2, "timeSignature": signature}
    reply = generate(local, prefix, **body).json()
    assert reply["timeSignature"] == signature and signature in reply["description"]
    bar = quarters * 0.5
    assert all(n["start"] + n["duration"] <= 4 * bar + 1e-6 for n in reply["notes"])
    assert {round(n["start"] / bar, 6) for n in reply["notes"]} >= {0.0, 1.0, 2.0, 3.0}  # every downbeat
    response = local.post(
        f"{prefix}/generate", json={"prompt": "", "model": "local", **body}, headers={"Accept": "audio/midi"}
    )
    meta = {m.type: m for m in mido.MidiFile(file=io.BytesIO(response.content)).tracks[0]}
    numerator, denominator = (int(x) for x in signature.split("/"))
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (numerator, denominator)
