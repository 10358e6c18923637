"""The staff retrieval lab as data: every candidate of a search with each retriever's evidence,
two strategies side by side, and how each document was split into passages and furniture.

Pure functions over records, so tests check them without a browser; the Gradio wiring lives in
``staff.py``, the markup in :mod:`qa.lab_html`, and label exports and the not-covered report in
:mod:`qa.staff_reports`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, replace
from typing import Any, Literal

from qa.errors import InputError
from qa.index import CorpusIndex
from qa.records import Answer
from qa.settings import MODES, Mode, SearchSettings

Status = Literal["shown", "below threshold", "near-duplicate", "beyond k"]

# --- strategies ------------------------------------------------------------------------------

#: What staff can compare: each retrieval mode, and hybrid with either fusion rule.
STRATEGIES: tuple[str, ...] = (
    *MODES, "hybrid (rrf)", "hybrid (convex)", "hybrid (no re-ranking)"
)


def strategy(name: str, settings: SearchSettings) -> tuple[Mode, SearchSettings]:
    """The search mode and settings a strategy name stands for (settings are otherwise kept)."""
    if name in MODES:
        return name, settings
    if name == "hybrid (rrf)":
        return "hybrid", replace(settings, fusion="rrf")
    if name == "hybrid (convex)":
        return "hybrid", replace(settings, fusion="convex")
    if name == "hybrid (no re-ranking)":
        return "hybrid", replace(settings, rerank_weight=0.0)
    raise InputError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


# --- the candidate table ---------------------------------------------------------------------

CANDIDATE_HEADERS: tuple[str, ...] = (
    "final rank",
    "status",
    "passage id",
    "document",
    "section",
    "passage",
    "dense score",
    "dense rank",
    "BM25 score",
    "BM25 rank",
    "fused score",
    "fused rank",
    "MaxSim score",
    "MaxSim rank",
    "own-words dense",
    "own-words MaxSim",
    "example questions",
    "own-words example questions",
    "closest example question",
    "second-stage score",
    "order",
    "cleared",
)


@dataclass(frozen=True)
class CandidateRow:
    """One candidate passage and the evidence behind its place.

    ``dense_score`` is the passage's cosine with the query even when the dense retriever did not
    list it (``dense_rank`` is then None): abstention is judged on it. For a follow-up it is the
    cosine with the resolved question, while ``dense_rank`` comes from the search that counts
    the visitor's own words twice, so the two can disagree in order. ``fused_*`` is the first
    stage's fusion, ``maxsim_*`` the second stage's token match (None past its depth or when it
    is off). A follow-up's ``own_*`` scores are those of the visitor's own words alone (for a
    question without history they equal dense and MaxSim), and ``reranked_score`` is what the
    second stage ordered by, the weighted sum of the standardised features (:mod:`qa.rerank`).
    ``example_score`` and ``own_example_score`` are the best cosines with the passage's example
    questions (:mod:`qa.examples`; its own cosine when it has none), and ``example`` the
    closest of them (None without any). All of these are None where the second stage did not
    run. ``order`` is the strategy's final
    order before the threshold, de-duplication and k were applied, and ``status`` says which of
    those kept a candidate out of the answer.
    """

    passage_id: str
    document: str
    source: str
    section: str
    text: str
    dense_score: float | None
    dense_rank: int | None
    bm25_score: float | None
    bm25_rank: int | None
    fused_score: float | None
    fused_rank: int | None
    maxsim_score: float | None
    maxsim_rank: int | None
    own_dense_score: float | None
    own_maxsim_score: float | None
    example_score: float | None
    own_example_score: float | None
    example: str | None
    reranked_score: float | None
    order: int
    final_rank: int | None
    cleared: bool
    status: Status

    def cells(self, width: int = 300) -> list[Any]:
        """The row as :data:`CANDIDATE_HEADERS` cells, the passage cut to ``width`` characters."""
        return [
            self.final_rank,
            self.status,
            self.passage_id,
            self.document,
            self.section,
            preview(self.text, width),
            _round(self.dense_score),
            self.dense_rank,
            _round(self.bm25_score),
            self.bm25_rank,
            _round(self.fused_score),
            self.fused_rank,
            _round(self.maxsim_score),
            self.maxsim_rank,
            _round(self.own_dense_score),
            _round(self.own_maxsim_score),
            _round(self.example_score),
            _round(self.own_example_score),
            self.example,
            _round(self.reranked_score),
            self.order,
            self.cleared,
        ]


def candidate_rows(answer: Answer, k: int) -> list[CandidateRow]:
    """Every candidate of ``answer`` (searched ``with_candidates=True``) in the strategy's order.

    ``k`` is the number of passages the search was asked for; it tells a near-duplicate (skipped
    while there was still room) from a candidate that was simply beyond k.
    """
    if not answer.candidates and answer.hits:
        raise InputError("the answer holds no candidates: search with with_candidates=True")
    final = {hit.passage.passage_id: hit.rank for hit in answer.hits}
    full = len(final) >= k
    last_shown = max(
        (h.rank for h in answer.candidates if h.passage.passage_id in final), default=0
    )
    rows = []
    for hit in answer.candidates:
        p = hit.passage
        final_rank = final.get(p.passage_id)
        status: Status
        if final_rank is not None:
            status = "shown"
        elif not hit.cleared:
            status = "below threshold"
        elif full and hit.rank > last_shown:
            status = "beyond k"
        else:
            status = "near-duplicate"
        rows.append(
            CandidateRow(
                passage_id=p.passage_id,
                document=p.title,
                source=p.source,
                section=p.section,
                text=p.text,
                dense_score=hit.scores.get("dense"),
                dense_rank=hit.ranks.get("dense"),
                bm25_score=hit.scores.get("bm25"),
                bm25_rank=hit.ranks.get("bm25"),
                fused_score=hit.scores.get("fused"),
                fused_rank=hit.ranks.get("fused"),
                maxsim_score=hit.scores.get("maxsim"),
                maxsim_rank=hit.ranks.get("maxsim"),
                own_dense_score=hit.scores.get("dense_own"),
                own_maxsim_score=hit.scores.get("maxsim_own"),
                example_score=hit.scores.get("example"),
                own_example_score=hit.scores.get("example_own"),
                example=hit.example,
                reranked_score=hit.scores.get("reranked"),
                order=hit.rank,
                final_rank=final_rank,
                cleared=hit.cleared,
                status=status,
            )
        )
    return rows


def answer_summary(
    answer: Answer,
    strategy_name: str,
    k: int,
    second_stage: Mapping[str, float] | None = None,
    subject_lift: float | None = None,
) -> dict[str, Any]:
    """What the table's rows share: the effective query, the strategy, the outcome, the
    weights the second stage ordered the first candidates by (empty when it did not run), and
    whether the question was tried as one about the corpus's subject, with the lift its
    reading had and the lift it needed (``subject_lift``, the searcher's setting), and for a
    follow-up with a topic of its own whether its own words passed (``Answer.own_reading``)."""
    reading = answer.subject_reading
    return {
        "question": answer.question,
        "effective_query": answer.effective_query,
        "strategy": strategy_name,
        "k": k,
        "abstained": answer.abstained,
        "shown": len(answer.hits),
        "candidates": len(answer.candidates),
        "cleared": sum(h.cleared for h in answer.candidates),
        "index_version": answer.index_version,
        "second_stage": dict(second_stage or {}),
        "subject_reading": None if reading is None else {
            "subject": reading[0], "lift": reading[1], "needed": subject_lift,
            "kept": bool(answer.subject),  # the reading's answer is the one shown
        },
        "own_reading": answer.own_reading,
    }


# --- two strategies side by side -------------------------------------------------------------

SIDE_BY_SIDE_HEADERS: tuple[str, ...] = (
    "passage id",
    "document",
    "section",
    "passage",
    "final A",
    "final B",
    "order A",
    "order B",
    "rank change",
    "cleared",
)


@dataclass(frozen=True)
class SideBySideRow:
    """One passage as two strategies placed it (None: that strategy did not propose it)."""

    passage_id: str
    document: str
    section: str
    text: str
    final_a: int | None
    final_b: int | None
    order_a: int | None
    order_b: int | None
    cleared: bool

    @property
    def change(self) -> int | None:
        """How many places B moved the passage up (positive) or down, in candidate order."""
        if self.order_a is None or self.order_b is None:
            return None
        return self.order_a - self.order_b

    def cells(self, width: int = 200) -> list[Any]:
        return [
            self.passage_id,
            self.document,
            self.section,
            preview(self.text, width),
            self.final_a,
            self.final_b,
            self.order_a,
            self.order_b,
            self.change,
            self.cleared,
        ]


def side_by_side(a: Sequence[CandidateRow], b: Sequence[CandidateRow]) -> list[SideBySideRow]:
    """The union of two candidate tables, passages shown by either first (best final rank),
    then the rest by their best candidate order."""
    by_a = {r.passage_id: r for r in a}
    by_b = {r.passage_id: r for r in b}
    order = list(dict.fromkeys([*by_a, *by_b]))
    rows = []
    for pid in order:
        ra, rb = by_a.get(pid), by_b.get(pid)
        first = ra or rb
        assert first is not None  # every id comes from one of the two tables
        rows.append(
            SideBySideRow(
                passage_id=pid,
                document=first.document,
                section=first.section,
                text=first.text,
                final_a=ra.final_rank if ra else None,
                final_b=rb.final_rank if rb else None,
                order_a=ra.order if ra else None,
                order_b=rb.order if rb else None,
                cleared=first.cleared,
            )
        )
    big = 1 << 30

    def key(row: SideBySideRow) -> tuple[int, int]:
        finals = [r for r in (row.final_a, row.final_b) if r is not None]
        orders = [r for r in (row.order_a, row.order_b) if r is not None]
        return (min(finals, default=big), min(orders, default=big))

    return sorted(rows, key=key)


# --- the document browser --------------------------------------------------------------------

DOCUMENT_HEADERS = (
    "doc id",
    "title",
    "source",
    "characters",
    "passages",
    "dropped spans",
    "dropped characters",
)
SEGMENT_HEADERS = ("start", "end", "kind", "passage id", "section or reason", "words", "text")


@dataclass(frozen=True)
class DocumentSummary:
    doc_id: str
    title: str
    source: str
    chars: int
    passages: int
    dropped_spans: int
    dropped_chars: int

    def cells(self) -> list[Any]:
        return list(astuple(self))


@dataclass(frozen=True)
class Segment:
    """A span of a document: a passage, dropped furniture (with the reason), or text that is in
    no passage and was not dropped either (headings, which passages carry as their section)."""

    start: int
    end: int
    kind: Literal["passage", "dropped", "outside"]
    passage_id: str
    label: str  # the passage's section, or why the span was dropped
    text: str

    def cells(self, width: int = 300) -> list[Any]:
        words = len(self.text.split())
        return [
            self.start,
            self.end,
            self.kind,
            self.passage_id,
            self.label,
            words,
            preview(self.text, width),
        ]


def document_summaries(index: CorpusIndex) -> list[DocumentSummary]:
    """One row per document, in source order: size, passages, and how much furniture went."""
    counts: dict[str, int] = {}
    for p in index.passages:
        counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
    docs = sorted(index.documents.values(), key=lambda d: d.source)
    return [
        DocumentSummary(
            doc_id=d.doc_id,
            title=d.title,
            source=d.source,
            chars=len(d.text),
            passages=counts.get(d.doc_id, 0),
            dropped_spans=len(d.dropped),
            dropped_chars=sum(x.end - x.start for x in d.dropped),
        )
        for d in docs
    ]


def document_segments(index: CorpusIndex, doc_id: str) -> list[Segment]:
    """The whole document as consecutive segments, in text order; whitespace-only gaps between
    them are left out. Passages never overlap, so each character is in at most one passage."""
    document = index.documents.get(doc_id)
    if document is None:
        raise InputError(f"no document {doc_id!r} in this index")
    spans: list[tuple[int, int, Literal["passage", "dropped"], str, str]] = [
        (p.start, p.end, "passage", p.passage_id, p.section)
        for p in index.passages
        if p.doc_id == doc_id
    ]
    spans += [(d.start, d.end, "dropped", "", d.reason) for d in document.dropped]
    spans.sort(key=lambda s: (s[0], s[1]))
    text = document.text
    out: list[Segment] = []
    position = 0
    for start, end, kind, pid, label in spans:
        if start > position and text[position:start].strip():
            out.append(Segment(position, start, "outside", "", "", text[position:start]))
        out.append(Segment(start, end, kind, pid, label, text[start:end]))
        position = max(position, end)
    if text[position:].strip():
        out.append(Segment(position, len(text), "outside", "", "", text[position:]))
    return out


def preview(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
