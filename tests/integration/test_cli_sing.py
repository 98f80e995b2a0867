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
