"""The feedback store: round trips, privacy switch, labels and exports, migrations, concurrency."""

from __future__ import annotations

import csv
import io
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import qa.store_db as store_db
from qa.errors import EmptyQuestionError, InputError, QAError
from qa.staff_reports import qrels, query_id, question_set, unanswered_csv
from qa.store import Store, StoreError, StoreVersionError
from qa.store_schema import MIGRATIONS, SCHEMA_VERSION, Vote


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "data" / "qa.sqlite3") as opened:
        yield opened


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection, to look at the file the way another program would."""
    return sqlite3.connect(path, isolation_level=None)


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


# -- opening ------------------------------------------------------------------------------------


def test_open_creates_the_folder_a_wal_database_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "data" / "qa.sqlite3"
    Store(path).close()
    conn = raw(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_migrations_are_numbered_one_by_one_from_one() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert MIGRATIONS[-1].version == SCHEMA_VERSION


def test_rows_survive_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "qa.sqlite3"
    with Store(path) as first:
        first.log_unanswered(question="Is it legal?", reason="abstained", index_version="v1")
    with Store(path) as second:
        assert [row.question for row in second.unanswered()] == ["Is it legal?"]


def test_a_closed_store_refuses_calls(store: Store) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.counts()


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    conn = raw(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    with pytest.raises(StoreError, match="not a qa store"):
        Store(path)
    assert columns(raw(path), "notes") == ["body"]
    assert raw(path).execute("PRAGMA user_version").fetchone()[0] == 0
    assert raw(path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "qa.sqlite3"
    path.write_bytes(b"this is not sqlite, just some bytes " * 100)
    with pytest.raises(StoreError):
        Store(path)


# -- feedback and the unanswered log ---------------------------------------------------------


def test_feedback_round_trip_newest_first(store: Store) -> None:
    first = store.record_feedback(
        question="What is ketamine?",
        effective_query="what is ketamine",
        passage_ids=["p1", "p2"],
        vote="up",
        index_version="v1",
        answer_id="a1",
    )
    second = store.record_feedback(
        question="Side effects?",
        effective_query="ketamine side effects",
        passage_ids=[],
        vote="down",
        index_version="v1",
        comment="nothing about nausea",
    )
    rows = store.feedback()
    assert [row.id for row in rows] == [second, first]
    assert rows[0].vote == "down" and rows[0].comment == "nothing about nausea"
    assert rows[0].passage_ids == () and rows[0].answer_id is None
    assert rows[1].passage_ids == ("p1", "p2") and rows[1].answer_id == "a1"
    assert rows[1].effective_query == "what is ketamine"
    assert rows[1].created_at.endswith("+00:00")
    with pytest.raises(AttributeError):
        rows[0].vote = "up"  # type: ignore[misc]
    assert [row.id for row in store.feedback(limit=1)] == [second]


def test_bad_input_is_an_input_error(store: Store) -> None:
    common = {"effective_query": "q", "passage_ids": [], "index_version": "v1"}
    with pytest.raises(InputError, match="vote"):
        store.record_feedback(question="q", vote="meh", **common)  # type: ignore[arg-type]
    with pytest.raises(EmptyQuestionError):
        store.record_feedback(question="  ", vote="up", **common)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="reason"):
        store.log_unanswered(question="q", reason="bored", index_version="v1")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="limit"):
        store.unanswered(limit=0)
    with pytest.raises(InputError, match="1 to 1,000,000"):
        store.unanswered(limit=10**20)  # past SQLite's integers: a message, not its error
    with pytest.raises(InputError, match="ISO"):
        store.unanswered(since="last tuesday")
    with pytest.raises(ValueError):
        store.add_label(
            question="q",
            history="one string",
            passage_id="p",
            passage_text="t",
            relevant=True,
            index_version="v1",
        )
    assert store.counts()["feedback"] == 0 and store.counts()["labels"] == 0


def test_unanswered_newest_first_with_since_and_limit(store: Store) -> None:
    for i, reason in enumerate(["abstained", "thumbs_down", "abstained"]):
        store.log_unanswered(question=f"q{i}", reason=reason, index_version="v1")  # type: ignore[arg-type]
    conn = raw(store.path)  # pin the times, to test `since` without waiting
    for i, moment in enumerate(
        ["2024-01-01T10:00:00", "2024-01-02T10:00:00", "2024-01-03T10:00:00"]
    ):
        conn.execute(
            "UPDATE unanswered SET created_at = ? WHERE question = ?",
            (moment + ".000000+00:00", f"q{i}"),
        )
    assert [row.question for row in store.unanswered()] == ["q2", "q1", "q0"]
    assert [row.question for row in store.unanswered(limit=2)] == ["q2", "q1"]
    assert [row.question for row in store.unanswered(since="2024-01-02T10:00:00")] == ["q2", "q1"]
    # 11:00 at UTC+01:00 is 10:00 UTC: offsets are honoured, naive times mean UTC
    assert [row.question for row in store.unanswered(since="2024-01-02T11:00:00+01:00")] == [
        "q2",
        "q1",
    ]
    assert [row.question for row in store.unanswered(since="2024-01-02T10:00:01")] == ["q2"]
    assert store.unanswered()[1].reason == "thumbs_down"


def test_counts(store: Store) -> None:
    votes: tuple[Vote, ...] = ("up", "up", "down")
    for vote in votes:
        store.record_feedback(
            question="q", effective_query="q", passage_ids=["p"], vote=vote, index_version="v1"
        )
    store.log_unanswered(question="q", reason="abstained", index_version="v1")
    store.log_unanswered(
        question="q", reason="partly_covered", index_version="v1", missing_words=["w"]
    )
    store.add_label(
        question="q", passage_id="p", passage_text="t", relevant=True, index_version="v1"
    )
    store.add_label(
        question="q", passage_id="p2", passage_text="t2", relevant=False, index_version="v1"
    )
    assert store.counts() == {
        "feedback": 3,
        "feedback_up": 2,
        "feedback_down": 1,
        "labels": 2,
        "labels_relevant": 1,
        "unanswered": 2,
        "unanswered_abstained": 1,
        "unanswered_thumbs_down": 0,
        "unanswered_partly_covered": 1,
    }


def test_a_partly_covered_answer_keeps_the_words_its_caution_named(store: Store) -> None:
    store.log_unanswered(
        question="safe while pregnant or driving?", reason="partly_covered",
        index_version="v1", missing_words=["pregnant", "driving"],
    )
    (row,) = store.unanswered()
    assert (row.reason, row.missing_words) == ("partly_covered", ("pregnant", "driving"))
    with pytest.raises(InputError, match="partly_covered"):
        store.log_unanswered(question="q", reason="partly_covered", index_version="v1")
    with pytest.raises(InputError, match="partly_covered"):
        store.log_unanswered(
            question="q", reason="abstained", index_version="v1", missing_words=["w"]
        )
    assert len(store.unanswered()) == 1


# -- privacy ------------------------------------------------------------------------------------


def test_no_column_could_hold_personal_data(store: Store) -> None:
    conn = raw(store.path)
    names = {c for table in ("feedback", "labels", "unanswered") for c in columns(conn, table)}
    assert not {
        name for name in names if any(w in name for w in ("ip", "user", "session", "agent"))
    }


def test_with_logging_off_votes_are_kept_without_any_visitor_text(tmp_path: Path) -> None:
    path = tmp_path / "qa.sqlite3"
    secret = "my neighbour Alice Smith takes ketamine"
    with Store(path, log_questions=False) as store:
        assert store.log_unanswered(question=secret, reason="abstained", index_version="v1") is None
        store.record_feedback(
            question=secret,
            effective_query=secret,
            passage_ids=["p9"],
            vote="down",
            index_version="v1",
            comment=secret,
        )
        assert store.unanswered() == []
        (row,) = store.feedback()
        assert (row.question, row.effective_query, row.comment) == (None, None, None)
        assert (row.vote, row.passage_ids, row.index_version) == ("down", ("p9",), "v1")
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"Alice" not in stored


# -- labels and exports --------------------------------------------------------------------------


def test_relabelling_the_same_key_replaces_the_label(store: Store) -> None:
    def label(text: str, relevant: bool, index_version: str) -> int:
        return store.add_label(
            question="Dose?",
            history=["What is it?"],
            passage_id="p1",
            passage_text=text,
            relevant=relevant,
            index_version=index_version,
        )

    first = label("old", True, "v1")
    again = label("new", False, "v1")
    other_index = label("new", True, "v2")
    other_history = store.add_label(
        question="Dose?", passage_id="p1", passage_text="new", relevant=True, index_version="v1"
    )
    assert again == first
    assert len({first, other_index, other_history}) == 3
    labels = {(label.history, label.index_version): label for label in store.labels()}
    assert len(labels) == 3
    replaced = labels[(("What is it?",), "v1")]
    assert (replaced.relevant, replaced.passage_text) == (False, "new")
    assert [label.index_version for label in store.labels(index_version="v2")] == ["v2"]


def test_question_set_export(store: Store) -> None:
    label = store.add_label
    label(question="Q1", passage_id="a", passage_text="A text", relevant=True, index_version="v1")
    label(question="Q1", passage_id="b", passage_text="B text", relevant=True, index_version="v1")
    label(question="Q1", passage_id="c", passage_text="C text", relevant=False, index_version="v1")
    # the same words after another question are another question
    label(
        question="Q1",
        history=["Q0"],
        passage_id="c",
        passage_text="C text",
        relevant=True,
        index_version="v1",
    )
    # all judged passages irrelevant: left out of the question set, kept in the qrels
    label(question="Q2", passage_id="a", passage_text="A text", relevant=False, index_version="v1")
    assert question_set(store.labels()) == [
        {"id": query_id("Q1"), "question": "Q1", "history": [], "evidence": ["A text", "B text"]},
        {"id": query_id("Q1", ["Q0"]), "question": "Q1", "history": ["Q0"], "evidence": ["C text"]},
    ]
    assert query_id("Q1") != query_id("Q1", ["Q0"])
    assert sorted(qrels(store.labels())) == sorted(
        [
            (query_id("Q1"), "a", 1),
            (query_id("Q1"), "b", 1),
            (query_id("Q1"), "c", 0),
            (query_id("Q1", ["Q0"]), "c", 1),
            (query_id("Q2"), "a", 0),
        ]
    )


def test_the_latest_label_wins_across_index_versions(store: Store) -> None:
    store.add_label(
        question="Q", passage_id="a", passage_text="A", relevant=True, index_version="v1"
    )
    store.add_label(
        question="Q", passage_id="a", passage_text="A", relevant=False, index_version="v2"
    )
    assert qrels(store.labels()) == [(query_id("Q"), "a", 0)]
    assert question_set(store.labels()) == []
    assert qrels(store.labels(index_version="v1")) == [(query_id("Q"), "a", 1)]
    assert question_set(store.labels(index_version="v1"))[0]["evidence"] == ["A"]


def test_query_ids_are_stable_across_runs() -> None:
    # a fixed value: changing how ids are made would orphan every exported qrels file
    assert query_id("What is ketamine?") == "4783f55b0311f664"
    assert query_id("What is ketamine?") == query_id("What is ketamine?", [])
    assert len(query_id("What is ketamine?")) == 16
    assert query_id("a", ["b"]) != query_id("a", ["b", ""])


def test_unanswered_csv_quotes_and_defuses_formulas(store: Store) -> None:
    store.log_unanswered(
        question='Dose, "per kg"?\nsecond line', reason="abstained", index_version="v1"
    )
    store.log_unanswered(
        question='=HYPERLINK("http://x")', reason="thumbs_down", index_version="v1"
    )
    text = unanswered_csv(store.unanswered())
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "created_at", "reason", "question", "index_version", "missing_words"]
    assert [row[3] for row in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        'Dose, "per kg"?\nsecond line',
    ]
    assert [row[2] for row in rows[1:]] == ["thumbs_down", "abstained"]
    only_first = unanswered_csv(store.unanswered()[1:])
    assert len(list(csv.reader(io.StringIO(only_first)))) == 2


# -- migrations ---------------------------------------------------------------------------------

# Written out by hand, not taken from MIGRATIONS: this is what a released v1 file looks like.
V1_SCHEMA = [
    """CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,
        question TEXT, effective_query TEXT, passage_ids TEXT NOT NULL,
        vote TEXT NOT NULL CHECK (vote IN ('up', 'down')), index_version TEXT NOT NULL,
        answer_id TEXT)""",
    """CREATE TABLE labels (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,
        question TEXT NOT NULL, history TEXT NOT NULL, passage_id TEXT NOT NULL,
        passage_text TEXT NOT NULL, relevant INTEGER NOT NULL CHECK (relevant IN (0, 1)),
        index_version TEXT NOT NULL, UNIQUE (question, history, passage_id, index_version))""",
    """CREATE TABLE unanswered (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,
        question TEXT NOT NULL, reason TEXT NOT NULL
        CHECK (reason IN ('abstained', 'thumbs_down')), index_version TEXT NOT NULL)""",
]


def test_set_vote_keeps_one_vote_per_answer_whatever_the_order(store: Store) -> None:
    def vote(key: str, value: str | None) -> None:
        store.set_vote(vote_key=key, vote=value, question="q", effective_query="q",  # type: ignore[arg-type]
                       passage_ids=["p1"], index_version="v1")

    for value in ("up", "down", "up", "down"):  # clicks in quick succession
        vote("answer-1", value)
    vote("answer-2", "up")
    assert sorted((r.vote_key, r.vote) for r in store.feedback()) == [
        ("answer-1", "down"), ("answer-2", "up")
    ]
    assert [(u.reason, u.vote_key) for u in store.unanswered()] == [("thumbs_down", "answer-1")]
    vote("answer-1", None)  # withdrawn: its vote and its thumbs-down entry go
    assert [r.vote_key for r in store.feedback()] == ["answer-2"] and store.unanswered() == []
    store.set_vote(vote_key="answer-3", vote="down", question="q", effective_query="q",
                   passage_ids=[], index_version="v1", log_thumbs_down=False)
    assert store.unanswered() == []  # a "not covered" reply was logged when it was shown


def test_a_v1_database_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "qa.sqlite3"
    conn = raw(path)
    for statement in V1_SCHEMA:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO feedback VALUES (7, '2024-05-01T09:00:00.000000+00:00', 'old q', 'old q',"
        " '[\"p1\"]', 'down', 'v0', NULL)"
    )
    conn.execute(
        "INSERT INTO labels VALUES (3, '2024-05-01T09:00:00.000000+00:00', 'old q', '[]', 'p1',"
        " 'text', 1, 'v0')"
    )
    conn.execute(
        "INSERT INTO unanswered VALUES (5, '2024-05-01T09:00:00.000000+00:00', 'old q',"
        " 'abstained', 'v0')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.close()

    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 4
        (old,) = store.feedback()
        assert (old.id, old.question, old.passage_ids, old.comment) == (7, "old q", ("p1",), None)
        assert [row.id for row in store.unanswered()] == [5]
        # The rebuilt table keeps counting ids from where the old one was.
        later = store.log_unanswered(
            question="is it safe while pregnant", reason="partly_covered", index_version="v1",
            missing_words=["pregnant"],
        )
        assert later == 6 and store.unanswered()[0].missing_words == ("pregnant",)
        assert [label.id for label in store.labels()] == [3]
        new = store.record_feedback(
            question="new q",
            effective_query="new q",
            passage_ids=[],
            vote="up",
            index_version="v1",
            comment="thanks",
        )
        assert new == 8 and store.feedback()[0].comment == "thanks"

    upgraded, fresh = raw(path), raw(tmp_path / "fresh.sqlite3")
    Store(tmp_path / "fresh.sqlite3").close()
    for table in ("feedback", "labels", "unanswered"):
        assert columns(upgraded, table) == columns(fresh, table)
    indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY 1"
    assert upgraded.execute(indexes).fetchall() == fresh.execute(indexes).fetchall()
    assert len(fresh.execute(indexes).fetchall()) == 4


def test_a_newer_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "qa.sqlite3"
    Store(path).close()
    conn = raw(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreVersionError, match="newer") as caught:
        Store(path)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, QAError)
    assert path.read_bytes() == before
    assert raw(path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


# -- locks and concurrency -----------------------------------------------------------------------


def test_a_write_waits_out_a_lock_through_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_MS", 10)  # so the retry path is taken
    store = Store(tmp_path / "qa.sqlite3")
    blocker = raw(store.path)
    blocker.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def sleep_then_release(seconds: float) -> None:
        # the first backoff releases the lock: the write must then go through, not fail
        if not released.is_set():
            blocker.execute("ROLLBACK")
            released.set()

    monkeypatch.setattr(store_db.time, "sleep", sleep_then_release)
    store.log_unanswered(question="q", reason="abstained", index_version="v1")
    assert released.is_set()
    assert store.counts()["unanswered"] == 1


def test_a_lock_that_never_clears_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_MS", 10)
    monkeypatch.setattr(store_db, "LOCK_RETRIES", 2)
    monkeypatch.setattr(store_db.time, "sleep", lambda seconds: None)
    store = Store(tmp_path / "qa.sqlite3")
    blocker = raw(store.path)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match="locked"):
        store.log_unanswered(question="q", reason="abstained", index_version="v1")
    blocker.execute("ROLLBACK")
    store.log_unanswered(question="q", reason="abstained", index_version="v1")  # usable again
    assert store.counts()["unanswered"] == 1


def test_twenty_threads_writing_at_once_lose_nothing(store: Store) -> None:
    threads, writes = 20, 100
    start = threading.Barrier(threads)
    ids: list[list[int | None]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(writes):
                if i % 2:
                    ids[t].append(
                        store.log_unanswered(
                            question=f"t{t} q{i}", reason="abstained", index_version="v1"
                        )
                    )
                else:
                    store.record_feedback(
                        question=f"t{t} q{i}",
                        effective_query="",
                        passage_ids=[str(t)],
                        vote="up",
                        index_version="v1",
                    )
        except BaseException as error:  # surfaced below: a thread's exception is otherwise lost
            errors.append(error)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    counts = store.counts()
    assert counts["feedback"] == counts["unanswered"] == threads * writes // 2
    every_id = [i for per_thread in ids for i in per_thread]
    assert len(set(every_id)) == len(every_id) == threads * writes // 2
    questions = {row.question for row in store.unanswered(limit=10_000)}
    assert len(questions) == threads * writes // 2


def _write_from_a_process(path: str, worker: int, writes: int, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    with Store(Path(path)) as store:  # every process opens (and migrates) the fresh file at once
        for i in range(writes):
            store.record_feedback(
                question=f"w{worker} q{i}",
                effective_query="",
                passage_ids=[],
                vote="down",
                index_version="v1",
            )


def test_four_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path, processes, writes = tmp_path / "qa.sqlite3", 4, 100
    context = multiprocessing.get_context("spawn")  # a clean interpreter, as separate app workers
    start = context.Barrier(processes)
    workers = [
        context.Process(target=_write_from_a_process, args=(str(path), w, writes, start))
        for w in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0] * processes
    with Store(path) as store:
        assert store.counts()["feedback"] == processes * writes
        assert len({row.question for row in store.feedback(limit=10_000)}) == processes * writes
        assert store.schema_version() == SCHEMA_VERSION


def _write_in_a_forked_child(store: Store) -> None:
    store.log_unanswered(question="from the child", reason="abstained", index_version="v1")
    store.close()


def test_a_store_inherited_through_fork_opens_its_own_connection(store: Store) -> None:
    store.log_unanswered(question="from the parent", reason="abstained", index_version="v1")
    child = multiprocessing.get_context("fork").Process(
        target=_write_in_a_forked_child, args=(store,)
    )
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    # the parent's connection still works after the child wrote and closed its own
    store.log_unanswered(question="parent again", reason="abstained", index_version="v1")
    assert {row.question for row in store.unanswered()} == {
        "from the parent",
        "from the child",
        "parent again",
    }
