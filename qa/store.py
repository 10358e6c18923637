"""The durable store of visitor feedback, staff relevance labels and unanswered questions (SQLite).

It lives in a data folder apart from the index, so rebuilding the index never loses it. Many
visitors write at once (Gradio runs handlers in threads, and several app processes may share one
file), so the database runs in WAL mode, each thread gets its own connection, every write is one
short ``BEGIN IMMEDIATE`` transaction, and a write that still finds the file locked after the busy
timeout is retried with backoff.

Privacy: a row holds the question text, a UTC time and the index version; never an IP address,
a session id or anything else about the visitor. With ``log_questions=False`` no visitor text is
kept at all: :meth:`Store.log_unanswered` does nothing, and :meth:`Store.record_feedback` keeps
the vote, the cited passage ids and the index version but not the question, the effective query
or the comment (a vote still tells staff which passages disappoint). Staff labels are staff
work, not visitor data, and are always kept.

The schema version is ``PRAGMA user_version``; opening a store applies the missing migrations of
:data:`MIGRATIONS` in order, and refuses a database written by a newer version of this code.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from qa.errors import EmptyQuestionError, InputError, QAError
from qa.store_schema import (
    MIGRATIONS,
    REASONS,
    SCHEMA_VERSION,
    VOTES,
    FeedbackRow,
    LabelRow,
    Reason,
    UnansweredRow,
    Vote,
)

__all__ = [
    "FeedbackRow",
    "LabelRow",
    "Store",
    "StoreError",
    "StoreVersionError",
    "UnansweredRow",
]


BUSY_TIMEOUT_MS = 10_000  # how long SQLite itself waits for a lock before reporting it busy
LOCK_RETRIES = 5  # then our own retries, with jittered backoff, before giving up
_T = TypeVar("_T")


class StoreError(QAError):
    """The feedback store cannot be opened, read or written (locked for too long, not a store)."""


class StoreVersionError(StoreError, ValueError):
    """The database was written by a newer version of this code; opening it could damage it."""


def utc_now() -> str:
    """The current time as UTC ISO 8601 with microseconds, so text order is time order."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _normalise_since(since: str) -> str:
    """Parse a caller's ISO time (naive means UTC) into the stored format, for text comparison."""
    try:
        moment = datetime.fromisoformat(since)
    except ValueError as error:
        raise InputError(f"not an ISO 8601 time: {since!r}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _require_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EmptyQuestionError(f"{what} is empty")
    return value


_INSERT_FEEDBACK = (
    "INSERT INTO feedback (created_at, question, effective_query, passage_ids, vote,"
    " index_version, answer_id, comment, vote_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
MAX_LIMIT = 1_000_000  # rows a report reads at most; SQLite's integers end at 2**63


def _require_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be a whole number from 1 to {MAX_LIMIT:,}, got {limit!r}")
    return limit


def _is_lock_error(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


class Store:
    """Feedback, labels and unanswered questions in one SQLite file, shared by threads, processes.

    Open it once per process and share it between threads: each thread lazily gets its own
    connection. ``path`` is always given by the entry point (by convention ``data/qa.sqlite3``).
    WAL needs a local filesystem: do not put the file on a network share.
    """

    def __init__(self, path: Path, *, log_questions: bool = True) -> None:
        self.path = Path(path)
        self.log_questions = log_questions
        self._local = threading.local()
        self._connections: list[tuple[int, sqlite3.Connection]] = []  # (pid, connection)
        self._lock = threading.Lock()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the folder of {self.path}: {error}") from error
        try:
            self._retry(self._check_version)  # read only: a file we refuse is left untouched
            self._retry(self._enable_wal)
            self._retry(self._migrate)
        except BaseException:
            self.close()
            raise

    # -- connections and transactions -------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (a fresh one after a fork: SQLite handles must not cross)."""
        if self._closed:
            raise StoreError(f"the store {self.path} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        try:
            # Autocommit mode (isolation_level=None): we issue BEGIN IMMEDIATE ourselves, so a
            # write takes the lock up front instead of failing half-way on a read-to-write upgrade.
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,  # only so close() can close every thread's connection
            )
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the store {self.path}: {error}") from error
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._local.conn, self._local.pid = conn, os.getpid()
        with self._lock:
            self._connections.append((os.getpid(), conn))
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction: committed on success, rolled back on any error."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # also after a failed COMMIT, so a retry starts clean
                conn.execute("ROLLBACK")
            raise

    def _retry(self, action: Callable[[], _T]) -> _T:
        """Run ``action``; if the file stays locked past the busy timeout, back off and retry."""
        for attempt in range(LOCK_RETRIES + 1):
            try:
                return action()
            except sqlite3.OperationalError as error:
                if not _is_lock_error(error):
                    raise StoreError(f"store {self.path}: {error}") from error
                if attempt == LOCK_RETRIES:
                    raise StoreError(
                        f"the store {self.path} stayed locked after {LOCK_RETRIES} retries"
                    ) from error
                time.sleep(random.uniform(0.05, 0.2) * 2**attempt)
            except sqlite3.Error as error:
                raise StoreError(f"store {self.path}: {error}") from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _write(self, sql: str, params: Sequence[object]) -> int:
        def run() -> int:
            with self._transaction() as conn:
                rows = conn.execute(sql, params).fetchall()  # step to the end before COMMIT
            return int(rows[0][0])

        return self._retry(run)

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        def run() -> list[sqlite3.Row]:
            cursor = self._connection().execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

        return self._retry(run)

    def _check_version(self) -> None:
        conn = self._connection()
        # One statement, so one snapshot: read apart, another process's first migration could
        # commit between the two reads (version 0, then tables) and look like a foreign file.
        version, tables = conn.execute(
            "SELECT (SELECT user_version FROM pragma_user_version),"
            " (SELECT count(*) FROM sqlite_master)"
        ).fetchone()
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"the store {self.path} has schema version {version}, newer than the "
                f"{SCHEMA_VERSION} this code knows: upgrade the qa package to open it"
            )
        # Our migrations set user_version in the transaction that creates the tables, so
        # tables at version 0 belong to some other program.
        if version == 0 and tables:
            raise StoreError(f"{self.path} is an SQLite database but not a qa store")

    def _enable_wal(self) -> None:
        """Switch the file to WAL (it stays so): readers never block writers, writers queue."""
        mode = self._connection().execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"the store {self.path} cannot use WAL mode (journal mode {mode!r})")

    def _migrate(self) -> None:
        """Bring the file to :data:`SCHEMA_VERSION`, or refuse it; racing openers are serialised."""
        with self._transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:  # written by a newer process since _check_version
                raise StoreVersionError(f"the store {self.path} has a newer schema ({version})")
            for migration in MIGRATIONS:
                if migration.version > version:
                    for statement in migration.statements:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {migration.version}")

    def schema_version(self) -> int:
        """The schema version of the open file (``PRAGMA user_version``)."""
        return int(self._read("PRAGMA user_version")[0][0])

    def close(self) -> None:
        """Close every thread's connection; later calls raise :class:`StoreError`."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for pid, conn in connections:
            if pid == os.getpid():  # a forked child leaves its parent's handles alone
                conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes -------------------------------------------------------------------------------

    def record_feedback(
        self,
        *,
        question: str,
        effective_query: str,
        passage_ids: Sequence[str],
        vote: Vote,
        index_version: str,
        answer_id: str | None = None,
        comment: str | None = None,
    ) -> int:
        """Store a thumbs up or down on an answer; returns the row id.

        With ``log_questions=False`` the vote is kept without the question, query and comment.
        """
        _require_text(question, "the question")
        if vote not in VOTES:
            raise InputError(f"vote must be 'up' or 'down', got {vote!r}")
        values = self._feedback_values(
            question, effective_query, passage_ids, vote, index_version, answer_id, comment, None
        )
        return self._write(_INSERT_FEEDBACK + " RETURNING id", values)

    def _feedback_values(
        self,
        question: str,
        effective_query: str,
        passage_ids: Sequence[str],
        vote: Vote,
        index_version: str,
        answer_id: str | None,
        comment: str | None,
        vote_key: str | None,
    ) -> tuple[object, ...]:
        """A vote row for :data:`_INSERT_FEEDBACK`; the visitor's words only when logging."""
        keep = self.log_questions
        return (
            utc_now(),
            question if keep else None,
            effective_query if keep else None,
            json.dumps(list(passage_ids)),
            vote,
            index_version,
            answer_id,
            comment if keep and comment else None,
            vote_key,
        )

    def set_vote(
        self,
        *,
        vote_key: str,
        vote: Vote | None,
        question: str,
        effective_query: str,
        passage_ids: Sequence[str],
        index_version: str,
        answer_id: str | None = None,
        log_thumbs_down: bool = True,
    ) -> None:
        """The visitor's current vote on one answer shown (``vote_key``), or none.

        One transaction replaces whatever that answer had: its vote row and the thumbs-down
        entry of the unanswered log. Calls in any order converge to the last one, so clicks
        in quick succession cannot leave two votes for one answer.
        """
        _require_text(question, "the question")
        _require_text(vote_key, "the vote key")
        if vote is not None and vote not in VOTES:
            raise InputError(f"vote must be 'up', 'down' or None, got {vote!r}")

        def run() -> None:
            with self._transaction() as conn:
                conn.execute("DELETE FROM feedback WHERE vote_key = ?", (vote_key,))
                conn.execute("DELETE FROM unanswered WHERE vote_key = ?", (vote_key,))
                if vote is None:
                    return
                conn.execute(
                    _INSERT_FEEDBACK,
                    self._feedback_values(
                        question, effective_query, passage_ids, vote, index_version, answer_id,
                        None, vote_key,
                    ),
                )
                if vote == "down" and log_thumbs_down and self.log_questions:
                    conn.execute(
                        "INSERT INTO unanswered (created_at, question, reason, index_version,"
                        " vote_key) VALUES (?, ?, 'thumbs_down', ?, ?)",
                        (utc_now(), question, index_version, vote_key),
                    )

        self._retry(run)

    def log_unanswered(self, *, question: str, reason: Reason, index_version: str) -> int | None:
        """Log a question the corpus did not answer; its row id, or None when not logging."""
        _require_text(question, "the question")
        if reason not in REASONS:
            raise InputError(f"reason must be one of {REASONS}, got {reason!r}")
        if not self.log_questions:
            return None
        return self._write(
            "INSERT INTO unanswered (created_at, question, reason, index_version)"
            " VALUES (?, ?, ?, ?) RETURNING id",
            (utc_now(), question, reason, index_version),
        )

    def add_label(
        self,
        *,
        question: str,
        history: Sequence[str] = (),
        passage_id: str,
        passage_text: str,
        relevant: bool,
        index_version: str,
    ) -> int:
        """Record whether a passage answers a question; re-labelling the same
        (question, history, passage_id, index_version) replaces the earlier label. Returns its id.
        """
        _require_text(question, "the question")
        if isinstance(history, str):
            raise InputError("history must be a sequence of earlier questions, not one string")
        return self._write(
            "INSERT INTO labels (created_at, question, history, passage_id, passage_text,"
            " relevant, index_version) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (question, history, passage_id, index_version) DO UPDATE SET"
            " created_at = excluded.created_at, passage_text = excluded.passage_text,"
            " relevant = excluded.relevant RETURNING id",
            (
                utc_now(),
                question,
                json.dumps(list(history), ensure_ascii=False),
                passage_id,
                passage_text,
                int(bool(relevant)),
                index_version,
            ),
        )

    # -- reads --------------------------------------------------------------------------------

    def unanswered(self, *, since: str | None = None, limit: int = 1000) -> list[UnansweredRow]:
        """Questions logged at or after ``since`` (ISO 8601, naive means UTC), newest first."""
        _require_limit(limit)
        where, params = ("WHERE created_at >= ?", [_normalise_since(since)]) if since else ("", [])
        rows = self._read(
            f"SELECT * FROM unanswered {where} ORDER BY created_at DESC, id DESC LIMIT ?",
            [*params, limit],
        )
        return [UnansweredRow(**dict(r)) for r in rows]

    def feedback(self, limit: int = 1000) -> list[FeedbackRow]:
        """The latest votes, newest first."""
        _require_limit(limit)
        rows = self._read(
            "SELECT * FROM feedback ORDER BY created_at DESC, id DESC LIMIT ?", [limit]
        )
        return [
            FeedbackRow(**{**dict(r), "passage_ids": tuple(json.loads(r["passage_ids"]))})
            for r in rows
        ]

    def labels(self, *, index_version: str | None = None) -> list[LabelRow]:
        """Every label (or those made on one index version), oldest first."""
        where, params = ("WHERE index_version = ?", [index_version]) if index_version else ("", [])
        rows = self._read(f"SELECT * FROM labels {where} ORDER BY created_at, id", params)
        return [
            LabelRow(
                **{
                    **dict(r),
                    "history": tuple(json.loads(r["history"])),
                    "relevant": bool(r["relevant"]),
                }
            )
            for r in rows
        ]

    def counts(self) -> dict[str, int]:
        """Row counts for the staff view and health checks."""
        row = self._read(
            "SELECT"
            " (SELECT count(*) FROM feedback),"
            " (SELECT count(*) FROM feedback WHERE vote = 'up'),"
            " (SELECT count(*) FROM feedback WHERE vote = 'down'),"
            " (SELECT count(*) FROM labels),"
            " (SELECT count(*) FROM labels WHERE relevant = 1),"
            " (SELECT count(*) FROM unanswered),"
            " (SELECT count(*) FROM unanswered WHERE reason = 'abstained'),"
            " (SELECT count(*) FROM unanswered WHERE reason = 'thumbs_down')"
        )[0]
        names = (
            "feedback",
            "feedback_up",
            "feedback_down",
            "labels",
            "labels_relevant",
            "unanswered",
            "unanswered_abstained",
            "unanswered_thumbs_down",
        )
        return dict(zip(names, (int(value) for value in row), strict=True))

