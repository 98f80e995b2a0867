"""Learning from feedback: features of a candidate, time-decayed counts, the boost they give.

A feedback event (``shown``, ``accepted`` or ``dismissed``) counts for each *feature* of the
candidate: its kind, its kind and length in words, and keyed hashes of its text, of its
first word and of the text after the word before it (``ghost_text.feature_salt``), so that
what a user typed is never stored as text unless the operator keeps it
(``ghost_text.store_text``, which also keeps accepted phrases).

Counts decay by half every ``half_life`` seconds (14 days by default): each stored count is
scaled on update by ``0.5 ** (elapsed / half_life)`` and again when read. A feature's
acceptance is smoothed towards the prior, ``(accepted + k·p) / (accepted + dismissed + k)``
(p = 0.3, about what inline-completion users accept; k = 2), so one accept moves it a little
and many move it a lot. A candidate's boost is the geometric mean over its known features of
acceptance / p, clipped to 0.5..2.5: 1 for a new user or unseen candidate; a text the user
accepted after the same word (``context_key``) more often than p expects also adds twice
that excess to its score (``rescore``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from dawai.core.models import CompletionCandidate, FeatureStats, FeedbackEvent

__all__ = [
    "DEFAULT_HALF_LIFE",
    "PRIOR",
    "acceptance",
    "accepted_phrase",
    "boost",
    "candidate_features",
    "context_key",
    "decay",
    "features_for",
    "infer_kind",
    "rescore",
    "updated",
]

DEFAULT_HALF_LIFE: Final = 14 * 24 * 60 * 60.0
PRIOR: Final = 0.3
STRENGTH: Final = 2.0
BOOST_RANGE: Final = (0.5, 2.5)
TEXT_WEIGHT: Final = 2.0  # how much a text's own excess acceptance adds to its score


def _hashed(kind: str, text: str, salt: str) -> str:
    digest = hashlib.blake2b(text.encode(), digest_size=8, key=salt.encode()[:64]).hexdigest()
    return f"{kind}#{digest}"


def context_key(before: str) -> str:
    """What a candidate is remembered after: the last whole word before the word being typed
    (Latin script), else the last two characters of the line (Japanese)."""
    line = before.rpartition("\n")[2].rstrip()
    if not line:
        return ""
    if line[-1].isascii():
        end = len(line)
        while end > 0 and line[end - 1].isascii() and (line[end - 1].isalnum() or line[end - 1] in "'-"):
            end -= 1
        tokens = line[:end].split() if before.endswith(line) and not before[-1:].isspace() else line.split()
        return tokens[-1].casefold() if tokens else ""
    return line[-2:]


def candidate_features(text: str, kind: str, salt: str = "", context: str = "") -> tuple[str, ...]:
    """The features feedback on this candidate counts for (see the module doc); with
    ``context`` (``context_key`` of the text before the cursor), the candidate in that context too."""
    words = text.strip().split()
    size = "1" if len(words) <= 1 else "2" if len(words) == 2 else "3+"
    normalised = " ".join(words).casefold()
    features = [f"kind:{kind}", f"kind:{kind}:words:{size}", _hashed("text", normalised, salt)]
    if len(words) > 1:
        features.append(_hashed("first", words[0].casefold(), salt))
    if context:
        features.append(_hashed("ctx", f"{context}|{normalised}", salt))
    return tuple(features)


def decay(stats: FeatureStats, now: float, half_life: float = DEFAULT_HALF_LIFE) -> FeatureStats:
    """``stats`` as they stand at ``now`` (counts halved every ``half_life`` seconds)."""
    elapsed = max(now - stats.updated, 0.0)
    factor = 0.5 ** (elapsed / half_life) if half_life > 0 else 1.0
    return FeatureStats(
        stats.accepted * factor, stats.dismissed * factor, stats.shown * factor, max(now, stats.updated)
    )


def updated(
    stats: FeatureStats | None, event: FeedbackEvent, half_life: float = DEFAULT_HALF_LIFE
) -> FeatureStats:
    """``stats`` after one more ``event`` (decayed to the event's time first)."""
    base = FeatureStats(0.0, 0.0, 0.0, event.at) if stats is None else decay(stats, event.at, half_life)
    return FeatureStats(
        base.accepted + (event.kind == "accepted"),
        base.dismissed + (event.kind == "dismissed"),
        base.shown + (event.kind == "shown"),
        base.updated,
    )


def acceptance(stats: FeatureStats, now: float, half_life: float = DEFAULT_HALF_LIFE) -> float:
    """The smoothed acceptance of a feature at ``now``, in (0, 1)."""
    current = decay(stats, now, half_life)
    return (current.accepted + STRENGTH * PRIOR) / (current.accepted + current.dismissed + STRENGTH)


def boost(
    features: Iterable[str],
    known: Mapping[str, FeatureStats],
    now: float,
    half_life: float = DEFAULT_HALF_LIFE,
) -> float:
    """The factor a candidate's score is multiplied by for this user (1: nothing known): the
    geometric mean of acceptance / prior over its known features, within 0.5..2.5."""
    logs = [math.log(acceptance(known[f], now, half_life) / PRIOR) for f in features if f in known]
    if not logs:
        return 1.0
    low, high = BOOST_RANGE
    return min(max(math.exp(sum(logs) / len(logs)), low), high)


def rescore(
    score: float,
    features: Sequence[str],
    known: Mapping[str, FeatureStats],
    now: float,
    half_life: float = DEFAULT_HALF_LIFE,
) -> float:
    """A candidate's score for this user: ``score`` times the ``boost`` of its features,
    plus, when the user has accepted this very text after the same word more than the prior
    expects, twice that excess (so accepted material outranks what the corpus alone prefers
    where the user took it), within 0..1."""
    value = score * boost(features, known, now, half_life)
    for feature in features:
        if feature.startswith("ctx#") and feature in known:
            value += TEXT_WEIGHT * max(acceptance(known[feature], now, half_life) - PRIOR, 0.0)
    return min(max(value, 0.0), 1.0)


def features_for(candidate: CompletionCandidate, salt: str = "") -> tuple[str, ...]:
    return candidate_features(candidate.text, candidate.kind, salt)


def infer_kind(candidate: str) -> str:
    """The kind of a candidate the client did not name: ``chord`` when every token reads
    as a chord or numeral, ``phrase`` for several words, else ``lyric``."""
    from dawai.core.ghost.chart import read_token

    tokens = [token for token in candidate.replace("|", " ").split() if token]
    if (
        tokens
        and all(read_token(token) is not None for token in tokens)
        and candidate.strip() not in ("I", "a", "A")
    ):
        return "chord"
    return "phrase" if len(tokens) > 1 else "lyric"


def accepted_phrase(text: str, candidate: str, limit: int = 200) -> str:
    """What an accepted candidate completed: the word it finished (the letters before the
    cursor on its line) and the candidate, spaces trimmed, at most ``limit`` characters."""
    line = text.rpartition("\n")[2]
    start = len(line)
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] in "'-"):
        start -= 1
    return (line[start:] + candidate).strip()[:limit]
