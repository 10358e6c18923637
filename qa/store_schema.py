"""The tables of the feedback store, the ordered migrations that build them, and the rows read back.

Kept apart from :mod:`qa.store` so the schema's history reads in one place. Never edit a released
migration: append a new one (and a field to the row it changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Vote = Literal["up", "down"]
Reason = Literal["abstained", "thumbs_down", "partly_covered"]
VOTES: tuple[Vote, ...] = ("up", "down")
REASONS: tuple[Reason, ...] = ("abstained", "thumbs_down", "partly_covered")


@dataclass(frozen=True)
class Migration:
    """One step of the schema: applied once, in order, when a store is opened."""

    version: int
    summary: str
    statements: tuple[str, ...]


# Never edit a released migration: add a new one. Statements run in one transaction with the
# new user_version, so a store is either fully at a version or untouched.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "feedback votes, staff labels, unanswered questions",
        (
            """CREATE TABLE feedback (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                created_at TEXT NOT NULL,
                question TEXT,
                effective_query TEXT,
                passage_ids TEXT NOT NULL,
                vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
                index_version TEXT NOT NULL,
                answer_id TEXT
            )""",
            """CREATE TABLE labels (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                created_at TEXT NOT NULL,
                question TEXT NOT NULL,
                history TEXT NOT NULL,
                passage_id TEXT NOT NULL,
                passage_text TEXT NOT NULL,
                relevant INTEGER NOT NULL CHECK (relevant IN (0, 1)),
                index_version TEXT NOT NULL,
                UNIQUE (question, history, passage_id, index_version)
            )""",
            """CREATE TABLE unanswered (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                created_at TEXT NOT NULL,
                question TEXT NOT NULL,
                reason TEXT NOT NULL CHECK (reason IN ('abstained', 'thumbs_down')),
                index_version TEXT NOT NULL
            )""",
        ),
    ),
    Migration(
        2,
        "optional visitor comment on a vote; time indexes for the staff views",
        (
            "ALTER TABLE feedback ADD COLUMN comment TEXT",
            "CREATE INDEX unanswered_created_at ON unanswered (created_at)",
            "CREATE INDEX feedback_created_at ON feedback (created_at)",
        ),
    ),
    Migration(
        3,
        "one vote per answer shown: a key that a changed or withdrawn vote replaces",
        (
            "ALTER TABLE feedback ADD COLUMN vote_key TEXT",
            "CREATE UNIQUE INDEX feedback_vote_key ON feedback (vote_key)"
            " WHERE vote_key IS NOT NULL",
            "ALTER TABLE unanswered ADD COLUMN vote_key TEXT",
            "CREATE INDEX unanswered_vote_key ON unanswered (vote_key)",
        ),
    ),
    Migration(
        4,
        "answers shown with a caution: reason 'partly_covered' and the words the articles never"
        " mention (SQLite cannot alter a CHECK, so the table is rebuilt, ids and rows kept)",
        (
            """CREATE TABLE unanswered_v4 (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                created_at TEXT NOT NULL,
                question TEXT NOT NULL,
                reason TEXT NOT NULL
                    CHECK (reason IN ('abstained', 'thumbs_down', 'partly_covered')),
                index_version TEXT NOT NULL,
                vote_key TEXT,
                missing_words TEXT
            )""",
            "INSERT INTO unanswered_v4 (id, created_at, question, reason, index_version, vote_key)"
            " SELECT id, created_at, question, reason, index_version, vote_key FROM unanswered",
            "DROP TABLE unanswered",
            "ALTER TABLE unanswered_v4 RENAME TO unanswered",
            "CREATE INDEX unanswered_created_at ON unanswered (created_at)",
            "CREATE INDEX unanswered_vote_key ON unanswered (vote_key)",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


@dataclass(frozen=True)
class FeedbackRow:
    """A visitor's vote on one answer. ``question`` etc. are None when questions were not logged."""

    id: int
    created_at: str
    question: str | None
    effective_query: str | None
    passage_ids: tuple[str, ...]
    vote: Vote
    index_version: str
    answer_id: str | None
    comment: str | None
    vote_key: str | None = None  # one per answer shown; None for votes stored before v3


@dataclass(frozen=True)
class UnansweredRow:
    """A question the bot abstained on, whose answer got a thumbs down, or whose answer came with
    a caution naming words the articles never mention ("partly_covered")."""

    id: int
    created_at: str
    question: str
    reason: Reason
    index_version: str
    vote_key: str | None = None  # the thumbs down that logged it, if one did
    #: for "partly_covered": the question's words the articles never mention (JSON in the file)
    missing_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelRow:
    """A staff judgement: does this passage answer this question (after this history)?"""

    id: int
    created_at: str
    question: str
    history: tuple[str, ...]
    passage_id: str
    passage_text: str
    relevant: bool
    index_version: str
