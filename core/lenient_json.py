"""A tolerant JSON reader for the JSON models really write.

For OpenAI-compatible servers and plugins without native structured output, the reply
is text that holds the JSON somewhere: in a code fence, after a sentence, with trailing
commas, single quotes, Python's ``True``/``None``, comments, or cut off at the end.
``loads_lenient`` finds the first object or array in it and reads it:

- a strict ``msgspec`` decode first (the usual case costs nothing more);
- else a forgiving recursive-descent reader: single-quoted strings, unquoted keys,
  trailing commas, ``//`` and ``/* */`` comments, ``True``/``False``/``None``, raw
  newlines in strings; prose after the value is ignored;
- a truncated tail keeps only what was complete: the root and its direct children keep
  their complete members, and a member still open below them is dropped whole, so a cut
  reply never yields half an action (or an action with half its notes) as if it were
  whole.

``NoJson`` is raised when the text holds no JSON value at all (prose only); ``nested``
bounds the depth (64, as request bodies).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

__all__ = ["NoJson", "loads_lenient"]

MAX_DEPTH = 64
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)(?:```|\Z)", re.S)
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EXPONENT_CUT = re.compile(r"[eE][+-]?")
# Python refuses int() of a longer digit string (sys.int_info.default_max_str_digits).
_MAX_INT_DIGITS = 4_000
_BARE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")
_WORDS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_decode = msgspec.json.Decoder().decode


class NoJson(ValueError):
    """The text holds no JSON object or array."""


class _Cut(Exception):
    """The text ended inside a value."""


def loads_lenient(text: str) -> Any:
    """The first JSON object or array in ``text``, read as forgivingly as above."""
    for candidate in _candidates(text):
        try:
            return _decode(candidate)
        except (msgspec.DecodeError, UnicodeEncodeError):  # a lone surrogate cannot be UTF-8
            pass
        start = _first_bracket(candidate)
        if start < 0:
            continue
        reader = _Reader(candidate, start)
        value, _complete = reader.value(0)
        return value
    raise NoJson("The text holds no JSON object or array.")


def _candidates(text: str) -> list[str]:
    """A fenced block's inside first (when it has a bracket), then the whole text."""
    found = [m.group(1) for m in _FENCE.finditer(text) if _first_bracket(m.group(1)) >= 0]
    stripped = text.strip()
    return [*found[:1], stripped] if _first_bracket(stripped) >= 0 else found[:1]


def _first_bracket(text: str) -> int:
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    return min(starts) if starts else -1


class _Reader:
    def __init__(self, text: str, start: int) -> None:
        self.text, self.pos, self.end = text, start, len(text)

    def _space(self) -> None:
        text, end = self.text, self.end
        while self.pos < end:
            ch = text[self.pos]
            if ch in " \t\r\n\ufeff":
                self.pos += 1
            elif text.startswith("//", self.pos) or ch == "#":
                newline = text.find("\n", self.pos)
                self.pos = end if newline < 0 else newline + 1
            elif text.startswith("/*", self.pos):
                close = text.find("*/", self.pos + 2)
                self.pos = end if close < 0 else close + 2
            else:
                return

    def value(self, depth: int) -> tuple[Any, bool]:
        """A value and whether it was complete; ``_Cut`` when it ended before anything
        usable (a string, number or word cut short)."""
        if depth > MAX_DEPTH:
            raise NoJson(f"The JSON is nested more than {MAX_DEPTH} deep.")
        self._space()
        if self.pos >= self.end:
            raise _Cut
        ch = self.text[self.pos]
        if ch == "{":
            return self._object(depth)
        if ch == "[":
            return self._array(depth)
        if ch in "\"'":
            return self._string(), True
        number = _NUMBER.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            if self.pos >= self.end or _EXPONENT_CUT.fullmatch(self.text, self.pos):
                raise _Cut  # 6 of 64, or 1e of 1e5: a number at the very end may be cut
            raw = number.group()
            if any(c in raw for c in ".eE") or len(raw) > _MAX_INT_DIGITS:
                return float(raw), True  # an integer too long for int() is read as a float (inf)
            return int(raw), True
        word = _BARE.match(self.text, self.pos)
        if word and word.group() in _WORDS:
            self.pos = word.end()
            return _WORDS[word.group()], True
        if (word and word.end() >= self.end) or (ch in "-." and self.pos + 1 >= self.end):
            raise _Cut
        raise NoJson(f"Unexpected {ch!r} at {self.pos}.")

    def _string(self) -> str:
        text, quote = self.text, self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while True:
            stop = self.pos
            while stop < self.end and text[stop] not in (quote, "\\"):
                stop += 1
            out.append(text[self.pos : stop])
            if stop >= self.end:
                raise _Cut
            if text[stop] == quote:
                self.pos = stop + 1
                return "".join(out)
            if stop + 1 >= self.end:
                raise _Cut
            escape = text[stop + 1]
            if escape == "u":
                digits = text[stop + 2 : stop + 6]
                if len(digits) < 4:
                    raise _Cut
                code = int(digits, 16) if re.fullmatch(r"[0-9a-fA-F]{4}", digits) else 0xFFFD
                self.pos = stop + 6
                if 0xD800 <= code < 0xDC00 and text.startswith("\\u", self.pos):
                    low = text[self.pos + 2 : self.pos + 6]
                    if len(low) < 4:
                        raise _Cut
                    if re.fullmatch(r"[dD][c-fC-F][0-9a-fA-F]{2}", low):
                        code = 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
                        self.pos += 6
                out.append(chr(code) if not 0xD800 <= code < 0xE000 else "\ufffd")
            else:
                out.append(_ESCAPES.get(escape, escape))
                self.pos = stop + 2

    def _key(self) -> str:
        ch = self.text[self.pos]
        if ch in "\"'":
            return self._string()
        bare = _BARE.match(self.text, self.pos) or _NUMBER.match(self.text, self.pos)
        if bare is None:
            raise NoJson(f"Unexpected {ch!r} where a key should be, at {self.pos}.")
        self.pos = bare.end()
        if self.pos >= self.end:
            raise _Cut
        return bare.group()

    def _member(self, depth: int) -> tuple[Any, bool] | None:
        """A member's value, or ``None`` when the text ended inside it or it was open
        below the root's children (dropped whole)."""
        try:
            value, complete = self.value(depth + 1)
        except _Cut:
            return None
        if not complete and depth >= 1:
            return None
        return value, complete

    def _object(self, depth: int) -> tuple[dict[str, Any], bool]:
        self.pos += 1
        found: dict[str, Any] = {}
        while True:
            self._space()
            if self.pos >= self.end:
                return found, False
            ch = self.text[self.pos]
            if ch == "}":
                self.pos += 1
                return found, True
            if ch == ",":
                self.pos += 1
                continue
            try:
                key = self._key()
            except _Cut:
                return found, False
            self._space()
            if self.pos < self.end and self.text[self.pos] in ":=":
                self.pos += 1
            member = self._member(depth)
            if member is None:
                return found, False
            found[key] = member[0]
            if not member[1]:
                return found, False

    def _array(self, depth: int) -> tuple[list[Any], bool]:
        self.pos += 1
        found: list[Any] = []
        while True:
            self._space()
            if self.pos >= self.end:
                return found, False
            ch = self.text[self.pos]
            if ch == "]":
                self.pos += 1
                return found, True
            if ch == ",":
                self.pos += 1
                continue
            member = self._member(depth)
            if member is None:
                return found, False
            found.append(member[0])
            if not member[1]:
                return found, False
