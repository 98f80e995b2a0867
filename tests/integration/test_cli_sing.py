"""``dawai sing score.json -o out.wav``: the same request body as the endpoint, rendered
in process with a progress bar, refusals as one line and a non-zero status."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import soundfile


def dawai(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a process (``main`` configures logging for the whole process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAWAI_")}
    command = [sys.executable, "-m", "dawai.bootstrap.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_sing_writes_the_wav_with_a_progress_bar(tmp_path):
    score = tmp_path / "score.json"
    score.write_text(json.dumps({"notes": [{"pitch": 69, "start": 0, "duration": 0.5, "lyric": "ら"}]}))
    out = tmp_path / "out.wav"
    result = dawai("sing", str(score), "-o", str(out))
    assert result.returncode == 0, result.stderr
    info = soundfile.info(str(out))
    assert (info.samplerate, info.channels, info.subtype) == (44100, 1, "PCM_16")
    assert abs(info.frames - 0.5 * 44100) <= 512
    assert "100%" in result.stderr


def test_sing_refuses_a_bad_score_in_one_line(tmp_path):
    score = tmp_path / "score.json"
    score.write_text(json.dumps({"notes": [{"pitch": 200, "start": 0, "duration": 0.5, "lyric": "ら"}]}))
    result = dawai("sing", str(score), "-o", str(tmp_path / "x.wav"), "-q")
    assert result.returncode == 2 and "pitch" in result.stderr
    score.write_text(
        json.dumps({"voice": "nobody", "notes": [{"pitch": 60, "start": 0, "duration": 0.5, "lyric": "ら"}]})
    )
    result = dawai("sing", str(score), "-o", str(tmp_path / "x.wav"), "-q")
    assert result.returncode == 1 and "No voice 'nobody'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.wav").exists()


def test_sing_reads_a_midi_file_with_lyric_events(tmp_path):
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=600_000, time=0)])  # 100 BPM
    melody = mido.MidiTrack()
    for lyric, pitch in (("さ", 69), ("く", 71), ("ら", 72)):
        melody.append(mido.MetaMessage("lyrics", text=lyric.encode("cp932").decode("latin-1"), time=0))
        melody.append(mido.Message("note_on", note=pitch, velocity=90, time=0))
        melody.append(mido.Message("note_off", note=pitch, time=480))
    midi.tracks += [conductor, melody]
    score = tmp_path / "song.mid"
    midi.save(str(score))
    out = tmp_path / "out.wav"
    result = dawai("sing", str(score), "-o", str(out), "--language", "ja")
    assert result.returncode == 0, result.stderr
    info = soundfile.info(str(out))
    assert abs(info.frames - 3 * 0.6 * 44100) <= 512  # three beats at 100 BPM
    assert "100%" in result.stderr
    score.write_bytes(b"MThd" + b"\0" * 10)
    broken = dawai("sing", str(score), "-o", str(tmp_path / "x.wav"), "-q")
    assert broken.returncode == 2 and "MIDI" in broken.stderr and "Traceback" not in broken.stderr
