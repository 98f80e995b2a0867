"""Each action of a streamed plan, the moment its closing brace arrives.

``ActionScanner`` reads the plan's JSON text as it streams (``feed`` a piece at a time,
``str`` or ``bytes``) and hands back the text of every element of the root object's
``actions`` array as soon as that element is complete. It keeps its state between
pieces (inside a string or not, an escape pending, the nesting depth, the element being
collected), so it reads each character once: linear in the stream, never re-parsing the
buffer. The work is done at C speed where it can be (docs/adr/0027-agent-plans.md):

- A piece is only counted (its closing brackets, by ``str.count``) and set aside while the
  brackets since the last scan are too few for the level the scan left off at to end;
  the piece that brings enough is scanned with those set aside, in one text, so
  1- and 16-byte pieces cost little more than the call.
- Inside an element, one compiled match skips everything up to where a string or a
  bracket pair crosses the text's end: complete strings, whole notes and arrays of notes,
  and up to four closing brackets, counted by the match. Python steps only there.

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
from collections.abc import Callable
from typing import Any, Final

import msgspec

from dawai.core.lenient_json import NoJson, loads_lenient

__all__ = ["OVERSIZED", "ActionScanner", "ScanEnd"]

OVERSIZED: Final = ""
"""Emitted for an element longer than ``max_element_chars`` (it is dropped, with a reason)."""

_ROOT = re.compile(r"[{\[]")
_TOP = re.compile(r"[{}\[\]\"',:]")  # the root object's own level and the actions array's
# Inside an element only nesting and strings matter, and the scanner steps (in Python)
# only where one of them crosses the text's end; the rest is skipped by one compiled match.
# The run: anything but a bracket or a quote (a stray backslash included), then complete
# strings, each with the run after it ("unrolled", so a note costs a few repetitions).
# A group: a bracket pair around runs and groups, written out to ``_GROUP_LEVELS`` levels
# (re has no recursion), so a whole note, or a whole array of notes, is one repetition.
# Quantifiers are possessive: what the text does not close (a group, a string) fails
# once, at its opening character, where the match stops. After the run, up to
# ``_CLOSES`` closing brackets, each with the run after it (an empty group ``c<i>`` after
# the i-th, so ``lastindex`` says how many there were), the last one ending the match
# when it brings the scan back to the actions' level.
_STRING = r"""(?:"[^"\\]*+(?:\\.[^"\\]*+)*+"|'[^'\\]*+(?:\\.[^'\\]*+)*+')"""
_PLAIN = r"""[^{}\[\]"']*+"""
_ATOMS = rf"{_PLAIN}(?:{_STRING}{_PLAIN})*+"
_GROUP_LEVELS = 2
_CLOSES = 4


def _run(levels: int) -> str:
    group = ""
    for _ in range(levels):
        group = rf"[{{\[]{_ATOMS}(?:{group}{_ATOMS})*+[}}\]]" if group else rf"[{{\[]{_ATOMS}[}}\]]"
    return rf"{_ATOMS}(?:{group}{_ATOMS})*+"


def _run_and_closes(levels: int, closes: int, last: bool) -> str:
    """The run, then up to ``closes`` closing brackets each followed by the run; with
    ``last`` the final one ends the match (the level it returns to is the scanner's own)."""
    run, tail = _run(levels), ""
    for i in range(closes, 0, -1):
        after = "" if last and i == closes else run
        tail = rf"(?:[}}\]](?P<c{i}>){after}{tail})?"
    return run + tail


# The rest of a string the text starts inside of, through its closing quote.
_DOUBLE_REST = r'[^"\\]*+(?:\\.[^"\\]*+)*+"'
_SINGLE_REST = r"[^'\\]*+(?:\\.[^'\\]*+)*+'"
_IN_DOUBLE = re.compile(_DOUBLE_REST, re.DOTALL)
_IN_SINGLE = re.compile(_SINGLE_REST, re.DOTALL)


def _deep_patterns(start: str) -> dict[int, Callable[[str, int], re.Match[str] | None]]:
    """For each number of levels above the actions' (1 to ``_CLOSES``, and 0 for more): the
    match of ``start``, the run and the closes, which stops once that level is reached."""
    found: dict[int, Callable[[str, int], re.Match[str] | None]] = {
        k: re.compile(start + _run_and_closes(_GROUP_LEVELS, k, last=True), re.DOTALL).match
        for k in range(1, _CLOSES + 1)
    }
    found[0] = re.compile(start + _run_and_closes(_GROUP_LEVELS, _CLOSES, last=False), re.DOTALL).match
    return found


_DEEP = _deep_patterns("")
_DOUBLE_DEEP = _deep_patterns(_DOUBLE_REST)  # inside a string first: its rest, then as _DEEP
_SINGLE_DEEP = _deep_patterns(_SINGLE_REST)
_PENDING = 4096  # characters set aside at most before they are scanned anyway
_COUNTED = 64  # a longer piece with a closing bracket is scanned without counting them
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
        # Pieces read but not yet scanned: none of them holds a closing bracket.
        self._pending: list[str] = []
        self._pending_len = 0
        self._pending_closes = 0  # the closing-bracket characters they hold
        self._closes_needed = 1  # before anything can end: the levels above the actions'

    # -- input ---------------------------------------------------------------------------

    def feed(self, piece: str | bytes) -> list[str]:
        """The texts of the elements this piece completed, in order."""
        text = self._utf8.decode(piece) if isinstance(piece, bytes) else piece
        if self._head_len < _PROSE_KEPT and text:
            self._head.append(text[: _PROSE_KEPT - self._head_len])
            self._head_len += len(self._head[-1])
        if not text or self._done:
            return []
        closes = self._pending_closes
        if "}" in text or "]" in text:  # (counting costs more than scanning a long piece)
            closes = closes + text.count("}") + text.count("]") if len(text) <= _COUNTED else _PENDING
        if closes < self._closes_needed and self._found_root and self._pending_len < _PENDING:
            # Too few closing brackets (inside strings or not) since the last scan for the
            # level it left off at to end, so no element can be complete: read this with
            # the piece that brings enough (at most ``_PENDING`` characters later).
            self._pending.append(text)
            self._pending_len += len(text)
            self._pending_closes = closes
            return []
        if self._pending:
            self._pending.append(text)
            text = "".join(self._pending)
            self._pending.clear()
            self._pending_len = self._pending_closes = 0
        out: list[str] = []
        self._scan(text, out)
        return out

    def finish(self) -> ScanEnd:
        """The end of the stream: the plan's other fields, decoded."""
        rest = "".join(self._pending) + self._utf8.decode(b"", final=True)
        self._pending.clear()
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
        # The state most steps touch, in locals; written back before anything reads it.
        depth, in_string, escape = self._depth, self._in_string, self._escape
        top = _TOP.search
        while pos < end:
            if depth > 2:  # inside an element (or a nested value): only nesting and strings
                above = depth - 2 if depth - 2 <= _CLOSES else 0
                if in_string:
                    if escape:
                        escape = False
                        pos += 1
                        continue
                    found = (_DOUBLE_DEEP if self._quote == '"' else _SINGLE_DEEP)[above](text, pos)
                    if found is None:  # the string goes on past this text
                        escape = _escapes_next(text, pos)
                        break
                    in_string = False
                else:
                    found = _DEEP[above](text, pos)
                closes = found.lastindex  # type: ignore[union-attr]
                if closes:
                    if closes >= depth - 2:  # back at the root's or the actions' level,
                        pos = found.end()  # type: ignore[union-attr]  # where the match stops
                        depth = 2
                        if self._actions_depth == 2 and self._element is not None:
                            self._close_element(text, pos, out)
                        continue
                    depth -= closes
                at = found.end()  # type: ignore[union-attr]
                if at >= end:
                    break
                ch = text[at]
                if ch == "{" or ch == "[":  # a group this text does not close
                    pos = at + 1
                    depth += 1
                    if depth > self._max_depth:
                        self._done = True  # nested past reason: stop reading
                        return
                elif ch == '"' or ch == "'":  # a string this text does not close
                    in_string, self._quote = True, ch
                    escape = _escapes_next(text, at + 1)
                    break
                else:  # a closing bracket past the ones a match counts: the next match's
                    pos = at
                continue
            if in_string:
                if escape:
                    escape = False
                    pos += 1
                    continue
                found = (_IN_DOUBLE if self._quote == '"' else _IN_SINGLE).match(text, pos)
                if found is None:  # the string goes on past this text
                    escape = _escapes_next(text, pos)
                    break
                pos = found.end()
                in_string = False
                if self._key_parts is not None:
                    self._key_parts.append(text[self._key_start : pos - 1])
                    self._key = "".join(self._key_parts)
                    self._key_parts = None
                continue
            found = top(text, pos)
            if found is None:
                break
            at, ch = found.start(), found.group()
            pos = at + 1
            if ch == '"' or ch == "'":
                in_string, self._quote = True, ch
                if depth == 1 and self._expect_key and self._actions_depth != 1:
                    self._key_parts, self._key_start = [], pos
                    self._expect_key = False
            elif ch == "{" or ch == "[":
                if depth == self._actions_depth and ch == "{":
                    self._element, self._element_start, self._element_len = [], at, 0
                    self._oversized = False
                elif depth == 1 and ch == "[" and self._after_colon and self._key == "actions":
                    self._actions_depth = 2
                    self._saw_actions = True
                depth += 1
                if depth > self._max_depth:
                    self._done = True  # nested past reason: stop reading
                    return
            elif ch == "}" or ch == "]":
                depth -= 1
                if depth == self._actions_depth and self._element is not None:
                    self._close_element(text, at + 1, out)
                elif depth == self._actions_depth - 1:
                    self._actions_depth = -1  # the actions array closed
                if depth == 0:
                    self._depth = 0
                    self._end_value(text, at)
                    self._done = True
                    return
            elif depth == 1:
                if ch == ":":
                    self._after_colon = True
                    if self._key in _KEPT_KEYS:
                        self._value_parts, self._value_start = [], pos
                else:  # ","
                    self._end_value(text, at)
                    self._expect_key = True
                    self._after_colon = False
        self._depth, self._in_string, self._escape = depth, in_string, escape
        self._closes_needed = depth - 2 if depth > 2 else 1
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


def _escapes_next(text: str, start: int) -> bool:
    """Whether ``text`` (inside a string from ``start`` on, no escape pending there) ends
    with an odd run of backslashes, which escapes the next text's first character."""
    if not text.endswith("\\"):
        return False
    return min(len(text) - len(text.rstrip("\\")), len(text) - start) % 2 == 1


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
