"""The one error the music package raises for text it cannot read."""

from __future__ import annotations

from dawai.core.errors import InvalidInput

__all__ = ["MusicParseError"]


class MusicParseError(InvalidInput, ValueError):
    """Text that is not a note, key, chord, numeral or drum name we know.

    ``kind`` says what was being read (``"key"``, ``"chord"``, ...) and ``text`` is the text as
    given, so a caller can point at the field; the detail names both and shows a form that works.
    It is an ``InvalidInput``, so the HTTP layer answers it as a 400 problem document.
    """

    def __init__(self, kind: str, text: str, hint: str) -> None:
        super().__init__(f"Cannot read {text!r} as a {kind}: {hint}")
        self.kind = kind
        self.text = text
