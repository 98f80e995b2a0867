"""schemathesis hooks for tests/e2e/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

__all__ = ["model_wrote_no_notes", "unroutable_model", "unsingable_phrase"]

# Fields whose valid values are decided at run time, not by a schema: a ghost-text
# ``cursor`` must fall inside its ``text`` and not inside a surrogate pair, and a feedback
# ``event`` must agree with ``accepted``: relations between two fields no schema can say.
_READ_AT_RUN_TIME = frozenset({"model", "key", "cursor", "event"})
# What /generate says when the model's JSON has no notes it could use (a 502).
_NO_NOTES = ("The model's reply had no list of notes", "None of the model's notes could be used")


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but two.

    - A schema-valid body whose ``model`` routes nowhere, or whose ``key`` names no key.
      Which names route is decided at run time (aliases, provider prefixes,
      ``provider/model`` and plugins' ``resolve_model``), and which text names a key by
      ``parse_key`` (every spelling musicians use, Japanese included), so no schema can list
      them; either is the documented 400 whose ``errors`` name those fields and nothing else.
      Likewise a ghost-text ``cursor`` past the end of its ``text``, or a feedback ``event``
      that disagrees with its ``accepted``.
    - ``/generate``'s documented 502 for a model whose JSON has no notes: the fake upstream's
      canned structured reply and the echo plugin's ``{"echo": ...}`` have none.
    - A synthesis body no schema can refuse (``unsingable_phrase``)."""
    return not (
        unroutable_model(failure, response)
        or model_wrote_no_notes(response)
        or unsingable_phrase(failure, response)
    )


def unroutable_model(failure: Any, response: Any) -> bool:
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return False
    try:
        errors = json.loads(response.content)["errors"]
    except (ValueError, KeyError, TypeError):
        return False
    return bool(errors) and all(e.get("field") in _READ_AT_RUN_TIME for e in errors)


def model_wrote_no_notes(response: Any) -> bool:
    if response.status_code != 502:
        return False
    try:
        detail = json.loads(response.content)["detail"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(detail, str) and detail.startswith(_NO_NOTES)


def unsingable_phrase(failure: Any, response: Any) -> bool:
    """A schema-valid synthesis body that breaks a rule no schema can state: notes that
    overlap, a lyric no G2P knows, ``+`` with nothing to extend, a pitch that ``keyShift``
    takes outside 0-127 (the documented 400, every ``errors`` field under ``notes``), or a
    phrase longer than ``singing.max_render_seconds`` (the documented 413). A render job's
    body is the same body."""
    url = response.request.url
    if not isinstance(failure, RejectedPositiveData) or not url.endswith(("/synthesize", "/jobs")):
        return False
    try:
        problem = json.loads(response.content)
    except ValueError:
        return False
    if response.status_code == 413:
        return "singing.max_render_seconds" in problem.get("detail", "")
    errors = problem.get("errors") or []
    return (
        response.status_code == 400
        and bool(errors)
        and all(str(e.get("field", "")).startswith("notes") for e in errors)
    )
