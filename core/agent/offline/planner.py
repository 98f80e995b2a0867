"""The offline agent (``model: "local"``): a prompt read as commands, in English or
Japanese, each turned into contract actions, all checked by the ``PlanValidator``.

``OfflinePlanner.plan`` splits the prompt into commands (``reading.split_commands``; a
command with no verb of its own borrows the one before it: "mute the drums and the
bass"), tries the handlers of ``commands`` on each in order, then validates every action
in plan order against the request's context. The same prompt and context always give the
same plan (ids are assigned by rule, the generator is seeded). A command it cannot read
is named in ``error`` with a provider model to use instead; when nothing was understood
the plan is ``understood=False``.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Final

import msgspec

from dawai.core.agent.actions import to_wire
from dawai.core.agent.context import AgentContext
from dawai.core.agent.offline import lexicon as lx
from dawai.core.agent.offline.commands import HANDLERS
from dawai.core.agent.offline.reading import split_commands
from dawai.core.agent.offline.replies import (
    NEXT_STEPS,
    capabilities,
    full_plan,
    provider_hint,
    too_long,
    too_many,
)
from dawai.core.agent.offline.state import Clause, PlanState
from dawai.core.agent.validation import Dropped, PlanValidator, describe_dropped
from dawai.core.settings import AgentSettings

__all__ = ["OfflinePlan", "OfflinePlanner"]

# The English verbs a following command without a verb may borrow.
_CARRIED: Final = frozenset(
    {"add", "mute", "unmute", "solo", "unsolo", "delete", "remove", "pan", "transpose", "quantize"}
    | {"quantise", "double", "halve", "apply", "put"}
)
_JA_AND_RE: Final = re.compile(r"^(.+?)と(.+?)(を.+)$")
# Characters of one command (after NFKC, which can lengthen text) that are read. A command
# is a sentence; the patterns that read one cost up to its length squared, so a longer
# one is refused with a reason instead of read.
MAX_COMMAND_CHARS: Final = 300
# Reasons named in a plan's error; the rest are counted.
_MAX_PROBLEMS: Final = 20
_ALL: Final = lx.words(
    "all_tracks all_the_tracks every_track each_track everything 全トラック 全部のトラック "
    "すべてのトラック 全てのトラック"
)


class OfflinePlan(msgspec.Struct, frozen=True, kw_only=True):
    """The offline agent's answer: validated actions in the wire form, what they do and
    what to try next (in the prompt's language), and what it could not do."""

    actions: list[dict[str, Any]]
    summary: str
    next_steps: str
    understood: bool
    error: str = ""
    dropped: list[Dropped] = []


def _clauses(prompt: str, state: PlanState, max_commands: int) -> list[Clause]:
    out: list[Clause] = []
    commands = split_commands(prompt)
    for read, text in enumerate(commands):
        if len(out) >= max_commands:  # more than a plan may hold actions: the rest are not read
            state.cannot(too_many(len(commands) - read, max_commands))
            break
        clause = Clause.of(text)
        if len(clause.normal) > MAX_COMMAND_CHARS:
            state.unknown = True
            state.cannot(too_long(clause.text, MAX_COMMAND_CHARS))
            continue
        every = _ALL.search(clause.folded)
        if every is not None and state.tracks.rows:  # "mute all tracks": one command per track
            for number in range(1, len(state.tracks.rows) + 1):
                out.append(
                    Clause.of(
                        f"{clause.folded[: every.start()]}{number}th track{clause.folded[every.end() :]}",
                        sweep=True,
                    )
                )
            del out[max_commands:]
            continue
        both = _JA_AND_RE.match(clause.normal) if state.japanese else None
        if both is not None:  # 「ドラムとベースをミュート」: one command per track
            first, second, verb = both.groups()
            if state.tracks.find(lx.fold(first)) and state.tracks.find(lx.fold(second)):
                out.extend((Clause.of(first + verb), Clause.of(second + verb)))
                continue
        out.append(clause)
    return out


class OfflinePlanner:
    """Plans ``model: "local"`` requests: deterministic, no key, no I/O."""

    def __init__(self, limits: AgentSettings) -> None:
        self._limits = limits

    def plan(self, prompt: str, context: AgentContext, current_track: str | None = None) -> OfflinePlan:
        """The plan for ``prompt``; ``current_track`` is the id of the track selected in
        the DAW (``context.currentTrack.id``), the target of a command that names none."""
        state = PlanState(prompt, context, current_track, self._limits.max_notes_per_action)
        verb = ""
        clauses = _clauses(prompt, state, self._limits.max_actions)
        if not clauses:  # nothing but punctuation
            state.not_understood(Clause.of(prompt))
        for clause in clauses:
            if len(state.actions) >= self._limits.max_actions:  # the validator would drop the rest
                state.cannot(full_plan(self._limits.max_actions))
                break
            handled = any(handler(state, clause) for handler in HANDLERS)
            if not handled and verb:
                borrowed = Clause.of(f"{verb} {clause.normal}")
                handled = any(handler(state, borrowed) for handler in HANDLERS)
            if not handled:
                state.not_understood(clause)
                continue
            first = clause.folded.split(maxsplit=1)
            if first and first[0] in _CARRIED:
                verb = first[0]
        return self._checked(state, context)

    def _checked(self, state: PlanState, context: AgentContext) -> OfflinePlan:
        counter = itertools.count(1)
        validator = PlanValidator(
            context, self._limits, new_id=lambda prefix: f"{prefix}-local-{next(counter)}"
        )
        kept: list[dict[str, Any]] = []
        dropped: list[Dropped] = []
        for index, raw in enumerate(state.actions):
            checked = validator.check(raw, index)
            if isinstance(checked, Dropped):
                dropped.append(checked)
            else:
                kept.append(to_wire(checked))
        ja = state.japanese
        problems = [p.in_(ja) for p in state.problems[:_MAX_PROBLEMS]]
        if len(state.problems) > _MAX_PROBLEMS:
            problems.append(f"(+{len(state.problems) - _MAX_PROBLEMS})")
        if state.unknown:
            problems += [capabilities().in_(ja), provider_hint().in_(ja)]
        error = " ".join([*problems, describe_dropped(dropped, len(state.actions))]).strip()
        sentences = [s.in_(ja) for s in state.summary]
        summary = (
            "。".join(sentences) + "。"
            if ja and sentences
            else ". ".join(sentences) + "."
            if sentences
            else ""
        )
        steps = NEXT_STEPS.get(state.next)
        understood = bool(kept) or (not state.problems and not dropped)
        return OfflinePlan(
            actions=kept,
            summary=summary,
            next_steps=steps.in_(ja) if steps and kept else "",
            understood=understood,
            error=error,
            dropped=dropped,
        )
