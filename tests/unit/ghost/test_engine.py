"""The embedded engine end to end, with CMUdict and OpenJTalk (dawai.core.ghost.engine)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.adapters.inference.pronunciation import DictionaryPronouncer
from dawai.core.ghost.engine import EmbeddedCompleter
from dawai.core.ghost.knowledge import knowledge_counts, load_knowledge
from dawai.core.models import CompletionQuery


@pytest.fixture(scope="module")
def pronouncer() -> DictionaryPronouncer:
    pronouncer = DictionaryPronouncer()
    pronouncer.load()
    return pronouncer


@pytest.fixture(scope="module")
def engine(pronouncer) -> EmbeddedCompleter:
    return EmbeddedCompleter(pronouncer)


def suggest(engine, text, cursor=None, **options):
    query = CompletionQuery(text=text, cursor=len(text) if cursor is None else cursor, **options)
    return engine.suggest(query)


def texts(found):
    return [c.text for c in found]


def test_finishes_the_word_and_offers_the_phrase(engine):
    found = suggest(engine, "I walk alone through the ci")
    assert "ty" in texts(found) and "ty lights" in texts(found)
    assert {c.kind for c in found} <= {"lyric", "phrase"}


def test_next_word_after_a_space(engine):
    assert "city" in texts(suggest(engine, "I walk alone through the "))
    assert any(t.startswith(" ") for t in texts(suggest(engine, "hold on to me,")))


def test_rhymes_with_the_pending_line(engine):
    found = suggest(engine, "I can see the stars from here tonight\nI can feel the fire burning ")
    assert found[0].text == "bright"
    text = "we were young and the summer was long\nwe sang along to a borrowed "
    assert suggest(engine, text)[0].text in ("song", "long")


def test_japanese_characters(engine):
    assert "星を見上げて" in texts(suggest(engine, "夜空に光る"))
    assert "そっと呼んだ" in texts(suggest(engine, "夜空に光る星を見上げて\n君の名前を"))


def test_japanese_terms(engine):
    assert any(c.kind == "term" and c.text == "ビ" for c in suggest(engine, "サ"))


@pytest.mark.parametrize(
    ("text", "context", "first"),
    [
        ("C G Am ", {}, "F"),
        ("Dm7 G7 ", {}, "Cmaj7"),
        ("F/G ", {"key": "C major"}, "C"),
        ("I V vi ", {}, "IV"),
        ("C G Am F\n", {}, "C"),
        ("G D Em ", {"key": "G"}, "C"),
    ],
)
def test_next_chord_in_the_key(engine, text, context, first):
    found = suggest(engine, text, context=context)
    assert found[0].text == first and found[0].kind == "chord"


def test_the_chord_being_typed(engine):
    assert texts(suggest(engine, "C G A"))[0] == "m"
    assert all(c.kind == "chord" for c in suggest(engine, "| C | G | "))
    assert texts(suggest(engine, "| C | G | "))[0].endswith(" |")


def test_a_lone_I_is_a_lyric(engine):
    assert all(c.kind != "chord" for c in suggest(engine, "I "))


def test_text_after_the_cursor_keeps_it_to_one_word(engine):
    found = suggest(engine, "I walk alone through the ci and on", cursor=len("I walk alone through the ci"))
    assert found and all(" " not in c.text for c in found)


def test_empty_text_gets_openings(engine):
    found = suggest(engine, "")
    assert found and any(c.kind == "phrase" for c in found)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80), st.data())
def test_any_text_any_cursor_answers(engine, text, data):
    cursor = data.draw(st.integers(0, len(text)))
    found = suggest(
        engine, text, cursor=cursor, language=data.draw(st.sampled_from([None, "en", "ja", "fr"]))
    )
    assert all(0.0 <= c.score <= 1.0 and c.kind in ("lyric", "chord", "term", "phrase") for c in found)


def test_analysis(engine):
    text = (
        "I see the light\nyou hold me tight\nthe river flows\nwhere the wind blows\n\n"
        "C G Am F\n\n夜空に光る星\n君の声が聞こえる"
    )
    analysis = asyncio.run(engine.analyze(text))
    assert analysis.language == "en"
    assert [line.syllables for line in analysis.lines[:4]] == [4, 4, 4, 4]
    assert analysis.lines[2].rhyme == "ow-z"
    assert analysis.lines[0].rhyme == analysis.lines[1].rhyme == "ay-t"
    assert analysis.rhyme_scheme.split() == ["AABB", "-", "AB"]
    assert analysis.chords == ("C", "G", "Am", "F")
    assert analysis.lines[5].syllables == 9  # よ-ぞ-ら-に-ひ-か-る-ほ-し
    assert analysis.lines[6].rhyme == "eu"  # きこえる: ...え-る


def test_japanese_analysis_counts_morae_from_readings(engine):
    analysis = asyncio.run(engine.analyze("がっこうへ行こう\nラーメンを食べた"))
    assert analysis.language == "ja"
    assert [line.syllables for line in analysis.lines] == [
        8,
        8,
    ]  # が-っ-こ-う-へ-い-こ-う, ら-ー-め-ん-を-た-べ-た


def test_without_a_pronouncer_kana_and_spelling_still_work():
    bare = EmbeddedCompleter(None)
    analysis = asyncio.run(bare.analyze("きみのこえ\nzorblight"))
    assert analysis.lines[0].syllables == 5
    assert analysis.lines[1].rhyme == "ight"


def test_knowledge_counts_are_honest():
    counts = knowledge_counts()
    knowledge = load_knowledge()
    assert counts["progression_key_entries"] == counts["progressions"] * 12
    assert counts["templates"] == len({(t.language, t.pattern) for t in knowledge.templates})
    assert counts["terms_en"] == len(set(knowledge.terms["en"]))
    assert counts["rhyme_schemes"] >= 10
    assert all(value > 0 for value in counts.values())
