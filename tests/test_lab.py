"""The staff lab's data: candidate tables, strategies side by side, the document browser, label
exports that the evaluator accepts, and unanswered questions grouped with counts."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from chat_support import THRESHOLD, write_corpus
from click.testing import CliRunner

from qa.api import open_searcher
from qa.embedders import HashingEmbedder
from qa.errors import InputError
from qa.lab import (
    CANDIDATE_HEADERS,
    answer_summary,
    candidate_rows,
    document_segments,
    document_summaries,
    side_by_side,
    strategy,
)
from qa.lab_html import document_html, summary_html
from qa.records import Answer
from qa.search import Searcher
from qa.settings import SearchSettings
from qa.staff_reports import (
    group_unanswered,
    groups_csv,
    missing_word_counts,
    qrels,
    qrels_tsv,
    query_id,
    question_set,
    question_set_jsonl,
)
from qa.store import Store
from qa.store_schema import UnansweredRow

DATA = Path(__file__).parent / "data"
WATER = "How often should I water tomato plants?"
# The same paragraph in two documents: the second copy is a near-duplicate, never shown twice.
DUPLICATE = (
    "Mulch keeps the soil of a vegetable bed moist and cool in summer. Spread a layer of straw "
    "or shredded leaves five centimetres deep around the plants, leaving a gap at each stem, "
    "and top it up when it thins so that weeds stay down and the watering lasts longer."
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_corpus(tmp_path_factory.mktemp("lab") / "corpus")
    shutil.copy(DATA / "furniture_article.txt", folder / "skillet.txt")
    (folder / "mulch.txt").write_text(f"Mulching Beds\n\nMulch\n\n{DUPLICATE}\n", encoding="utf-8")
    (folder / "mulch-copy.txt").write_text(
        f"Garden Notes\n\nKeeping beds moist\n\n{DUPLICATE}\n", encoding="utf-8"
    )
    return folder


@pytest.fixture(scope="module")
def searcher(corpus: Path) -> Searcher:
    return open_searcher(
        corpus,
        corpus.parent / "index",
        embedder=HashingEmbedder(),
        search_settings=SearchSettings(abstain_threshold=THRESHOLD),
    )


def ask(searcher: Searcher, question: str, k: int = 3, mode: str = "hybrid") -> Answer:
    return searcher.search(question, k=k, mode=mode, with_candidates=True)  # type: ignore[arg-type]


# --- the candidate table ---------------------------------------------------------------------


def test_rows_carry_each_retrievers_scores_ranks_and_the_cleared_flag(searcher: Searcher) -> None:
    answer = ask(searcher, WATER)
    rows = candidate_rows(answer, 3)
    assert len(rows) == len(answer.candidates) > 3
    assert [r.order for r in rows] == list(range(1, len(rows) + 1))
    assert sorted(r.fused_rank or 0 for r in rows) == list(range(1, len(rows) + 1))
    assert any(r.maxsim_rank is not None for r in rows)  # re-ranked by default
    qvec = searcher.embedder.encode([answer.effective_query], "query")[0]
    row_of = searcher.index.passage_row()
    bm25_ids, bm25_scores = searcher.index.keywords.search([answer.effective_query], 50)[0]
    bm25 = {
        int(i): (n, float(s)) for n, (i, s) in enumerate(zip(bm25_ids, bm25_scores, strict=True), 1)
    }
    for row in rows:
        vector = searcher.index.dense.vectors[row_of[row.passage_id]]
        # The dense score is the exact cosine, for BM25-only candidates too.
        assert row.dense_score == pytest.approx(float(vector @ qvec), abs=1e-5)
        assert row.cleared == (row.dense_score >= THRESHOLD)
        if row.bm25_rank is not None:
            assert (row.bm25_rank, row.bm25_score) == pytest.approx(bm25[row_of[row.passage_id]])
        assert row.dense_rank is not None or row.bm25_rank is not None
        assert (row.status == "below threshold") == (not row.cleared)
    shown = [r for r in rows if r.status == "shown"]
    assert [r.passage_id for r in shown] == [h.passage.passage_id for h in answer.hits]
    assert [r.final_rank for r in shown] == [1, 2, 3][: len(shown)]
    assert rows[0].section == "Watering" and rows[0].final_rank == 1
    assert len(rows[0].cells()) == len(CANDIDATE_HEADERS)
    assert any(not r.cleared for r in rows)  # the table shows what abstention would drop
    # The second stage's evidence: what it ordered by, and (no history) own words = question.
    head = [r for r in rows if r.maxsim_rank is not None]
    assert [r.reranked_score for r in head] == sorted(
        (r.reranked_score for r in head), reverse=True  # type: ignore[arg-type]
    )
    assert all(r.own_maxsim_score == pytest.approx(r.maxsim_score) for r in head)
    # No example questions in this corpus: a passage stands in for its own example.
    assert all(r.example_score == pytest.approx(r.dense_score) for r in head)
    assert all(r.reranked_score is None and r.own_dense_score is None
               and r.example_score is None for r in rows if r.maxsim_rank is None)


def test_status_tells_a_near_duplicate_from_a_candidate_beyond_k(searcher: Searcher) -> None:
    question = "How deep should straw mulch be spread to keep the vegetable bed soil moist?"
    rows = candidate_rows(ask(searcher, question, k=5), 5)
    copies = [r for r in rows if r.text == DUPLICATE]
    assert len(copies) == 2
    assert sorted(r.status for r in copies) == ["near-duplicate", "shown"]
    rows = candidate_rows(ask(searcher, question, k=1), 1)
    first_copy = next(r for r in rows if r.text == DUPLICATE)
    assert first_copy.final_rank == 1
    later = [r for r in rows if r.cleared and r.final_rank is None]
    assert later and all(r.status == "beyond k" for r in later)


def test_an_answer_without_candidates_is_refused(searcher: Searcher) -> None:
    with pytest.raises(InputError, match="with_candidates"):
        candidate_rows(searcher.search(WATER, k=3), 3)


def test_an_abstention_still_lists_every_candidate_as_below_threshold(searcher: Searcher) -> None:
    answer = ask(searcher, "Explain quantum chromodynamics lattice gauge theory")
    assert answer.abstained
    rows = candidate_rows(answer, 3)
    assert rows and {r.status for r in rows} == {"below threshold"}


def test_summary_shows_the_effective_query_of_a_follow_up(searcher: Searcher) -> None:
    answer = searcher.search(
        "and how often in hot weather?",
        history=["watering tomato plants"],
        k=3,
        with_candidates=True,
    )
    html = summary_html(
        {
            "question": answer.question,
            "effective_query": answer.effective_query,
            "strategy": "hybrid",
            "k": 3,
            "abstained": answer.abstained,
            "shown": len(answer.hits),
            "candidates": len(answer.candidates),
            "cleared": 1,
            "index_version": answer.index_version,
        }
    )
    assert answer.effective_query != answer.question
    assert f"<code>{answer.effective_query}</code>" in html
    assert "No second stage." in html  # this summary names no weights


def test_summary_names_the_weights_the_second_stage_ordered_by(searcher: Searcher) -> None:
    answer = searcher.search("how often should tomatoes be watered", k=3, with_candidates=True)
    weights = searcher.second_stage_weights()
    assert weights == searcher.settings.reranker_weights() and weights  # on by default
    html = summary_html(answer_summary(answer, "hybrid", 3, weights))
    assert "Second stage orders the first candidates by: fused +1.00, maxsim +1.00." in html
    learned = Searcher(searcher.index, searcher.embedder, replace(
        searcher.settings, rerank_features=(("maxsim_own", 0.8), ("bm25", -0.25))))
    shown = summary_html(answer_summary(answer, "hybrid", 3, learned.second_stage_weights()))
    assert "maxsim_own +0.80, bm25 -0.25" in shown
    # Where the stage does not run (a single retriever, or weight 0) the summary says so.
    assert searcher.second_stage_weights("dense") == {}
    off = Searcher(searcher.index, searcher.embedder, replace(searcher.settings, rerank_weight=0))
    assert "No second stage." in summary_html(answer_summary(answer, "hybrid", 3,
                                                            off.second_stage_weights()))


# --- strategies side by side -----------------------------------------------------------------


def test_side_by_side_lines_up_two_strategies(searcher: Searcher) -> None:
    a = candidate_rows(ask(searcher, WATER, mode="dense"), 3)
    b = candidate_rows(ask(searcher, WATER, mode="bm25"), 3)
    pairs = side_by_side(a, b)
    assert {p.passage_id for p in pairs} == {r.passage_id for r in a} | {r.passage_id for r in b}
    by_a = {r.passage_id: r for r in a}
    by_b = {r.passage_id: r for r in b}
    for pair in pairs:
        assert pair.order_a == (
            by_a[pair.passage_id].order if pair.passage_id in by_a else None
        )
        assert pair.final_b == (
            by_b[pair.passage_id].final_rank if pair.passage_id in by_b else None
        )
        if pair.order_a and pair.order_b:
            assert pair.change == pair.order_a - pair.order_b
    shown = [p for p in pairs if p.final_a or p.final_b]
    assert pairs[: len(shown)] == shown  # passages either strategy showed come first


def test_strategies_map_to_modes_and_fusion() -> None:
    base = SearchSettings(fusion="convex")
    assert strategy("dense", base) == ("dense", base)
    mode, settings = strategy("hybrid (rrf)", base)
    assert mode == "hybrid" and settings.fusion == "rrf" and settings.k == base.k
    with pytest.raises(InputError, match="unknown strategy"):
        strategy("reranked", base)


# --- the document browser --------------------------------------------------------------------


def test_document_browser_shows_passages_and_the_dropped_furniture(searcher: Searcher) -> None:
    index = searcher.index
    summaries = {s.source: s for s in document_summaries(index)}
    skillet = summaries["skillet.txt"]
    document = index.documents[skillet.doc_id]
    assert skillet.dropped_spans == len(document.dropped) > 0
    assert skillet.passages == sum(p.doc_id == skillet.doc_id for p in index.passages)
    segments = document_segments(index, skillet.doc_id)
    starts = [s.start for s in segments]
    assert starts == sorted(starts)
    for seg in segments:
        assert seg.text == document.text[seg.start : seg.end]
    dropped = [(s.start, s.end, s.label) for s in segments if s.kind == "dropped"]
    assert dropped == [(d.start, d.end, d.reason) for d in document.dropped]
    assert any("Share this article" in s.text for s in segments if s.kind == "dropped")
    assert [s.passage_id for s in segments if s.kind == "passage"] == [
        p.passage_id for p in index.passages if p.doc_id == skillet.doc_id
    ]
    # Every visible character of the document is in exactly one segment.
    covered = np.zeros(len(document.text), dtype=int)
    for seg in segments:
        covered[seg.start : seg.end] += 1
    visible = np.array([not c.isspace() for c in document.text])
    assert (covered[visible] == 1).all()
    with pytest.raises(InputError):
        document_segments(index, "no-such-document")


def test_document_view_is_escaped_and_one_markdown_block(searcher: Searcher) -> None:
    compost = next(s for s in document_summaries(searcher.index) if s.source == "compost.txt")
    text = searcher.index.documents[compost.doc_id].text
    html = document_html(text, document_segments(searcher.index, compost.doc_id))
    assert "<script>" in text and "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "\n" not in html  # one line: Markdown passes it through
    assert html.count('class="lab-n"') == sum(
        p.doc_id == compost.doc_id for p in searcher.index.passages
    )


# --- labels become regression tests ----------------------------------------------------------


def test_labels_export_a_question_set_the_evaluator_accepts(
    searcher: Searcher, tmp_path: Path
) -> None:
    from qa.beir import read_qrels
    from qa.questions import evaluate_questions, load_questions

    answer = ask(searcher, WATER)
    top, other = answer.hits[0].passage, answer.hits[1].passage
    version = searcher.index.version
    with Store(tmp_path / "qa.sqlite3") as store:
        for passage, relevant in ((top, True), (other, False)):
            store.add_label(
                question=WATER,
                passage_id=passage.passage_id,
                passage_text=passage.text,
                relevant=relevant,
                index_version=version,
            )
        questions_file = tmp_path / "labelled.jsonl"
        questions_file.write_text(question_set_jsonl(question_set(store.labels())), "utf-8")
        qrels_file = tmp_path / "qrels.tsv"
        qrels_file.write_text(qrels_tsv(qrels(store.labels())), "utf-8")
    questions = load_questions(questions_file)
    assert [(q.id, q.question, q.evidence) for q in questions] == [
        (query_id(WATER), WATER, (top.text,))
    ]
    report = evaluate_questions(searcher, questions, k=3)
    assert report["summary"]["all"]["hit@1"] == 1.0
    assert read_qrels(qrels_file) == {query_id(WATER): {top.passage_id: 1, other.passage_id: 0}}


def test_cli_exports_labels_and_unanswered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.cli import main

    with Store(tmp_path / "qa.sqlite3") as store:
        store.add_label(
            question=WATER,
            passage_id="p1",
            passage_text="Water twice a week.",
            relevant=True,
            index_version="v1",
        )
        store.log_unanswered(question="=cmd|' /C calc'!A0", reason="abstained", index_version="v1")
        store.log_unanswered(
            question="Is compost tea safe?", reason="thumbs_down", index_version="v1"
        )
        store.log_unanswered(question="is compost tea safe", reason="abstained", index_version="v1")
    runner = CliRunner()
    data = ["--data", str(tmp_path)]
    out = runner.invoke(main, ["staff", "export-labels", *data])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["evidence"] == ["Water twice a week."]
    out = runner.invoke(main, ["staff", "export-labels", "--format", "qrels", *data])
    assert out.output.splitlines()[1] == f"{query_id(WATER)}\tp1\t1"
    out = runner.invoke(main, ["staff", "unanswered", "--raw", "--csv", *data])
    assert out.exit_code == 0 and len(list(csv.reader(io.StringIO(out.output)))) == 4
    assert "'=cmd" in out.output  # a formula cell is defused
    monkeypatch.setattr("qa.embedders.default_embedder", HashingEmbedder)
    out = runner.invoke(main, ["staff", "unanswered", *data])
    groups = [json.loads(line) for line in out.output.splitlines()]
    assert [g["count"] for g in groups] == [2, 1]
    assert groups[0]["question"] == "Is compost tea safe?"
    out = runner.invoke(main, ["staff", "unanswered", "--data", str(tmp_path / "none")])
    assert out.exit_code == 1 and "no feedback store" in out.output


# --- what visitors asked that the corpus does not cover --------------------------------------


class TableEmbedder:
    """Vectors chosen by hand, so which questions group together is known exactly."""

    name = "table"
    dim = 2

    def __init__(self, table: dict[str, Sequence[float]]) -> None:
        self.table = table
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str], kind: str, **_: object) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([self.table[t] for t in texts], dtype=np.float32)


def row(
    n: int, question: str, minute: int, reason: str = "abstained", words: tuple[str, ...] = ()
) -> UnansweredRow:
    created = f"2024-05-01T10:{minute:02d}:00.000000+00:00"
    version = "v1" if minute < 30 else "v2"
    return UnansweredRow(n, created, question, reason, version, missing_words=words)  # type: ignore[arg-type]


def test_unanswered_groups_have_counts_and_come_newest_first() -> None:
    embedder = TableEmbedder(
        {
            "how much does it cost?": (1.0, 0.0),
            "what is the price": (0.9, 0.1),  # cosine 0.99 with the cost question
            "is it legal in texas?": (0.0, 1.0),
        }
    )
    rows = [
        row(1, "How much does it cost?", 1),
        row(2, "Is it legal in Texas?", 5, "thumbs_down"),
        row(3, "how much  does it COST?", 10),  # the same wording, folded: embedded once
        row(4, "What is the price", 40, "thumbs_down"),
        row(5, "Is it legal in Texas?", 20),
    ]
    groups = group_unanswered(rows, embedder, threshold=0.8)
    assert embedder.calls == [
        ["how much does it cost?", "is it legal in texas?", "what is the price"]
    ]
    assert [(g.question, g.count) for g in groups] == [
        ("How much does it cost?", 3),  # newest member at minute 40
        ("Is it legal in Texas?", 2),
    ]
    cost = groups[0]
    assert (cost.abstained, cost.thumbs_down) == (2, 1)
    assert cost.wordings == (
        "What is the price",
        "how much  does it COST?",
        "How much does it cost?",
    )
    assert cost.newest.startswith("2024-05-01T10:40") and cost.oldest.startswith("2024-05-01T10:01")
    assert cost.index_versions == ("v2", "v1")
    table = list(csv.reader(io.StringIO(groups_csv(groups))))
    assert table[0][0] == "asked" and [r[0] for r in table[1:]] == ["3", "2"]
    assert group_unanswered([], embedder) == []


def test_unanswered_grouping_reads_the_store(tmp_path: Path) -> None:
    with Store(tmp_path / "qa.sqlite3") as store:
        store.log_unanswered(question="=HYPERLINK(1)", reason="abstained", index_version="v")
        store.log_unanswered(question="tomato blight", reason="abstained", index_version="v")
        store.log_unanswered(question="Tomato blight", reason="thumbs_down", index_version="v")
        groups = group_unanswered(store.unanswered(), HashingEmbedder())
    assert [(g.question, g.count) for g in groups] == [("tomato blight", 2), ("=HYPERLINK(1)", 1)]
    assert "'=HYPERLINK(1)" in groups_csv(groups)


def test_words_the_articles_never_mention_are_counted_per_question() -> None:
    rows = [
        row(1, "is it safe while pregnant", 1, "partly_covered", ("pregnant",)),
        row(2, "Pregnant and driving: safe?", 2, "partly_covered", ("Pregnant", "driving")),
        row(3, "pregnant pregnant", 3, "partly_covered", ("pregnant", "PREGNANT")),
        row(4, "how much does it cost", 4),
    ]
    assert missing_word_counts(rows) == [("pregnant", 3), ("driving", 1)]
    embedder = TableEmbedder(
        {
            "is it safe while pregnant": (1.0, 0.0),
            "pregnant and driving: safe?": (0.95, 0.05),
            "pregnant pregnant": (0.9, 0.1),
            "how much does it cost": (0.0, 1.0),
        }
    )
    pregnant, cost = group_unanswered(rows, embedder, threshold=0.8)[::-1]
    assert (pregnant.partly_covered, pregnant.abstained) == (3, 0)
    assert pregnant.missing_words == ("pregnant", "driving")
    assert cost.missing_words == () and cost.partly_covered == 0
    header, *lines = list(csv.reader(io.StringIO(groups_csv([pregnant]))))
    assert lines[0][header.index("never mentioned")] == "pregnant, driving"


def test_summary_says_whether_a_question_was_read_as_about_the_subject() -> None:
    def summary(kept: bool, lift: float) -> str:
        answer = Answer(question="how is it given", effective_query="ketamine how is it given",
                        abstained=not kept, citations=(), subject_reading=("ketamine", lift))
        return summary_html(answer_summary(answer, "hybrid", 5, None, 0.075))

    assert (
        "It named no subject; read as a question about “ketamine”, it came +0.078 closer to a "
        "passage than “ketamine” alone (needs 0.075). "
    ) in summary(True, 0.078)
    assert "came +0.045 closer to a passage than “ketamine” alone (needs 0.075); it stays " \
        "abstained." in summary(False, 0.045)
    plain = Answer(question="q", effective_query="q", abstained=True, citations=())
    assert "named no subject" not in summary_html(answer_summary(plain, "hybrid", 5))


@pytest.mark.parametrize(
    ("own_reading", "said"),
    [
        (True, "its own words, read as a question about the subject, would be answered. "),
        (False, "would not be answered, so it is not covered. "),
        (None, None),
    ],
)
def test_summary_says_whether_a_followups_own_words_passed(
    own_reading: bool | None, said: str | None
) -> None:
    answer = Answer(question="and how do i bake bread", effective_query="is it safe and how do "
                    "i bake bread", abstained=True, citations=(), own_reading=own_reading)
    summary = answer_summary(answer, "hybrid", 5)
    assert summary["own_reading"] is own_reading
    html = summary_html(summary)
    if said is None:
        assert "topic of its own" not in html
    else:
        assert "A follow-up with a topic of its own" in html and said in html
