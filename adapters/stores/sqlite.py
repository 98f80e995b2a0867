"""SQLite feedback store: ghost-text learning kept on one machine across restarts.

One file (``ghost_text.feedback_path``; ``:memory:`` for a database that lives as long as the
store), written by the standard library's ``sqlite3`` in a worker thread so the event loop
never waits on the disk; one connection, used by one thread at a time under a lock, in WAL
mode. Tables:

- ``feature_stats(user_id, feature, accepted, dismissed, shown, updated)``: time-decayed
  counts (``dawai.core.ghost.learning``), at most ``max_features`` per user (the least
  recently updated are deleted past it);
- ``phrases(user_id, phrase, at)``: accepted phrases, only written when the operator keeps
  text (``ghost_text.store_text``), at most ``max_phrases`` per user;
- ``users(user_id, seen)``: at most ``max_users`` (the least recently seen forgotten whole).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from dawai.core.ghost.learning import DEFAULT_HALF_LIFE, updated
from dawai.core.models import FeatureStats, FeedbackEvent, UserFeedback

__all__ = ["SqliteFeedbackStore"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, seen REAL NOT NULL);
CREATE INDEX IF NOT EXISTS users_seen ON users (seen);
CREATE TABLE IF NOT EXISTS feature_stats (
    user_id TEXT NOT NULL, feature TEXT NOT NULL,
    accepted REAL NOT NULL, dismissed REAL NOT NULL, shown REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (user_id, feature)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS phrases (
    user_id TEXT NOT NULL, phrase TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (user_id, phrase)
) WITHOUT ROWID;
"""


class SqliteFeedbackStore:
    def __init__(
        self,
        path: str,
        *,
        max_features: int = 500,
        max_phrases: int = 200,
        max_users: int = 100_000,
        half_life: float = DEFAULT_HALF_LIFE,
    ) -> None:
        for name, value in (
            ("max_features", max_features),
            ("max_phrases", max_phrases),
            ("max_users", max_users),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")
        self._path = path
        self._max_features = max_features
        self._max_phrases = max_phrases
        self._max_users = max_users
        self._half_life = half_life
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    @property
    def path(self) -> str:
        return self._path

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            if self._path != ":memory:":
                folder = os.path.dirname(os.path.abspath(self._path))
                os.makedirs(folder, exist_ok=True)
            connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(_SCHEMA)
            self._connection = connection
        return self._connection

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                return work(self._connect())

        return await asyncio.to_thread(locked)

    async def add(self, user_id: str, events: Sequence[FeedbackEvent]) -> None:
        if events:
            await self._run(lambda db: self._add(db, user_id, events))

    def _add(self, db: sqlite3.Connection, user_id: str, events: Sequence[FeedbackEvent]) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            latest = max(event.at for event in events)
            db.execute(
                "INSERT INTO users (user_id, seen) VALUES (?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET seen = excluded.seen",
                (user_id, latest),
            )
            touched: dict[str, FeatureStats | None] = {}
            for event in events:
                for feature in event.features:
                    if feature not in touched:
                        row = db.execute(
                            "SELECT accepted, dismissed, shown, updated FROM feature_stats "
                            "WHERE user_id = ? AND feature = ?",
                            (user_id, feature),
                        ).fetchone()
                        touched[feature] = FeatureStats(*row) if row else None
                    touched[feature] = updated(touched[feature], event, self._half_life)
                if event.phrase:
                    db.execute(
                        "INSERT INTO phrases (user_id, phrase, at) VALUES (?, ?, ?) "
                        "ON CONFLICT (user_id, phrase) DO UPDATE SET at = excluded.at",
                        (user_id, event.phrase, event.at),
                    )
            db.executemany(
                "INSERT OR REPLACE INTO feature_stats VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (user_id, feature, s.accepted, s.dismissed, s.shown, s.updated)
                    for feature, s in touched.items()
                    if s is not None
                ],
            )
            db.execute(
                "DELETE FROM feature_stats WHERE user_id = ? AND feature NOT IN "
                "(SELECT feature FROM feature_stats WHERE user_id = ? "
                "ORDER BY updated DESC, feature LIMIT ?)",
                (user_id, user_id, self._max_features),
            )
            db.execute(
                "DELETE FROM phrases WHERE user_id = ? AND phrase NOT IN "
                "(SELECT phrase FROM phrases WHERE user_id = ? ORDER BY at DESC, phrase LIMIT ?)",
                (user_id, user_id, self._max_phrases),
            )
            excess = db.execute("SELECT COUNT(*) - ? FROM users", (self._max_users,)).fetchone()[0]
            if excess > 0:
                gone = [
                    row[0] for row in db.execute("SELECT user_id FROM users ORDER BY seen LIMIT ?", (excess,))
                ]
                for old in gone:
                    self._delete(db, old)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def profile(self, user_id: str) -> UserFeedback | None:
        return await self._run(lambda db: self._profile(db, user_id))

    def _profile(self, db: sqlite3.Connection, user_id: str) -> UserFeedback | None:
        rows = db.execute(
            "SELECT feature, accepted, dismissed, shown, updated FROM feature_stats WHERE user_id = ?",
            (user_id,),
        ).fetchall()
        phrases = db.execute(
            "SELECT phrase FROM phrases WHERE user_id = ? ORDER BY at, phrase", (user_id,)
        ).fetchall()
        if not rows and not phrases:
            return None
        return UserFeedback(
            {row[0]: FeatureStats(*row[1:]) for row in rows}, tuple(row[0] for row in phrases)
        )

    async def forget(self, user_id: str) -> bool:
        return await self._run(lambda db: self._forget(db, user_id))

    def _forget(self, db: sqlite3.Connection, user_id: str) -> bool:
        db.execute("BEGIN IMMEDIATE")
        try:
            removed = self._delete(db, user_id)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return removed

    @staticmethod
    def _delete(db: sqlite3.Connection, user_id: str) -> bool:
        removed = 0
        for table in ("users", "feature_stats", "phrases"):
            removed += db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,)).rowcount
        return removed > 0

    async def aclose(self) -> None:
        def close() -> None:
            with self._lock:
                if self._connection is not None:
                    self._connection.close()
                    self._connection = None

        await asyncio.to_thread(close)
