"""schemathesis hooks for tests/e2e/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

__all__ = ["unroutable_model"]


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but one: a schema-valid chat body whose ``model`` routes nowhere.

    Which names route is decided at run time (aliases, provider prefixes, ``provider/model``
    and plugins' ``resolve_model``), so no schema can list them; an unknown name is the
    documented 400 whose ``errors`` name ``model`` and nothing else."""
    return not unroutable_model(failure, response)


def unroutable_model(failure: Any, response: Any) -> bool:
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return False
    try:
        errors = json.loads(response.content)["errors"]
    except (ValueError, KeyError, TypeError):
        return False
    return bool(errors) and all(e.get("field") == "model" for e in errors)
