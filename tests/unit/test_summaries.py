"""Project summaries: the figures summarise computes, the id a request names, the prompt
text a stored summary renders to, and the service over a store."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from dawai.adapters.stores import MemorySummaryStore
from dawai.core.errors import NotConfigured
from dawai.core.models import PromptInput
from dawai.core.music import Key, all_keys, find_progression, voice_lead
from dawai.core.music.meter import BarGrid, TimeSignature
from dawai.core.prompting import MusicExpertStrategy
from dawai.core.summaries import (
    ProjectNotes,
    SummaryNote,
    SummaryService,
    SummaryTrack,
    project_id_of,
    render_summary,
    summarise,
)


def _progression_track(key: Key, name: str, grid: BarGrid) -> SummaryTrack:
    progression = find_progression(name)
    assert progression is not None
    timed = progression.timed(key)
    chords = [chord for chord, _ in timed]
    notes, start = [], 0.0
    for (chord, bars), voicing in zip(timed, voice_lead(chords), strict=True):
        length = bars * grid.bar_seconds
        notes.append(SummaryNote(36 + chord.bass_note.pc, start, length))
        notes += [SummaryNote(pitch, start, length) for pitch in voicing]
        start += length
    return SummaryTrack("keys", "Keys", "midi", tuple(notes))


def _drums(bars: int, grid: BarGrid) -> SummaryTrack:
    hits = [
        SummaryNote(36 if beat % 2 == 0 else 38, beat * grid.beat_seconds, 0.1) for beat in range(bars * 4)
    ]
    return SummaryTrack("drums", "Drums", "drums", tuple(hits))


def test_summary_of_a_project():
    grid = BarGrid(100.0, TimeSignature(4, 4))
    key = Key.canonical(7)  # G major
    project = ProjectNotes("song-1", (_progression_track(key, "canon", grid), _drums(8, grid)), 100.0)
    summary = summarise(project)
    assert summary["projectId"] == "song-1"
    assert summary["key"] == "G major"
    assert 0 < summary["keyConfidence"] <= 1
    assert (summary["tempo"], summary["timeSignature"], summary["bars"]) == (100.0, "4/4", 8)
    assert summary["length"] == pytest.approx(8 * grid.bar_seconds)
    keys, drums = summary["tracks"]
    assert keys["key"] == "G major"
    assert [c["chord"] for c in keys["chords"]] == ["G", "D", "Em", "Bm", "C", "G", "C", "D"]
    assert [c["bar"] for c in keys["chords"]] == list(range(1, 9))
    assert keys["noteCount"] == 8 * 5  # a bass note and four voices a bar
    assert keys["pitchRange"][0] < keys["pitchRange"][1]
    assert keys["density"] == pytest.approx(40 / summary["length"], abs=1e-3)
    assert (drums["key"], drums["keyConfidence"], drums["chords"], drums["noteCount"]) == (None, 0.0, [], 32)
    assert drums["pitchRange"] == [36, 38]


@pytest.mark.parametrize("key", all_keys(), ids=str)
def test_the_project_key_in_all_24_keys(key: Key):
    grid = BarGrid(120.0)
    name = "authentic_cadence" if key.mode.value == "ionian" else "minor_two_five_one"
    project = ProjectNotes("p", (_progression_track(key, name, grid), _drums(4, grid)))
    assert summarise(project)["key"] == key.name


def test_an_empty_project():
    summary = summarise(ProjectNotes("empty", (SummaryTrack("t1", "Lead", "midi"),)))
    assert (summary["key"], summary["keyConfidence"], summary["length"], summary["bars"]) == (
        None,
        0.0,
        0.0,
        0,
    )
    track = summary["tracks"][0]
    assert (track["noteCount"], track["pitchRange"], track["density"], track["key"], track["chords"]) == (
        0, None, 0.0, None, [],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("context", "explicit", "expected"),
    [
        ({"project": {"id": "p-1"}}, None, "p-1"),
        ({"projectId": "p:2"}, None, "p:2"),
        ({"project": {"id": "p-1"}, "projectId": "p-2"}, None, "p-1"),
        ({"project": {"id": "p-1"}}, "given", "given"),
        ({"project": {"id": "bad id"}, "projectId": "ok"}, None, "ok"),
        ({"project": {"id": 5}}, None, None),
        ({"project": {"id": "x" * 129}}, None, None),
        ("project p-1", None, None),
        (None, None, None),
        ({"project": "p-1"}, None, None),
    ],
)
def test_the_project_a_request_names(context: Any, explicit: str | None, expected: str | None):
    assert project_id_of(context, explicit) == expected


def test_render_summary_is_compact_and_joins_runs_of_a_chord():
    grid = BarGrid(100.0)
    track = _progression_track(Key.canonical(0), "twelve_bar_blues", grid)
    text = render_summary(summarise(ProjectNotes("p", (track,), 100.0)))
    lines = text.splitlines()
    assert re.fullmatch(r"Project: key C major \(0\.\d\d\), 100 BPM, 4/4, 28\.8 s \(12 bars\)", lines[0])
    assert re.match(
        r"- Keys \[id=keys, midi\]: 35 notes; pitches 36-67; 1\.22 notes/s; key C major \(0\.\d\d\); ",
        lines[1],
    )
    assert "chords by bar: 1-4 C7 | 5-6 F7 | 7-8 C7 | 9 G7 | 10 F7 | 11 C7 | 12 G7" in lines[1]


def test_render_summary_bounds_and_tolerates_what_it_cannot_read():
    chords = [{"bar": bar, "chord": "C" if bar % 2 else "G"} for bar in range(1, 101)]
    tracks = [{"id": f"t{i}", "name": "x" * 100, "chords": chords} for i in range(20)]
    text = render_summary({"tracks": tracks}, max_tracks=3, max_chords=4)
    assert text.count("\n- t") == 0 and len(text.splitlines()) == 4
    assert "… 17 more tracks" in text and "(96 more)" in text and "x" * 41 not in text
    assert render_summary({"key": 5, "tempo": "fast", "tracks": "none", "length": True}) == "Project: key 5"
    assert render_summary({}) == ""
    assert "chords" not in render_summary({"tracks": [{"chords": [{"bar": "1", "chord": 3}, 7]}]})


def test_the_prompt_carries_the_rendered_summary():
    summary = summarise(ProjectNotes("p", (_progression_track(Key.canonical(9), "canon", BarGrid()),)))
    prompt = MusicExpertStrategy().render(PromptInput("what next?", summary=summary))
    assert "Project analysis" in prompt.system
    assert render_summary(summary) in prompt.system
    assert "Project analysis" not in MusicExpertStrategy().render(PromptInput("hi", summary={})).system


class BrokenStore:
    async def get(self, project_id: str) -> dict[str, Any] | None:
        raise ConnectionError("redis is down")

    async def put(self, project_id: str, summary: dict[str, Any]) -> None:
        raise ConnectionError("redis is down")


def test_the_service_stores_and_finds_summaries():
    async def scenario() -> None:
        service = SummaryService(MemorySummaryStore())
        track = _progression_track(Key.canonical(2), "canon", BarGrid())
        stored = await service.update(ProjectNotes("song", (track,)))
        assert await service.get("song") == stored
        assert await service.for_context({"project": {"id": "song"}}) == stored
        assert await service.for_context({"project": {"id": "other"}}) is None
        text = await service.prompt_text({"projectId": "song"})
        assert text == render_summary(stored) and "D major" in text
        assert await service.prompt_text({}) == ""
        broken = SummaryService(BrokenStore())
        assert await broken.for_context({"projectId": "song"}) is None
        with pytest.raises(NotConfigured, match="DAWAI_REDIS_URL"):
            await broken.update(ProjectNotes("song"))

    asyncio.run(scenario())
