"""The embedded ghost-text engine: n-grams, the chord table, rhymes and terms; no model.

``EmbeddedCompleter.suggest`` looks at the line the cursor is on:

- a **chord chart** (every token so far a chord symbol or a Roman numeral): the next chords
  in the song's key, or the rest of the chord being typed (``chart``);
- **Japanese** (``detect_language``): the likeliest next characters from the character
  n-grams, each run on while the model is sure of it;
- **English**: the rest of the word being typed, or the next word, from the word n-grams,
  with the likeliest phrase after it.

Where the line is long enough to end, candidates that rhyme with the line the stanza's
scheme pairs it with (``rhyme.pending_target``) rise and rhyming words are offered; music
terms finish a word that starts like one; an empty line gets opening words and a template.
Scores are 0..1, comparable across kinds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Final

from dawai.core.ghost.chart import ChartToken, chart_key, next_numerals, read_token
from dawai.core.ghost.english import PERFECT, phone_rhyme_key, rhyme_strength, spelling_rhyme_key
from dawai.core.ghost.kana import mora_vowels, to_hiragana
from dawai.core.ghost.knowledge import Knowledge, load_knowledge
from dawai.core.ghost.ngrams import END, CharNGrams, WordNGrams
from dawai.core.ghost.rhyme import LineSound, kana_rhyme_strength, line_sound, pending_target, scheme_letters
from dawai.core.ghost.text import Language, clean_line, detect_language, words
from dawai.core.models import CompletionCandidate, CompletionQuery, LineAnalysis, TextAnalysis
from dawai.core.music import Chord, Key, RomanNumeral
from dawai.ports.completion import Pronouncer

__all__ = ["EmbeddedCompleter"]

_SEPARATORS: Final = re.compile(r"[\s|]+")
_CHORDISH: Final = re.compile(r"^(?:[A-G][#b♭♯]?\S*|[b#]?(?:VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)\S*)$")
_AMBIGUOUS: Final = frozenset({"I", "A", "a", "i"})
_I_WORDS: Final = {"i": "I", "i'm": "I'm", "i'll": "I'll", "i've": "I've", "i'd": "I'd"}
_EXTEND_FLOOR: Final = 0.45
_MAX_LINES: Final = 64  # stanza lines looked at for the rhyme scheme


class EmbeddedCompleter:
    """``TextCompleter`` over the shipped corpus; ``pronouncer`` gives phones and readings
    (None: spelling and kana only)."""

    name = "embedded"

    def __init__(self, pronouncer: Pronouncer | None = None, knowledge: Knowledge | None = None) -> None:
        self._pronouncer = pronouncer
        self._knowledge = knowledge or load_knowledge()
        lyrics = self._knowledge.lyrics
        self._words = WordNGrams(lyrics["en"])
        self._chars = CharNGrams(lyrics["ja"])
        self._rhymes_by_key: dict[str, list[str]] = {}
        for word, _ in self._words.vocabulary.most_common():
            self._rhymes_by_key.setdefault(self._word_key(word), []).append(word)
        self._ja_tails: list[tuple[str, str]] = []  # (line ending, its reading in hiragana)
        for line in lyrics["ja"]:
            tail = line.strip()[-4:]
            if tail and all(not char.isascii() for char in tail):
                self._ja_tails.append((tail, self._reading(tail)))
        self._sound = functools.lru_cache(maxsize=4096)(self._sound_uncached)

    # --- sounds ---------------------------------------------------------------------------

    def _phones(self, word: str) -> tuple[str, ...] | None:
        return self._pronouncer.english(word) if self._pronouncer is not None else None

    def _reading(self, text: str) -> str:
        return to_hiragana(self._pronouncer.reading(text) if self._pronouncer is not None else text)

    def _word_key(self, word: str) -> str:
        phones = self._phones(word)
        return "-".join(phone_rhyme_key(phones)) if phones else "~" + spelling_rhyme_key(word)

    def _sound_uncached(self, line: str, language: Language) -> LineSound:
        return line_sound(line, language, self._pronouncer)

    def _stanza(self, lines: Sequence[str], language: Language) -> list[LineSound]:
        stanza: list[LineSound] = []
        for line in reversed(lines[-_MAX_LINES:]):
            cleaned = clean_line(line).strip()
            if not cleaned:
                break
            if self._chart_tokens(cleaned) is None:
                stanza.append(self._sound(cleaned, language))
        stanza.reverse()
        return stanza

    # --- the port -------------------------------------------------------------------------

    async def complete(self, query: CompletionQuery) -> list[CompletionCandidate]:
        return self.suggest(query)

    async def analyze(self, text: str) -> TextAnalysis:
        return self.analysis(text)

    def analysis(self, text: str) -> TextAnalysis:
        """Language, each non-empty line's syllables (morae) and rhyme key, the scheme's
        letters (stanzas apart by a space; ``-`` for a line without a rhyme, a chord line),
        and the chords found, in order."""
        language = detect_language(text)
        lines: list[LineAnalysis] = []
        scheme: list[str] = []
        chords: list[str] = []
        stanza: list[LineSound | None] = []

        def close() -> None:
            sounds = [sound for sound in stanza if sound is not None]
            letters = iter(scheme_letters(sounds))
            if stanza:
                scheme.append("".join(next(letters) if sound is not None else "-" for sound in stanza))
            stanza.clear()

        for raw in text.split("\n"):
            cleaned = clean_line(raw).strip()
            if not cleaned:
                close()
                continue
            tokens = self._chart_tokens(cleaned, loose=True)
            if tokens is not None:
                chords.extend(token.text if token.chord is None else str(token.chord) for token in tokens)
                lines.append(LineAnalysis(raw, 0, ""))
                stanza.append(None)
                continue
            sound = self._sound(cleaned, detect_language(cleaned))
            lines.append(LineAnalysis(raw, sound.syllables, sound.key))
            stanza.append(sound)
        close()
        return TextAnalysis(language, tuple(lines), " ".join(scheme), tuple(chords[:512]))

    def suggest(self, query: CompletionQuery) -> list[CompletionCandidate]:
        """Candidates for the text at ``query.cursor`` (a code-point index), best first."""
        before = query.text[: query.cursor]
        after = query.text[query.cursor :].split("\n", 1)[0]
        head, _, line = before.rpartition("\n")
        cleaned = clean_line(line)
        earlier = head.split("\n") if head else []
        limit = max(query.max_candidates, 1) + 2
        chart = self._chart_state(cleaned, earlier)
        if chart is not None:
            found = self._chords(cleaned, chart, query.context.get("key"), earlier, limit)
        elif detect_language(before, query.language) == "ja":
            found = self._japanese(cleaned, earlier, limit)
        else:
            found = self._english(cleaned, line, earlier, limit)
        if after.strip():  # text follows on the line: keep to one word or chord
            found = [c for c in found if " " not in c.text.strip()]
        return found

    # --- chords ---------------------------------------------------------------------------

    def _chart_tokens(self, cleaned: str, *, loose: bool = False) -> list[ChartToken] | None:
        parts = [part for part in _SEPARATORS.split(cleaned) if part]
        if not parts:
            return None
        tokens = [read_token(part) for part in parts]
        if any(token is None for token in tokens):
            return None
        if len(parts) == 1 and parts[0] in _AMBIGUOUS and not loose:
            return None
        return [token for token in tokens if token is not None]

    def _chart_state(self, cleaned: str, earlier: list[str]) -> tuple[list[ChartToken], str] | None:
        """The typed chords of a chord line and the chord being typed, or None for lyrics."""
        parts = [part for part in _SEPARATORS.split(cleaned) if part]
        ends_open = not cleaned or cleaned[-1] in " \t|"
        complete, partial = (parts, "") if ends_open else (parts[:-1], parts[-1])
        previous_chart = bool(earlier) and self._chart_tokens(clean_line(earlier[-1]).strip()) is not None
        if partial and not _CHORDISH.match(partial):
            return None
        tokens = [read_token(part) for part in complete]
        if any(token is None for token in tokens):
            return None
        chart = [token for token in tokens if token is not None]
        if not chart and not previous_chart:
            return None
        if len(chart) == 1 and complete[0] in _AMBIGUOUS and not previous_chart:
            return None
        return chart, partial

    def _chords(
        self,
        cleaned: str,
        state: tuple[list[ChartToken], str],
        key_hint: str | None,
        earlier: list[str],
        limit: int,
    ) -> list[CompletionCandidate]:
        tokens, partial = state
        history = list(tokens)
        if len(history) < 2:  # the line above, when it is a chart, says more about the key
            for line in reversed(earlier[-4:]):
                above = self._chart_tokens(clean_line(line).strip())
                if above is None:
                    break
                history = above + history
        key = chart_key(history, key_hint)
        roman = bool(history) and all(token.numeral is not None for token in history)
        sevenths = any(_has_seventh(token) for token in history)
        bars = "|" in cleaned
        found: list[CompletionCandidate] = []
        nexts = next_numerals(history, key, limit=8)
        for numeral, score in nexts:
            text = self._spell(numeral, key, roman, sevenths)
            if partial:
                if text.startswith(partial) and text != partial:
                    found.append(
                        CompletionCandidate(text[len(partial) :] + (" |" if bars else ""), score, "chord")
                    )
                continue
            found.append(CompletionCandidate(_lead(cleaned) + text + (" |" if bars else ""), score, "chord"))
        if partial:
            for chord in _diatonic(key):
                text = str(chord)
                if (
                    text.startswith(partial)
                    and text != partial
                    and all(not c.text.startswith(text[len(partial) :]) for c in found)
                ):
                    found.append(CompletionCandidate(text[len(partial) :], 0.1, "chord"))
        elif nexts:  # the progression run on: the next three chords at once
            chain: list[ChartToken] = list(history)
            texts: list[str] = []
            for _ in range(3):
                numeral = next_numerals(chain, key, limit=1)[0][0]
                texts.append(self._spell(numeral, key, roman, sevenths))
                chain.append(ChartToken(texts[-1], None, numeral))
            joiner = " | " if bars else " "
            found.append(
                CompletionCandidate(
                    _lead(cleaned) + joiner.join(texts) + (" |" if bars else ""), nexts[0][1] * 0.6, "chord"
                )
            )
        return found[:limit]

    @staticmethod
    def _spell(numeral: RomanNumeral, key: Key, roman: bool, sevenths: bool) -> str:
        if not sevenths:
            numeral = RomanNumeral(
                numeral.degree, numeral.accidental, _triad_kind(numeral.kind), of=numeral.of
            )
        return str(numeral) if roman else str(numeral.chord(key))

    # --- Japanese -------------------------------------------------------------------------

    def _japanese(self, cleaned: str, earlier: list[str], limit: int) -> list[CompletionCandidate]:
        line = cleaned.strip()
        found: list[CompletionCandidate] = []
        for char, score in self._chars.next_chars(line, limit=limit):
            if char == END or not char.strip():
                continue
            found.append(CompletionCandidate(self._chars.continuation(line, char), score, "lyric"))
        target = pending_target(self._stanza(earlier, "ja")) if line else None
        if target is not None and target.key:
            sung = len(mora_vowels(self._reading(line)))
            if sung >= target.syllables - 5:
                found = [self._rhymed_ja(candidate, target) for candidate in found]
                for tail, reading in self._ja_tails:
                    strength = kana_rhyme_strength(reading, target.last_word)
                    if strength >= 0.9 and not line.endswith(tail):
                        found.append(CompletionCandidate(tail, 0.3 * strength, "lyric"))
        found.extend(self._terms(line, "ja"))
        return found

    def _rhymed_ja(self, candidate: CompletionCandidate, target: LineSound) -> CompletionCandidate:
        strength = kana_rhyme_strength(self._reading(candidate.text), target.last_word)
        return CompletionCandidate(candidate.text, min(candidate.score * (1 + strength), 1.0), candidate.kind)

    # --- English --------------------------------------------------------------------------

    def _english(self, cleaned: str, raw: str, earlier: list[str], limit: int) -> list[CompletionCandidate]:
        line_words = words(cleaned)
        typing = bool(cleaned) and ((cleaned[-1].isascii() and cleaned[-1].isalpha()) or cleaned[-1] == "'")
        partial = line_words[-1] if typing and line_words else ""
        previous = line_words[:-1] if partial else line_words
        lead = "" if partial or not cleaned.strip() else _lead(cleaned)
        target = pending_target(self._stanza(earlier, "en")) if previous else None
        sung = self._sound(cleaned, "en").syllables if target is not None else 0
        found: list[CompletionCandidate] = []
        for word, score in self._words.next_words(previous, partial, limit=limit + 2):
            if word == END:
                continue
            adjusted = score
            if target is not None and sung >= target.syllables - 3:
                ending = self._words.next_words([*previous, word], limit=4)
                ends = dict(ending).get(END, 0.0)
                strength = rhyme_strength(word, self._phones(word), target.last_word, target.phones)
                adjusted = score * (1 + 2 * strength) if strength else score * (1 - 0.5 * ends)
            text = lead + _cased(word)[len(partial) :]
            found.append(CompletionCandidate(text, min(adjusted, 1.0), "lyric"))
            extension = self._extend([*previous, word])
            if extension and len(found) <= 2:
                found.append(
                    CompletionCandidate(
                        text + " " + extension[0], min(adjusted * extension[1], 1.0), "phrase"
                    )
                )
        if target is not None and previous and sung >= target.syllables - 3:
            found.extend(self._rhyming_words(target, partial, lead))
        if not cleaned.strip():
            found.extend(self._template("en", len(earlier)))
        found.extend(self._terms(partial, "en"))
        return found

    def _extend(self, previous: list[str]) -> tuple[str, float] | None:
        """The words the model is sure of after ``previous`` (up to three), and how sure."""
        added: list[str] = []
        confidence = 1.0
        while len(added) < 3:
            best = self._words.best_next([*previous, *added])
            if best is None or best[0] == END or best[1] < _EXTEND_FLOOR:
                break
            added.append(_cased(best[0]))
            confidence *= best[1]
        return (" ".join(added), confidence) if added else None

    def _rhyming_words(self, target: LineSound, partial: str, lead: str) -> list[CompletionCandidate]:
        key = self._word_key(target.last_word)
        found = []
        for word in self._rhymes_by_key.get(key, [])[:12]:
            if word == target.last_word or not word.startswith(partial) or word == partial:
                continue
            strength = rhyme_strength(word, self._phones(word), target.last_word, target.phones)
            if strength >= PERFECT or key.startswith("~"):
                found.append(
                    CompletionCandidate(lead + _cased(word)[len(partial) :], 0.35 * strength, "lyric")
                )
            if len(found) >= 2:
                break
        return found

    # --- terms and templates --------------------------------------------------------------

    def _terms(self, partial: str, language: Language) -> list[CompletionCandidate]:
        found: list[CompletionCandidate] = []
        if language == "en":
            if len(partial) < 2:
                return found
            for term in self._knowledge.terms["en"]:
                if term.lower().startswith(partial) and len(term) > len(partial):
                    found.append(CompletionCandidate(term[len(partial) :], 0.2, "term"))
                    if len(found) >= 2:
                        break
            return found
        for size in (3, 2, 1):
            tail = partial[-size:]
            if len(tail) < size:
                continue
            for term in self._knowledge.terms["ja"]:
                if term.startswith(tail) and len(term) > size:
                    found.append(CompletionCandidate(term[size:], 0.15, "term"))
            if found:
                break
        return found[:2]

    def _template(self, language: Language, choice: int) -> list[CompletionCandidate]:
        templates = [t for t in self._knowledge.templates if t.language == language]
        if not templates:
            return []
        template = templates[choice % len(templates)]
        phrase = template.phrase(choice)
        return [
            CompletionCandidate(
                phrase[:1].upper() + phrase[1:] if language == "en" else phrase, 0.15, "phrase"
            )
        ]


def _lead(cleaned: str) -> str:
    """A space before an inserted word, unless the line is empty or already ends with one."""
    return "" if not cleaned or cleaned[-1].isspace() else " "


def _cased(word: str) -> str:
    return _I_WORDS.get(word, word)


def _has_seventh(token: ChartToken) -> bool:
    kind = (
        token.chord.kind
        if token.chord is not None
        else token.numeral.kind
        if token.numeral is not None
        else ""
    )
    return any(mark in kind for mark in ("7", "9", "11", "13"))


def _triad_kind(kind: str) -> str:
    if kind in ("dim", "dim7", "m7b5"):
        return "dim"
    if kind.startswith("m") and not kind.startswith("maj"):
        return "m"
    if kind in ("aug", "sus2", "sus4", "5"):
        return kind
    if kind.startswith(("7sus", "9sus")):
        return "sus4"
    return ""


@functools.lru_cache(maxsize=64)
def _diatonic(key: Key) -> tuple[Chord, ...]:
    from dawai.core.music import diatonic_chords

    return diatonic_chords(key) + diatonic_chords(key, sevenths=True)
