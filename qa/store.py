"""The durable store of visitor feedback, staff relevance labels and unanswered questions (SQLite).

It lives in a data folder apart from the index, so rebuilding the index never loses it. The
file is shared by threads and processes through :class:`qa.store_db.SQLiteFile` (WAL, a
connection per thread, short write transactions retried on a lock, migrations on open).

Privacy: a row holds the question text, a UTC time and the index version; never an IP address,
a session id or anything else about the visitor. With ``log_questions=False`` no visitor text is
kept at all: :meth:`Store.log_unanswered` does nothing, and :meth:`Store.record_feedback` keeps
the vote, the cited passage ids and the index version but not the question, the effective query
or the comment (a vote still tells staff which passages disappoint). Staff labels are staff
work, not visitor data, and are always kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from qa.errors import EmptyQuestionError, InputError
from qa.store_db import SQLiteFile, StoreError, StoreVersionError
from qa.store_schema import (
    REASONS,
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


class Store(SQLiteFile):
    """Feedback, labels and unanswered questions in one SQLite file, shared by threads, processes.

    Open it once per process and share it between threads: each thread lazily gets its own
    connection. ``path`` is always given by the entry point (by convention ``data/qa.sqlite3``).
    WAL needs a local filesystem: do not put the file on a network share.
    """

    def __init__(self, path: Path, *, log_questions: bool = True) -> None:
        self.log_questions = log_questions
        super().__init__(path)

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

    def log_unanswered(
        self,
        *,
        question: str,
        reason: Reason,
        index_version: str,
        missing_words: Sequence[str] = (),
    ) -> int | None:
        """Log a question the corpus did not (fully) answer; its row id, or None when not
        logging. ``missing_words`` are the words a "partly_covered" answer's caution named."""
        _require_text(question, "the question")
        if reason not in REASONS:
            raise InputError(f"reason must be one of {REASONS}, got {reason!r}")
        if (reason == "partly_covered") != bool(missing_words):
            raise InputError("missing words go with the reason 'partly_covered', and only there")
        if not self.log_questions:
            return None
        return self._write(
            "INSERT INTO unanswered (created_at, question, reason, index_version, missing_words)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (
                utc_now(),
                question,
                reason,
                index_version,
                json.dumps(list(missing_words)) if missing_words else None,
            ),
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
        return [
            UnansweredRow(
                **{**dict(r), "missing_words": tuple(json.loads(r["missing_words"] or "[]"))}
            )
            for r in rows
        ]

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
            " (SELECT count(*) FROM unanswered WHERE reason = 'thumbs_down'),"
            " (SELECT count(*) FROM unanswered WHERE reason = 'partly_covered')"
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
            "unanswered_partly_covered",
        )
        return dict(zip(names, (int(value) for value in row), strict=True))

