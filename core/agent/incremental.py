"""Each action of a streamed plan, the moment its closing brace arrives.

``ActionScanner`` reads the plan's JSON text as it streams (``feed`` a piece at a time,
``str`` or ``bytes``) and hands back the text of every element of the root object's
``actions`` array as soon as that element is complete. It keeps its state between
pieces (inside a string or not, an escape pending, the nesting depth, the element being
collected), so it reads each character once: linear in the stream, never re-parsing the
buffer. Between structural characters it jumps with a compiled pattern, so the work per
piece is a few C-level searches.

- Strings are skipped whole, escapes included (``\\"``, ``\\\\``, ``\\uXXXX``), however the
  pieces cut them: a backslash at a piece's end escapes the next piece's first character.
- ``bytes`` pieces go through an incremental UTF-8 decoder, so a character split across
  pieces is whole before it is read.
- An element is emitted only when its closing brace has been read, so a number cut at a
  piece's end (``6`` of ``64``) is never seen, and a stream that stops mid-element
  yields nothing of it.
- What models write around the JSON is tolerated: prose or a code fence before the root
  (skipped to its first ``{``, or ``[`` for a bare array of actions), single-quoted
  strings, trailing commas; prose after the root is ignored.

The root's ``summary`` and ``nextSteps`` values are kept as text and decoded by
``finish``. An element longer than ``max_element_chars`` is not kept (``OVERSIZED`` is
emitted in its place), so memory stays bounded.
"""

from __future__ import annotations

import codecs
import re
from typing import Any, Final

import msgspec

from dawai.core.lenient_json import NoJson, loads_lenient

__all__ = ["OVERSIZED", "ActionScanner", "ScanEnd"]

OVERSIZED: Final = ""
"""Emitted for an element longer than ``max_element_chars`` (it is dropped, with a reason)."""

_ROOT = re.compile(r"[{\[]")
_TOP = re.compile(r"[{}\[\]\"',:]")  # the root object's own level and the actions array's
# Inside an element only nesting and strings matter: one match skips a run of anything else,
# complete double-quoted strings included (possessive, so it never backtracks).
_DEEP_RUN = re.compile(r'(?:[^{}\[\]"\'\\]++|"[^"\\]*+(?:\\.[^"\\]*+)*+")*+')
_IN_DOUBLE = re.compile(r'["\\]')
_IN_SINGLE = re.compile(r"['\\]")
_KEPT_KEYS = frozenset({"summary", "nextSteps", "next_steps"})
_PROSE_KEPT = 2000
_decode = msgspec.json.Decoder().decode


class ScanEnd(msgspec.Struct, frozen=True):
    """What the stream held besides its actions."""

    found_root: bool  # a JSON object or array started
    complete: bool  # and it closed
    saw_actions: bool  # the root had an ``actions`` array (or was one)
    summary: str | None
    next_steps: str | None
    head: str  # the first characters of the text, for a reply that was prose only


class ActionScanner:
    def __init__(self, *, max_element_chars: int = 1_000_000, max_depth: int = 64) -> None:
        self._max_element = max_element_chars
        self._max_depth = max_depth
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._head: list[str] = []
        self._head_len = 0
        self._found_root = False
        self._done = False
        self._depth = 0
        self._in_string = False
        self._quote = '"'
        self._escape = False
        # The root object's level: reading a key, its value, and the last key read.
        self._expect_key = False
        self._key_parts: list[str] | None = None
        self._key_start = 0
        self._key = ""
        self._after_colon = False
        self._value_parts: list[str] | None = None
        self._value_start = 0
        self._values: dict[str, str] = {}
        # The actions array and the element being collected.
        self._actions_depth = -1  # the depth inside the actions array; -1: not in it
        self._saw_actions = False
        self._element: list[str] | None = None
        self._element_start = 0
        self._element_len = 0
        self._oversized = False

    # -- input ---------------------------------------------------------------------------

    def feed(self, piece: str | bytes) -> list[str]:
        """The texts of the elements this piece completed, in order."""
        text = self._utf8.decode(piece) if isinstance(piece, bytes) else piece
        if self._head_len < _PROSE_KEPT and text:
            self._head.append(text[: _PROSE_KEPT - self._head_len])
            self._head_len += len(self._head[-1])
        out: list[str] = []
        if text and not self._done:
            self._scan(text, out)
        return out

    def finish(self) -> ScanEnd:
        """The end of the stream: the plan's other fields, decoded."""
        rest = self._utf8.decode(b"", final=True)
        if rest and not self._done:
            self._scan(rest, [])
        return ScanEnd(
            found_root=self._found_root,
            complete=self._done,
            saw_actions=self._saw_actions,
            summary=_text_value(self._values.get("summary")),
            next_steps=_text_value(self._values.get("nextSteps", self._values.get("next_steps"))),
            head="".join(self._head),
        )

    # -- the scanner ---------------------------------------------------------------------

    def _scan(self, text: str, out: list[str]) -> None:
        pos, end = 0, len(text)
        if not self._found_root:
            match = _ROOT.search(text)
            if match is None:
                return
            pos = match.end()
            self._found_root = True
            self._depth = 1
            if match.group() == "[":  # a bare array: the actions themselves
                self._actions_depth = 1
                self._saw_actions = True
            else:
                self._expect_key = True
        while pos < end:
            if self._in_string:
                if self._escape:
                    self._escape = False
                    pos += 1
                    continue
                found = (_IN_DOUBLE if self._quote == '"' else _IN_SINGLE).search(text, pos)
                if found is None:
                    break
                pos = found.end()
                if found.group() == "\\":
                    self._escape = True
                    continue
                self._in_string = False
                if self._key_parts is not None:
                    self._key_parts.append(text[self._key_start : pos - 1])
                    self._key = "".join(self._key_parts)
                    self._key_parts = None
                continue
            if self._depth > 2:
                at = _DEEP_RUN.match(text, pos).end()  # type: ignore[union-attr]
                if at >= end:
                    break
                ch = text[at]
                if ch == "\\":  # a stray backslash outside a string: skip it
                    pos = at + 1
                    continue
            else:
                found = _TOP.search(text, pos)
                if found is None:
                    break
                at, ch = found.start(), found.group()
            pos = at + 1
            if ch == '"' or ch == "'":
                self._in_string, self._quote = True, ch
                if self._depth == 1 and self._expect_key and self._actions_depth != 1:
                    self._key_parts, self._key_start = [], pos
                    self._expect_key = False
            elif ch == "{" or ch == "[":
                if self._depth == self._actions_depth and ch == "{":
                    self._element, self._element_start, self._element_len = [], at, 0
                    self._oversized = False
                elif self._depth == 1 and ch == "[" and self._after_colon and self._key == "actions":
                    self._actions_depth = 2
                    self._saw_actions = True
                self._depth += 1
                if self._depth > self._max_depth:
                    self._done = True  # nested past reason: stop reading
                    return
            elif ch == "}" or ch == "]":
                self._depth -= 1
                if self._depth == self._actions_depth and self._element is not None:
                    self._close_element(text, at + 1, out)
                elif self._depth == self._actions_depth - 1:
                    self._actions_depth = -1  # the actions array closed
                if self._depth == 0:
                    self._end_value(text, at)
                    self._done = True
                    return
            elif self._depth == 1:
                if ch == ":":
                    self._after_colon = True
                    if self._key in _KEPT_KEYS:
                        self._value_parts, self._value_start = [], pos
                else:  # ","
                    self._end_value(text, at)
                    self._expect_key = True
                    self._after_colon = False
        self._carry(text)

    def _carry(self, text: str) -> None:
        """The piece ended: keep what the open key, value or element holds of it."""
        if self._key_parts is not None:
            self._key_parts.append(text[self._key_start :])
            self._key_start = 0
        if self._value_parts is not None:
            self._value_parts.append(text[self._value_start :])
            self._value_start = 0
        if self._element is not None:
            part = text[self._element_start :]
            self._element_start = 0
            self._element_len += len(part)
            if self._element_len > self._max_element:
                self._oversized = True
                self._element.clear()
            elif not self._oversized:
                self._element.append(part)

    def _close_element(self, text: str, stop: int, out: list[str]) -> None:
        assert self._element is not None
        part = text[self._element_start : stop]
        if self._oversized or self._element_len + len(part) > self._max_element:
            out.append(OVERSIZED)
        else:
            self._element.append(part)
            out.append("".join(self._element))
        self._element = None

    def _end_value(self, text: str, stop: int) -> None:
        if self._value_parts is not None:
            self._value_parts.append(text[self._value_start : stop])
            self._values[self._key] = "".join(self._value_parts)
            self._value_parts = None


def _text_value(raw: str | None) -> str | None:
    """A root value kept as text, read as a string (leniently: single quotes too)."""
    if raw is None:
        return None
    raw = raw.strip()
    value: Any
    try:
        value = _decode(raw)
    except msgspec.DecodeError:
        try:
            value = loads_lenient("[" + raw + "]")
            value = value[0] if value else None
        except NoJson:
            return None
    return value if isinstance(value, str) else None
