"""Retrieval metrics as pure functions: trec_eval's nDCG, recall and reciprocal rank (through
pytrec_eval, not re-implemented), and the hit rates of the question sets.

Published BEIR and MTEB figures come from pytrec_eval, so we use it too: graded linear gain with a
1/log2(rank + 1) discount and an ideal ranking over every judged document (``ndcg_cut``), recall
counting any grade >= 1 as relevant (``recall``). trec_eval has no reciprocal rank at a cut-off,
so MRR@k truncates the run to its first k documents *in trec_eval's own order* (score descending,
ties by document id descending) and then asks for ``recip_rank``.

A query in the qrels that is missing from the run scores 0 on every measure (trec_eval's ``-c``):
pytrec_eval silently leaves such queries out, which would inflate the average.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from statistics import fmean

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]


def trec_order(scores: Mapping[str, float]) -> list[tuple[str, float]]:
    """Documents in the order trec_eval ranks them: score descending, ties by document id
    descending (trec_eval sorts on (score, docno), both reversed)."""
    return sorted(scores.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)


def truncate(run: Run, k: int) -> dict[str, dict[str, float]]:
    """Each query's first ``k`` documents in trec_eval's order."""
    return {qid: dict(trec_order(docs)[:k]) for qid, docs in run.items()}


def metric_names(
    ndcg_at: Sequence[int] = (10,), recall_at: Sequence[int] = (100,), mrr_at: Sequence[int] = (10,)
) -> list[str]:
    """The keys :func:`evaluate_run` fills in, in a stable display order."""
    return (
        [f"ndcg@{k}" for k in ndcg_at]
        + [f"recall@{k}" for k in recall_at]
        + [f"mrr@{k}" for k in mrr_at]
    )


def evaluate_run(
    qrels: Qrels,
    run: Run,
    *,
    ndcg_at: Sequence[int] = (10,),
    recall_at: Sequence[int] = (100,),
    mrr_at: Sequence[int] = (10,),
) -> dict[str, dict[str, float]]:
    """Per-query scores ``{query_id: {"ndcg@10": ..., "recall@100": ..., "mrr@10": ...}}`` for
    every query of ``qrels``; queries of the run without qrels are ignored, as trec_eval does."""
    import pytrec_eval

    qrels = {qid: {d: int(g) for d, g in docs.items()} for qid, docs in qrels.items()}
    run = {qid: {d: float(s) for d, s in run.get(qid, {}).items()} for qid in qrels}
    out: dict[str, dict[str, float]] = {qid: {} for qid in qrels}
    measures = {f"ndcg_cut.{','.join(map(str, ndcg_at))}"} if ndcg_at else set()
    if recall_at:
        measures.add(f"recall.{','.join(map(str, recall_at))}")
    if measures:
        found = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
        for qid in qrels:
            row = found.get(qid, {})
            for k in ndcg_at:
                out[qid][f"ndcg@{k}"] = float(row.get(f"ndcg_cut_{k}", 0.0))
            for k in recall_at:
                out[qid][f"recall@{k}"] = float(row.get(f"recall_{k}", 0.0))
    for k in mrr_at:
        found = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(truncate(run, k))
        for qid in qrels:
            out[qid][f"mrr@{k}"] = float(found.get(qid, {}).get("recip_rank", 0.0))
    return out


def mean_scores(per_query: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The average of each measure over the queries (the figure papers report)."""
    if not per_query:
        return {}
    names = list(next(iter(per_query.values())))
    return {name: fmean(scores[name] for scores in per_query.values()) for name in names}


# --- question sets: the rank of the first relevant passage shown ----------------------------


def hit_at(first_relevant: Iterable[int | None], k: int) -> float:
    """Share of questions with a relevant passage among the first ``k`` shown (None = none)."""
    ranks = list(first_relevant)
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr_at(first_relevant: Iterable[int | None], k: int) -> float:
    """Mean of 1/rank of the first relevant passage, counting 0 when it is not in the first k."""
    ranks = list(first_relevant)
    if not ranks:
        return 0.0
    return sum(1.0 / r for r in ranks if r is not None and r <= k) / len(ranks)


def hit_interval(
    first_relevant: Iterable[int | None], k: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Wilson score interval (Wilson, JASA 1927) of hit@k: how far the share could move with
    another sample of questions. On a few dozen questions it is wide (21 hits of 32: 0.48 to
    0.80), which is why a one-question change in a report is noise, not a finding."""
    from scipy.stats import binomtest

    ranks = list(first_relevant)
    if not ranks:
        return (0.0, 1.0)
    hits = sum(1 for r in ranks if r is not None and r <= k)
    found = binomtest(hits, len(ranks)).proportion_ci(confidence_level=confidence, method="wilson")
    return (float(found.low), float(found.high))
