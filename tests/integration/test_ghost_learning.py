"""Ghost-text learning through the routes: one user's feedback reranks that user's
suggestions only, survives an app restart (SQLite), keeps no text unless told to, and
forgetting the user removes it."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from litestar.testing import TestClient

from dawai.bootstrap.lifecycle import app_for
from tests.conftest import local_client, make_container, make_settings

LINE = "I walk alone through the "


@contextmanager
def app(path: str, **ghost: str) -> Iterator[TestClient]:
    env = {"DAWAI_GHOST_FEEDBACK_PATH": path, **ghost}
    with local_client(app_for(make_container(make_settings(env))), raise_server_exceptions=False) as client:
        yield client


def texts(client: TestClient, text: str, user: str | None = None) -> list[str]:
    body = {"text": text, "maxCandidates": 5, **({"userId": user} if user else {})}
    response = client.post("/ghost_text/complete", json=body)
    assert response.status_code == 200, response.text
    return [c["text"] for c in response.json()["candidates"]]


def teach(client: TestClient, user: str, text: str, candidate: str, accepted: bool, times: int = 6) -> None:
    for _ in range(times):
        event = {"userId": user, "text": text, "candidate": candidate, "accepted": accepted}
        assert client.post("/ghost_text/feedback", json=event).status_code == 204


def test_feedback_reranks_for_that_user_only_and_survives_a_restart(tmp_path):
    path = str(tmp_path / "feedback.sqlite3")
    with app(path) as client:
        plain = texts(client, LINE)
        favourite = plain[-1]
        assert plain[0] != favourite
        teach(client, "alice", LINE, favourite, True)
        teach(client, "alice", LINE, plain[0], False)
        assert texts(client, LINE, "alice")[0] == favourite
        assert texts(client, LINE, "bob") == plain
    with app(path) as client:  # a new app on the same file
        assert texts(client, LINE, "alice")[0] == favourite
        assert texts(client, LINE, "bob") == plain
        assert client.delete("/ghost_text/users/alice").status_code == 204
        assert texts(client, LINE, "alice") == plain
    rows = (
        sqlite3.connect(path).execute("SELECT COUNT(*) FROM feature_stats WHERE user_id = 'alice'").fetchone()
    )
    assert rows == (0,)


def test_no_text_is_kept_unless_the_operator_says_so(tmp_path):
    path = str(tmp_path / "feedback.sqlite3")
    with app(path) as client:
        teach(client, "alice", "I sing of the zebr", "awood", True, times=1)
        assert "awood" not in " ".join(texts(client, "the ze", "alice"))
    dump = "\n".join(sqlite3.connect(path).iterdump())
    assert "zebr" not in dump and "awood" not in dump


def test_accepted_phrases_join_the_users_overlay_when_text_is_kept(tmp_path):
    path = str(tmp_path / "feedback.sqlite3")
    with app(path, DAWAI_GHOST_STORE_TEXT="true") as client:
        teach(client, "alice", "I sing of the zebr", "awood sky", True, times=1)
        assert "awood sky" in texts(client, "under the zebr", "alice")
        assert "awood sky" not in texts(client, "under the zebr", "bob")
        assert client.delete("/ghost_text/users/alice").status_code == 204
        assert "awood sky" not in texts(client, "under the zebr", "alice")


def test_on_a_server_with_tokens_each_tokens_users_are_its_own(tmp_path):
    """The same userId under two tokens is two users: one token's client can neither
    rerank nor forget what another token's user taught."""
    path = str(tmp_path / "feedback.sqlite3")
    config = tmp_path / "dawai.toml"
    config.write_text(
        "".join(
            f'[[http.tokens]]\nname = "{name}"\nsha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\n'
            for name, token in (("studio-a", "token-aaaa-1111"), ("studio-b", "token-bbbb-2222"))
        )
    )
    a = {"Authorization": "Bearer token-aaaa-1111"}
    b = {"Authorization": "Bearer token-bbbb-2222"}
    with app(path, DAWAI_CONFIG=str(config)) as client:

        def ranked(headers: dict[str, str]) -> list[str]:
            body = {"text": LINE, "maxCandidates": 5, "userId": "alice"}
            response = client.post("/ghost_text/complete", json=body, headers=headers)
            assert response.status_code == 200, response.text
            return [c["text"] for c in response.json()["candidates"]]

        plain = ranked(a)
        favourite = plain[-1]
        for _ in range(6):
            for candidate, accepted in ((favourite, True), (plain[0], False)):
                event = {"userId": "alice", "text": LINE, "candidate": candidate, "accepted": accepted}
                assert client.post("/ghost_text/feedback", json=event, headers=a).status_code == 204
        assert ranked(a)[0] == favourite
        assert ranked(b) == plain  # studio-b's "alice" is someone else
        assert client.delete("/ghost_text/users/alice", headers=b).status_code == 204
        assert ranked(a)[0] == favourite  # studio-b cannot forget studio-a's alice
        assert client.delete("/ghost_text/users/alice", headers=a).status_code == 204
        assert ranked(a) == plain
