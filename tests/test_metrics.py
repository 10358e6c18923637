"""Metrics against hand-computed values and against pytrec_eval itself."""

from __future__ import annotations

import math

import pytest
import pytrec_eval
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.metrics import (
    evaluate_run,
    hit_at,
    hit_interval,
    mean_scores,
    metric_names,
    mrr_at,
    trec_order,
    truncate,
)

QRELS = {"q1": {"d1": 2, "d2": 1, "d3": 0}, "q2": {"d9": 1}}
RUN = {"q1": {"d3": 0.9, "d1": 0.8, "d4": 0.7, "d2": 0.6}}


def test_ndcg_recall_mrr_match_hand_computation() -> None:
    scores = evaluate_run(QRELS, RUN, ndcg_at=(10,), recall_at=(2, 100), mrr_at=(1, 10))
    # Gains by rank: d3 0, d1 2, d4 0, d2 1; ideal order d1 (2), d2 (1).
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert scores["q1"]["ndcg@10"] == pytest.approx(dcg / idcg, abs=1e-12)
    assert scores["q1"]["ndcg@10"] == pytest.approx(0.643322, abs=1e-6)
    assert scores["q1"]["recall@2"] == 0.5  # d1 in the first two, d2 not (d3 has grade 0)
    assert scores["q1"]["recall@100"] == 1.0
    assert scores["q1"]["mrr@1"] == 0.0
    assert scores["q1"]["mrr@10"] == 0.5


@pytest.mark.parametrize(("hits", "n"), [(21, 32), (0, 10), (10, 10), (1, 2)])
def test_hit_interval_is_the_wilson_score_interval(hits: int, n: int) -> None:
    ranks = [1] * hits + [None] * (n - hits)
    z, p = 1.959963984540054, hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = hit_interval(ranks, 1)
    assert low == pytest.approx(max(0.0, centre - half), abs=1e-9)
    assert high == pytest.approx(min(1.0, centre + half), abs=1e-9)
    assert low <= p <= high
    assert hit_interval([], 1) == (0.0, 1.0)


def test_query_missing_from_run_scores_zero_and_counts_in_the_mean() -> None:
    scores = evaluate_run(QRELS, RUN)
    assert scores["q2"] == {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    means = mean_scores(scores)
    assert means["mrr@10"] == pytest.approx(0.25)
    assert list(means) == metric_names()


def test_run_queries_without_qrels_are_ignored() -> None:
    scores = evaluate_run(QRELS, {**RUN, "q7": {"d1": 1.0}})
    assert set(scores) == {"q1", "q2"}


def test_ties_are_broken_by_document_id_descending_like_trec_eval() -> None:
    qrels = {"q": {"a": 1}}
    assert trec_order({"a": 1.0, "z": 1.0, "m": 2.0}) == [("m", 2.0), ("z", 1.0), ("a", 1.0)]
    # pytrec_eval ranks "z" before "a" at equal scores, and so does the MRR cut.
    tied = {"q": {"a": 1.0, "z": 1.0}}
    assert evaluate_run(qrels, tied, mrr_at=(1, 2))["q"]["mrr@1"] == 0.0
    assert evaluate_run(qrels, tied, mrr_at=(1, 2))["q"]["mrr@2"] == 0.5
    assert truncate(tied, 1) == {"q": {"z": 1.0}}


def test_question_set_hit_rates() -> None:
    ranks = [1, 3, None, 6]
    assert hit_at(ranks, 1) == 0.25
    assert hit_at(ranks, 3) == 0.5
    assert hit_at(ranks, 5) == 0.5
    assert mrr_at(ranks, 5) == pytest.approx((1 + 1 / 3) / 4)
    assert hit_at([], 5) == 0.0 and mrr_at([], 5) == 0.0


docs = st.sampled_from([f"d{i}" for i in range(12)])
run_strategy = st.dictionaries(docs, st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.9]), max_size=12)
qrels_strategy = st.dictionaries(docs, st.integers(0, 2), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(run=run_strategy, judged=qrels_strategy, k=st.integers(1, 12))
def test_wrappers_agree_with_pytrec_eval(
    run: dict[str, float], judged: dict[str, int], k: int
) -> None:
    qrels = {"q": judged}
    ours = evaluate_run(qrels, {"q": run}, ndcg_at=(k,), recall_at=(k,), mrr_at=(k, 1000))["q"]
    theirs = pytrec_eval.RelevanceEvaluator(
        qrels, {f"ndcg_cut.{k}", f"recall.{k}", "recip_rank"}
    ).evaluate({"q": run}).get("q", {})
    assert ours[f"ndcg@{k}"] == pytest.approx(theirs.get(f"ndcg_cut_{k}", 0.0))
    assert ours[f"recall@{k}"] == pytest.approx(theirs.get(f"recall_{k}", 0.0))
    assert ours["mrr@1000"] == pytest.approx(theirs.get("recip_rank", 0.0))
    # MRR@k by hand over trec_eval's order (ties: larger document id first).
    first = next(
        (n for n, (d, _) in enumerate(trec_order(run), start=1) if judged.get(d, 0) >= 1), None
    )
    assert ours[f"mrr@{k}"] == pytest.approx(1 / first if first and first <= k else 0.0)
