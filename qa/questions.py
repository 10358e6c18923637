"""The chatbot's own evaluation: a labelled question set, hit rates, abstention and a sweep of
the abstention threshold (two reports are compared by :mod:`qa.report_diff`).

A line of the question file is ``{"id", "question", "history": [...], "evidence": [...]}`` for a
question the corpus answers (a shown passage is relevant when it contains one of the evidence
phrases, with case, whitespace and quote style folded), or ``{"id", "question", "answerable":
false}`` for one it does not cover. ``evidence_pooled`` holds more phrases found by pooled
judging (TREC-style: the top passages of several retrievers, graded blind by an assessor); they
count unless the file is loaded with ``pooled=False``. ``split`` is one of :data:`SPLITS`.

The sweep does not search once per threshold: it collects every candidate once and replays the
engine's rule over them (a passage is shown when its cosine clears the threshold and it is not a
near-duplicate of one already shown; no passage cleared means abstain). The report checks that
the replay at the configured threshold gives exactly what the engine showed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.errors import InputError
from qa.metrics import hit_at, hit_interval, mrr_at

if TYPE_CHECKING:
    from qa.records import Answer, Hit
    from qa.search import Searcher

#: "calibration" may tune settings; "holdout" was kept out of tuning until the re-ranker's weight
#: was chosen (2026-11-21); "test" was written blind afterwards and has never been tuned on.
SPLITS = ("calibration", "holdout", "test")
#: Questions the corpus does not cover: "off_topic" (nothing to do with it; what a similarity
#: threshold can catch) or "near_domain" (on topic, but not answered; a threshold mostly cannot).
KINDS = ("off_topic", "near_domain")
HIT_AT = (1, 3, 5)
#: Thresholds the sweep tries: cosines 0.00 to 1.00 in steps of 0.01.
THRESHOLDS = tuple(round(0.01 * i, 2) for i in range(101))

_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "′": "'", "`": "'", "“": '"', "”": '"',
                         "„": '"', "″": '"'})
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Question:
    """One labelled question; ``evidence`` is empty for a question the corpus does not cover."""

    id: str
    question: str
    history: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # what counts as relevant: the author's, plus pooled ones
    answerable: bool = True
    split: str = "calibration"
    kind: str = ""  # for a question the corpus does not cover: one of KINDS


def fold(text: str) -> str:
    """Lower case, one space for any whitespace, straight quotes: how evidence is matched."""
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip().casefold()


def is_relevant(text: str, evidence: Iterable[str]) -> bool:
    """Whether a passage contains any evidence phrase, after folding both."""
    folded = fold(text)
    return any(fold(phrase) in folded for phrase in evidence)


def load_questions(path: Path | str, *, pooled: bool = True) -> list[Question]:
    """Parse a question file; a bad line is an InputError that names its line number.

    With ``pooled=False`` only the author's ``evidence`` counts, not ``evidence_pooled``."""
    from qa.beir import read_jsonl

    path = Path(path)
    if not path.is_file():
        raise InputError(f"question file {path} does not exist")
    out: list[Question] = []
    seen: set[str] = set()
    for number, row in read_jsonl(path):
        where = f"{path}, line {number}"
        qid, question = row.get("id", number), row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise InputError(f'{where}: needs a "question" string')
        history = row.get("history") or []
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            raise InputError(f'{where}: "history" must be a list of strings')
        answerable = row.get("answerable", True)
        evidence = row.get("evidence") or []
        if not isinstance(answerable, bool):
            raise InputError(f'{where}: "answerable" must be true or false')
        extra = row.get("evidence_pooled") or []
        for name, value in (("evidence", evidence), ("evidence_pooled", extra)):
            if not isinstance(value, list) or not all(isinstance(e, str) and e for e in value):
                raise InputError(f'{where}: "{name}" must be a list of phrases')
        if answerable and not evidence:
            raise InputError(f'{where}: an answerable question needs "evidence" phrases')
        if not answerable and (evidence or extra):
            raise InputError(f'{where}: a question marked "answerable": false has evidence')
        if pooled:
            evidence = [*evidence, *(e for e in extra if e not in evidence)]
        split = row.get("split", "calibration")
        if split not in SPLITS:
            raise InputError(f'{where}: "split" must be one of {", ".join(SPLITS)}')
        kind = "" if answerable else row.get("kind", "off_topic")
        if not answerable and kind not in KINDS:
            raise InputError(f'{where}: "kind" must be one of {", ".join(KINDS)}')
        if str(qid) in seen:
            raise InputError(f"{where}: id {qid!r} is used twice")
        seen.add(str(qid))
        out.append(
            Question(str(qid), question, tuple(history), tuple(evidence), answerable, split, kind)
        )
    if not out:
        raise InputError(f"{path} holds no questions")
    return out


# --- replaying the abstention rule over candidates ------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A candidate passage as the threshold replay needs it: its cosine with the question,
    whether it is relevant, and which earlier candidates it near-duplicates."""

    cosine: float
    relevant: bool
    duplicate_of: frozenset[int] = frozenset()


def shown_at(candidates: Sequence[Candidate], threshold: float, k: int) -> list[int]:
    """Indices of the candidates shown at ``threshold``: the first ``k`` that clear it and do
    not duplicate one already shown (the engine's rule); an empty list means abstain."""
    shown: list[int] = []
    for i, candidate in enumerate(candidates):
        if len(shown) >= k:
            break
        if candidate.cosine >= threshold and not candidate.duplicate_of.intersection(shown):
            shown.append(i)
    return shown


def first_relevant(relevant_flags: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant passage shown, None when there is none."""
    return next((n for n, flag in enumerate(relevant_flags, start=1) if flag), None)


def summarise(
    outcomes: Sequence[tuple[Question, bool, int | None]], *, intervals: bool = False
) -> dict[str, Any]:
    """Hit rates and abstention shares over (question, abstained, first relevant rank) rows;
    with ``intervals``, the 95% Wilson interval of hit@1 and hit@3 too."""
    answerable = [(a, r) for q, a, r in outcomes if q.answerable]
    abstained: dict[str, list[bool]] = {kind: [] for kind in KINDS}
    for question, was_abstained, _ in outcomes:
        if not question.answerable:
            abstained[question.kind if question.kind in KINDS else KINDS[0]].append(was_abstained)
    ranks = [r for _, r in answerable]
    out: dict[str, Any] = {"answerable": len(answerable)}
    out.update({kind: len(flags) for kind, flags in abstained.items()})
    out.update({f"hit@{k}": round(hit_at(ranks, k), 4) for k in HIT_AT})
    if intervals:
        out.update({f"hit@{k}_ci95": [round(b, 4) for b in hit_interval(ranks, k)] for k in (1, 3)})
    out["mrr@5"] = round(mrr_at(ranks, 5), 4)
    out.update({f"{kind}_abstained": _share(flags) for kind, flags in abstained.items()})
    out["not_covered_abstained"] = _share([a for flags in abstained.values() for a in flags])
    out["false_abstention"] = _share([a for a, _ in answerable])
    return out


def _share(flags: Sequence[bool]) -> float | None:
    """The share of True, rounded; None when there is nothing to count."""
    return round(sum(flags) / len(flags), 4) if flags else None


def sweep(
    questions: Sequence[Question],
    candidates: Sequence[Sequence[Candidate]],
    *,
    k: int = 5,
    thresholds: Sequence[float] = THRESHOLDS,
) -> list[dict[str, Any]]:
    """The trade-off at each threshold: off-topic abstained vs answerable wrongly abstained."""
    points = []
    for threshold in thresholds:
        outcomes = []
        for question, cands in zip(questions, candidates, strict=True):
            shown = shown_at(cands, threshold, k)
            outcomes.append(
                (question, not shown, first_relevant([cands[i].relevant for i in shown]))
            )
        points.append({"threshold": threshold, **summarise(outcomes)})
    return points


def abstention_key(point: Mapping[str, Any]) -> tuple[float, float]:
    """How good a sweep point's abstention is, larger better: the off-topic questions it
    abstains on, then (negated) the answerable ones it wrongly abstains on."""
    return (point["off_topic_abstained"] or 0.0, -(point["false_abstention"] or 0.0))


def recommend(points: Sequence[Mapping[str, Any]], max_false_abstention: float = 0.05) -> (
    dict[str, Any] | None
):
    """The threshold that abstains on the most off-topic questions while wrongly abstaining on at
    most ``max_false_abstention`` of the answerable ones, and then on the fewest of those. Of a
    run of equally good thresholds, the middle one: it leaves a margin on both sides. The run's
    ends are given as ``equally_good``: where the calibration questions leave a wide gap, they do
    not pin the threshold down, and any value in it is as well supported as the middle.

    Near-domain questions do not steer the choice: a similarity threshold cannot tell them from
    answerable ones (their cosines overlap), and chasing them costs answerable questions.
    """

    key = abstention_key
    if not any(p["off_topic_abstained"] is not None for p in points) or not any(
        p["false_abstention"] is not None for p in points
    ):
        return None  # without off-topic and answerable questions there is nothing to weigh
    feasible = [p for p in points if (p["false_abstention"] or 0.0) <= max_false_abstention]
    if not feasible:
        return None
    best = max(feasible, key=key)
    run: list[Mapping[str, Any]] = []
    for point in points:  # the contiguous run of thresholds around `best` with the same result
        if key(point) == key(best):
            run.append(point)
        elif best in run:
            break
        else:
            run = []
    return dict(run[(len(run) - 1) // 2]) | {
        "equally_good": [run[0]["threshold"], run[-1]["threshold"]]
    }


# --- evaluating a searcher ------------------------------------------------------------------


def _candidates(answer: Answer, question: Question, vectors: np.ndarray, rows: Mapping[str, int],
                duplicate_threshold: float, threshold: float) -> list[Candidate]:
    """The answer's candidates with their cosine, relevance and near-duplicate relations (the
    same test as the engine's: almost the same vector, or the same words). A candidate the
    engine ruled out whatever its cosine (over ``threshold`` but not cleared: a follow-up's
    topic the corpus never names) rules out the whole answer: its candidates replay with the
    lowest cosine, so no threshold clears them. One it cleared under ``threshold`` (asked almost
    as one of its example questions) replays with the highest, so every threshold does."""
    hits = answer.candidates
    if not hits:
        return []
    blocked = any(not h.cleared and h.scores["dense"] >= threshold for h in hits)
    by_example = [h.cleared and h.scores["dense"] < threshold for h in hits]
    matrix = vectors[[rows[h.passage.passage_id] for h in hits]]
    similar = matrix @ matrix.T >= duplicate_threshold
    words = [tuple(_WORD.findall(h.passage.text.lower())) for h in hits]
    return [
        Candidate(
            cosine=-1.0 if blocked else 1.0 if by_example[i] else hit.scores["dense"],
            relevant=is_relevant(hit.passage.text, question.evidence),
            duplicate_of=frozenset(j for j in range(i) if similar[i, j] or words[i] == words[j]),
        )
        for i, hit in enumerate(hits)
    ]


def replay_candidates(
    searcher: Searcher, questions: Sequence[Question], *, k: int = 5
) -> tuple[list[Answer], list[list[Candidate]]]:
    """Run every question once, candidates included: the answers, and per question its
    candidates as :func:`sweep` replays them at other thresholds."""
    from qa.search import Query

    settings = searcher.settings
    answers = searcher.search_many(
        [Query(q.question, q.history) for q in questions], k=k, with_candidates=True
    )
    rows = searcher.index.passage_row()
    vectors = searcher.index.dense.vectors
    candidates = [
        _candidates(a, q, vectors, rows, settings.duplicate_threshold, settings.abstain_threshold)
        for a, q in zip(answers, questions, strict=True)
    ]
    return answers, candidates


def evaluate_questions(
    searcher: Searcher,
    questions: Sequence[Question],
    *,
    k: int = 5,
    max_false_abstention: float = 0.05,
) -> dict[str, Any]:
    """Run every question once (candidates included) and build the report: summaries for all
    questions and per split, each question's outcome, the misses, and the threshold sweep."""
    settings = searcher.settings
    answers, candidates = replay_candidates(searcher, questions, k=k)
    per_question: list[dict[str, Any]] = []
    outcomes: list[tuple[Question, bool, int | None]] = []
    replay_mismatches = []
    marked: list[bool] = []  # per relevant passage shown: does the highlight hold the evidence?
    for question, answer, cands in zip(questions, answers, candidates, strict=True):
        flags = [is_relevant(hit.passage.text, question.evidence) for hit in answer.hits]
        on_evidence = [
            highlight_on_evidence(searcher.index.documents[hit.passage.doc_id].text, hit,
                                  question.evidence) if flag else None
            for hit, flag in zip(answer.hits, flags, strict=True)
        ]
        marked += [m for m in on_evidence if m is not None]
        shown_ids = [hit.passage.passage_id for hit in answer.hits]
        replayed = [answer.candidates[i].passage.passage_id
                    for i in shown_at(cands, settings.abstain_threshold, k)]
        if replayed != shown_ids:
            replay_mismatches.append(question.id)
        best = next((n for n, c in enumerate(cands, start=1) if c.relevant), None)
        outcomes.append((question, answer.abstained, first_relevant(flags)))
        per_question.append({
            "id": question.id,
            "split": question.split,
            "answerable": question.answerable,
            "kind": question.kind,
            "question": question.question,
            "history": list(question.history),
            "effective_query": answer.effective_query,
            "read_as_subject": answer.subject or None,
            "abstained": answer.abstained,
            "not_in_corpus": list(answer.not_in_corpus),
            "first_relevant_rank": first_relevant(flags),
            "best_relevant_candidate": best,
            "best_relevant_cosine": round(cands[best - 1].cosine, 4) if best else None,
            "returned": [
                {
                    "rank": hit.rank,
                    "passage_id": hit.passage.passage_id,
                    "title": hit.passage.title,
                    "section": hit.passage.section,
                    "cosine": round(hit.scores["dense"], 4),
                    "relevant": flag,
                    "highlight_on_evidence": mark,
                    "text": _snippet(hit.passage.text),
                }
                for hit, flag, mark in zip(answer.hits, flags, on_evidence, strict=True)
            ],
        })
    summary = {"all": summarise(outcomes, intervals=True)}
    sweeps: dict[str, list[dict[str, Any]]] = {}
    for split in SPLITS:
        ids = [i for i, q in enumerate(questions) if q.split == split]
        if ids:
            summary[split] = summarise([outcomes[i] for i in ids], intervals=True)
            sweeps[split] = sweep([questions[i] for i in ids], [candidates[i] for i in ids], k=k)
    # Follow-ups (questions asked with history), across splits: how the context is used.
    followups = [outcomes[i] for i, q in enumerate(questions) if q.history]
    if followups:
        summary["follow-ups"] = summarise(followups, intervals=True)
    recommended = recommend(sweeps.get("calibration", []), max_false_abstention)
    elsewhere = {
        split: next(p for p in points if p["threshold"] == recommended["threshold"])
        for split, points in sweeps.items()
        if split != "calibration" and recommended is not None
    }
    return {
        "index_version": searcher.index.version,
        "settings": {"mode": settings.mode, "k": k, "abstain_threshold": settings.abstain_threshold,
                     "candidate_depth": settings.candidate_depth,
                     "rerank_weight": settings.rerank_weight,
                     "rerank_features": dict(settings.rerank_features),
                     "maxsim_idf": settings.maxsim_idf,
                     "read_as_subject": searcher.subject(),
                     "subject_lift": settings.subject_lift},
        "summary": summary,
        "highlight": {"judged": len(marked), "on_evidence": _share(marked)},
        "caution": caution_shares(per_question),
        "misses": [p for p in per_question if _missed(p)],
        "per_question": per_question,
        "sweep": {
            "max_false_abstention": max_false_abstention,
            "recommended": recommended,
            "recommended_on": elsewhere,  # the recommended threshold on the other splits
            "points": sweeps,
        },
        "replay_mismatches": replay_mismatches,
    }


def caution_shares(per_question: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per kind of question answered (not abstained): how many carried the "never mention"
    caution. It should be rare on answerable questions and common on near-domain ones."""
    out: dict[str, dict[str, Any]] = {}
    for kind in ("answerable", *KINDS):
        answered = [p for p in per_question if not p["abstained"]
                    and (p["answerable"] if kind == "answerable" else p["kind"] == kind)]
        flags = [bool(p["not_in_corpus"]) for p in answered]
        out[kind] = {"answered": len(flags), "cautioned": sum(flags), "share": _share(flags)}
    return out


def highlight_on_evidence(source: str, hit: Hit, evidence: Iterable[str]) -> bool | None:
    """Whether the marked sentence of a relevant passage holds an evidence phrase; None when no
    single sentence of the passage does (the phrase spans two), so the mark cannot be judged."""
    from qa.passages import sentence_spans

    passage = hit.passage
    spans = sentence_spans(source, passage.start, passage.end) or [(passage.start, passage.end)]
    if not any(is_relevant(source[a:b], evidence) for a, b in spans):
        return None
    if hit.highlight is None:
        return False
    a, b = hit.highlight
    return is_relevant(source[a:b], evidence)


def _missed(row: Mapping[str, Any]) -> bool:
    """An answerable question with no relevant passage shown, or an off-topic one answered."""
    if row["answerable"]:
        return row["first_relevant_rank"] is None
    return not row["abstained"]


def _snippet(text: str, limit: int = 160) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
