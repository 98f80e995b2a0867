"""The embedded engine's knowledge: the corpus, music terms, phrase templates, and counts.

Everything here was written for this project (``data/README.md``); it is read from the
package once, when the first engine is built. ``knowledge_counts`` reports what there is,
each kind counted once: distinct named progressions apart from their spellings in every
key, templates apart from the phrases their slots can make.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass
from importlib import resources
from typing import Final

from dawai.core.ghost.rhyme import SCHEMES
from dawai.core.ghost.text import Language
from dawai.core.music import PROGRESSIONS
from dawai.core.music.keys import all_keys

__all__ = ["Knowledge", "Template", "knowledge_counts", "load_knowledge"]

_SLOT_RE: Final = re.compile(r"\{(\w+)\}")
TONICS: Final = 12


@dataclass(frozen=True, slots=True)
class Template:
    language: Language
    pattern: str
    slots: dict[str, tuple[str, ...]]

    def fills(self) -> int:
        """How many distinct phrases the template can make."""
        return math.prod(len(self.slots.get(name, ("",))) for name in _SLOT_RE.findall(self.pattern))

    def phrase(self, choice: int) -> str:
        """The ``choice``-th phrase (wrapping): slots filled in order."""
        names = _SLOT_RE.findall(self.pattern)
        options = [self.slots.get(name, ("",)) for name in names]
        combos = itertools.islice(itertools.product(*options), choice % max(self.fills(), 1), None)
        picked = next(combos, tuple(option[0] for option in options))
        filled = iter(picked)
        return _SLOT_RE.sub(lambda _: next(filled), self.pattern)


@dataclass(frozen=True, slots=True)
class Knowledge:
    lyrics: dict[Language, tuple[str, ...]]  # corpus lines (blank lines kept: stanza breaks)
    terms: dict[Language, tuple[str, ...]]
    templates: tuple[Template, ...]


def _read(name: str) -> list[str]:
    text = resources.files("dawai.core.ghost").joinpath("data", name).read_text(encoding="utf-8")
    return [line.rstrip() for line in text.splitlines() if not line.startswith("#")]


def _sections(lines: list[str]) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for line in lines:
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
        elif line.strip():
            sections.setdefault(current, []).append(line.strip())
    return sections


@functools.cache
def load_knowledge() -> Knowledge:
    """The shipped corpus, terms and templates (read once per process)."""
    terms = _sections(_read("terms.txt"))
    template_sections = _sections(_read("templates.txt"))
    templates: list[Template] = []
    for language in ("en", "ja"):
        slots: dict[str, tuple[str, ...]] = {}
        for line in template_sections.get(f"slots.{language}", []):
            name, _, values = line.partition("=")
            slots[name.strip()] = tuple(dict.fromkeys(v.strip() for v in values.split(",") if v.strip()))
        for pattern in dict.fromkeys(template_sections.get(language, [])):
            templates.append(Template(language, pattern, slots))
    return Knowledge(
        lyrics={"en": tuple(_read("lyrics_en.txt")), "ja": tuple(_read("lyrics_ja.txt"))},
        terms={
            "en": tuple(dict.fromkeys(terms.get("en", []))),
            "ja": tuple(dict.fromkeys(terms.get("ja", []))),
        },
        templates=tuple(templates),
    )


def knowledge_counts() -> dict[str, int]:
    """What the embedded engine knows, each thing counted once.

    ``progressions``: distinct named progressions; ``progressions_named_ja``: those with a
    Japanese name; ``progression_key_entries``: each progression spelled on each of the 12
    tonics in its own mode (the spellings ghost text can suggest; a progression in another
    mode would be another progression, so modes are not multiplied in); ``chord_transitions``:
    distinct numeral-to-numeral steps in the chord table, ``chord_contexts_two``: distinct
    two-chord contexts; ``templates`` and ``template_phrases`` (what their slots can make);
    ``rhyme_schemes``: distinct named schemes; ``terms_en``/``terms_ja``: music vocabulary;
    ``corpus_lines_*``, ``corpus_words_en`` (tokens), ``corpus_vocabulary_en`` (distinct
    words), ``corpus_chars_ja``.
    """
    from dawai.core.ghost.chart import transition_counts
    from dawai.core.ghost.text import words

    knowledge = load_knowledge()
    transitions, contexts = transition_counts()
    en_lines = [line for line in knowledge.lyrics["en"] if line.strip()]
    ja_lines = [line for line in knowledge.lyrics["ja"] if line.strip()]
    en_words = [word for line in en_lines for word in words(line)]
    return {
        "progressions": len(PROGRESSIONS),
        "progressions_named_ja": sum(1 for p in PROGRESSIONS if p.name_ja),
        "progression_key_entries": len(PROGRESSIONS) * TONICS,
        "keys": len(all_keys()),
        "chord_transitions": transitions,
        "chord_contexts_two": contexts,
        "templates": len(knowledge.templates),
        "template_phrases": sum(template.fills() for template in knowledge.templates),
        "rhyme_schemes": len(set(SCHEMES.values())),
        "terms_en": len(knowledge.terms["en"]),
        "terms_ja": len(knowledge.terms["ja"]),
        "corpus_lines_en": len(en_lines),
        "corpus_lines_ja": len(ja_lines),
        "corpus_words_en": len(en_words),
        "corpus_vocabulary_en": len(set(en_words)),
        "corpus_chars_ja": sum(len(line) for line in ja_lines),
    }
