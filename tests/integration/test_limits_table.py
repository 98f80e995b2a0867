"""The README's Limits table against the code: every row's default is the code's (a
setting's default, or the bound a wire schema or constant states), and every limit on a
request is sent one past, through the app, and comes back as the row's last cell says
(a 400 naming the field, or a 413): the table cannot drift from what the server does."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import pytest

from dawai.core.settings import Settings
from tests.conftest import UNLIMITED_RATES, make_settings

README = Path(__file__).resolve().parents[2] / "README.md"

# Where the table's fixed limits live: wire schemas (by struct name) and constants (by module).
SCHEMA_MODULES = (
    "dawai.adapters.http.schemas",
    "dawai.adapters.http.ghost_schemas",
    "dawai.adapters.http.routes.agent",
    "dawai.core.agent.context",
    "dawai.core.agent.actions",
)
CONSTANT_MODULES = {
    "json_body": "dawai.adapters.http.json_body",
    "schemas": "dawai.adapters.http.schemas",
    "repair": "dawai.core.generation.repair",
    "analysis": "dawai.core.music.analysis",
    "actions": "dawai.core.agent.actions",
    "bank": "dawai.adapters.inference.diffsinger.bank",
}


class Row(NamedTuple):
    what: str
    setting: str  # `section.name`, `Struct.field` or `module.CONSTANT`
    default: float
    past: str


def rows() -> list[Row]:
    text = README.read_text()
    section = text[text.index("\n## Limits\n") : text.index("\n## Access and limits\n")]
    found = []
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith(("| what |", "| --- |")):
            continue
        what, setting, default, past = (cell.strip() for cell in line.strip().strip("|").split(" | "))
        ident = re.match(r"`([A-Za-z_][\w]*\.[\w]+)`", setting)
        number = re.match(r"`(-?[0-9]+(?:\.[0-9]+)?)`", default)
        assert ident and number, f"a row the test cannot read: {line}"
        found.append(Row(what, ident.group(1), float(number.group(1)), past))
    assert len(found) > 30
    return found


def _structs() -> dict[str, type]:
    structs: dict[str, type] = {}
    for name in SCHEMA_MODULES:
        for attr, value in vars(importlib.import_module(name)).items():
            if isinstance(value, type) and issubclass(value, msgspec.Struct):
                structs.setdefault(attr, value)
    return structs


def _upper_bound(info: Any) -> float:
    """The largest value, length or count a msgspec type allows."""
    while isinstance(info, msgspec.inspect.UnionType | msgspec.inspect.Metadata):
        if isinstance(info, msgspec.inspect.Metadata):
            info = info.type
        else:
            (info,) = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
    for attribute in ("max_length", "le", "lt"):
        bound = getattr(info, attribute, None)
        if bound is not None:
            return float(bound)
    raise AssertionError(f"{info} states no upper bound")


def code_value(ident: str) -> float:
    head, name = ident.split(".")
    if head in Settings.__struct_fields__:
        return float(getattr(getattr(Settings(), head), name))
    structs = _structs()
    if head in structs:
        fields = {f.name: f for f in msgspec.inspect.type_info(structs[head]).fields}  # type: ignore[attr-defined]
        return _upper_bound(fields[name].type)
    value = getattr(importlib.import_module(CONSTANT_MODULES[head]), name)
    if isinstance(value, int | float):
        return float(value)
    return _upper_bound(msgspec.inspect.type_info(value))


@pytest.mark.parametrize("row", rows(), ids=lambda row: row.setting)
def test_each_row_states_the_codes_default(row):
    assert row.default == code_value(row.setting), row.what


# --- every request limit, sent one past -------------------------------------------------

Body = Callable[[], Any]


def _notes(count: int, **note: Any) -> list[dict[str, Any]]:
    return [{"pitch": 60, "start": 0.0, "duration": 0.1, "lyric": "la", **note} for _ in range(count)]


def _summary_notes(count: int, **note: Any) -> list[dict[str, Any]]:
    return [{"pitch": 60, "time": 0.0, "duration": 1.0, **note} for _ in range(count)]


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _agent(**extra: Any) -> dict[str, Any]:
    return {"prompt": "add drums", "model": "local", **extra}


# setting -> (path, body one past the limit)
PAST: dict[str, tuple[str, Body]] = {
    "http.max_body_bytes": ("/api/chat", lambda: {"message": "hi", "context": "x" * 1_048_576}),
    "json_body.MAX_JSON_DEPTH": ("/api/chat", lambda: {"message": "hi", "context": {"a": _nested(64)}}),
    "ChatBody.message": ("/api/chat", lambda: {"message": "x" * 8001}),
    "ChatBody.history": (
        "/api/chat",
        lambda: {"message": "hi", "history": [{"role": "user", "content": "a"}] * 201},
    ),
    "HistoryItem.content": (
        "/api/chat",
        lambda: {"message": "hi", "history": [{"role": "user", "content": "x" * 32_001}]},
    ),
    "ChatBody.apiKeys": (
        "/api/chat",
        lambda: {"message": "hi", "apiKeys": {f"p{i}": "k" for i in range(17)}},
    ),
    "AgentBody.prompt": ("/api/agent", lambda: _agent(prompt="x" * 4001)),
    "AgentBody.projectId": ("/api/agent", lambda: _agent(projectId="a" * 129)),
    "AgentContext.tracks": (
        "/api/agent",
        lambda: _agent(context={"tracks": [{"id": str(i)} for i in range(65)]}),
    ),
    "ContextTrack.notes": (
        "/api/agent",
        lambda: _agent(context={"tracks": [{"id": "t", "notes": [{}] * 4097}]}),
    ),
    "GenerateBody.prompt": ("/api/generate", lambda: {"prompt": "x" * 4001, "model": "local"}),
    "GenerateBody.bars": ("/api/generate", lambda: {"prompt": "bass", "model": "local", "bars": 65}),
    "GenerateBody.tempo": ("/api/generate", lambda: {"prompt": "bass", "model": "local", "tempo": 301}),
    "GenerateBody.key": ("/api/generate", lambda: {"prompt": "bass", "model": "local", "key": "C" * 41}),
    "UpdateSummaryBody.tracks": (
        "/api/update-summary",
        lambda: {"projectId": "p", "tracks": [{"id": str(i)} for i in range(65)]},
    ),
    "schemas.SUMMARY_MAX_NOTES": (
        "/api/update-summary",
        lambda: {
            "projectId": "p",
            "tracks": [{"id": str(i), "notes": _summary_notes(10_001)} for i in range(2)],
        },
    ),
    "UpdateSummaryBody.projectId": ("/api/update-summary", lambda: {"projectId": "a" * 129, "tracks": []}),
    "UpdateSummaryBody.tempo": (
        "/api/update-summary",
        lambda: {"projectId": "p", "tracks": [], "tempo": 301},
    ),
    "SummaryNoteIn.time": (
        "/api/update-summary",
        lambda: {"projectId": "p", "tracks": [{"id": "t", "notes": _summary_notes(1, time=36_001)}]},
    ),
    "SummaryTrackIn.name": (
        "/api/update-summary",
        lambda: {"projectId": "p", "tracks": [{"id": "t", "name": "x" * 201}]},
    ),
    "SynthesizeBody.notes": ("/diffsinger/synthesize", lambda: {"notes": _notes(10_001)}),
    "NoteIn.lyric": ("/diffsinger/synthesize", lambda: {"notes": _notes(1, lyric="x" * 65)}),
    "NoteIn.start": ("/ai/api/voice/synthesize", lambda: {"notes": _notes(1, start=86_401)}),
    "SynthesizeBody.keyShift": ("/diffsinger/synthesize", lambda: {"notes": _notes(1), "keyShift": 49}),
    "SynthesizeBody.steps": ("/diffsinger/synthesize", lambda: {"notes": _notes(1), "steps": 1001}),
    "singing.max_render_seconds": (
        "/diffsinger/synthesize",
        lambda: {"notes": _notes(1, start=299.0, duration=2.0)},
    ),
    "GhostCompleteBody.text": ("/ghost_text/complete", lambda: {"text": "x" * 4001}),
    "GhostCompleteBody.maxCandidates": (
        "/ghost_text/complete",
        lambda: {"text": "la la", "maxCandidates": 6},
    ),
    "GhostAnalyzeBody.text": ("/ai/api/ghost_text/analyze", lambda: {"text": "x" * 20_001}),
    "GhostFeedbackBody.candidate": (
        "/ghost_text/feedback",
        lambda: {"userId": "u", "text": "la", "candidate": "x" * 1001, "accepted": True},
    ),
}


def request_rows() -> Iterator[Row]:
    """The rows whose last cell is a status: limits on what a request holds."""
    return (row for row in rows() if re.match(r"(400|413)\b", row.past))


def test_every_request_limit_in_the_table_is_sent_one_past():
    listed = {row.setting for row in request_rows()}
    assert listed == set(PAST), "a request limit in the table has no request here, or the other way round"


@pytest.fixture(scope="module")
def client():
    from dawai.bootstrap.lifecycle import app_for
    from tests.conftest import local_client, make_container

    container = make_container(make_settings({**UNLIMITED_RATES, "DAWAI_GHOST_FEEDBACK_PATH": ":memory:"}))
    with local_client(app_for(container), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("row", list(request_rows()), ids=lambda row: row.setting)
def test_each_request_limit_answers_as_the_table_says(client, row):
    path, body = PAST[row.setting]
    response = client.post(path, json=body())
    status = int(row.past[:3])
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["request_id"]
    field = re.search(r"field `([^`]+)`", row.past)
    if field:
        assert field.group(1) in [e["field"] for e in problem.get("errors", [])], problem
    if "naming the setting" in row.past:
        assert row.setting in problem["detail"]
