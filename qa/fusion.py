"""Rank fusion and score arithmetic: pure functions over hit lists and arrays, no models."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    from qa.settings import Mode
    from qa.vectors import DenseIndex

K = TypeVar("K", bound=Hashable)

#: Reciprocal rank fusion constant. Cormack, Clarke & Buettcher (SIGIR 2009) found k=60 near-best
#: across TREC runs: it flattens the gap between rank 1 and rank 2 of any one retriever, so a
#: passage both retrievers rank fairly high beats one that only a single retriever loves.
RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]],
    *,
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[K, float]]:
    """Fuse best-first rankings: score(d) = sum_i w_i / (k + rank_i(d)), ranks 1-based.

    Ties are broken by the first ranking in which an item appears, then by its rank there, so the
    result is deterministic.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    first_seen: dict[K, tuple[int, int]] = {}
    for which, (ranking, weight) in enumerate(zip(rankings, weights, strict=True)):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            first_seen.setdefault(item, (which, rank))
    return sorted(scores.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))


def min_max(scores: Mapping[K, float]) -> dict[K, float]:
    """Scale scores to [0, 1] within one result list (all equal -> all 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {key: (value - low) / span if span > 0 else 1.0 for key, value in scores.items()}


def convex_fusion(
    dense: Mapping[K, float], keyword: Mapping[K, float], *, alpha: float = 0.5
) -> list[tuple[K, float]]:
    """Score fusion alpha*dense + (1-alpha)*bm25 after per-list min-max scaling.

    Bruch, Gai & Ingber (TOIS 2023, "An analysis of fusion functions for hybrid retrieval")
    found such a convex combination at least as good as RRF when alpha is tuned; kept here so the
    two can be measured side by side. A passage missing from one list scores 0 there.
    """
    d, b = min_max(dense), min_max(keyword)
    keys = list(dict.fromkeys([*dense, *keyword]))
    fused = {key: alpha * d.get(key, 0.0) + (1.0 - alpha) * b.get(key, 0.0) for key in keys}
    order = {key: i for i, key in enumerate(keys)}
    return sorted(fused.items(), key=lambda kv: (-kv[1], order[kv[0]]))


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first (stable for ties: lower index first)."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    # argpartition alone may keep any of several scores tied at the k-th place; take those
    # strictly above it, then the tied ones with the lowest indices.
    kth = -np.partition(-scores, k - 1)[k - 1]
    above = np.flatnonzero(scores > kth)
    part = np.concatenate([above, np.flatnonzero(scores == kth)[: k - len(above)]])
    return part[np.lexsort((part, -scores[part]))]


def extend_dense(
    qvec: np.ndarray,
    dense: tuple[np.ndarray, np.ndarray],
    keyword: tuple[np.ndarray, np.ndarray],
    index: DenseIndex,
    also: Sequence[int] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """The dense list (row ids, cosines) extended by the rows only BM25 proposed, and the rows
    in ``also`` (proposed by example questions) it lacks.

    Those rows still get their exact cosine: abstention is judged on it, and convex fusion
    needs it. They follow the dense top list, in cosine order; padding ids (< 0) are dropped.
    """
    ids, scores = dense
    kept = ids >= 0
    known = {int(r) for r in ids[kept]}
    missing = list(dict.fromkeys(int(r) for r in [*keyword[0], *also] if int(r) not in known))
    ids = ids[kept].astype(np.int64)
    scores = scores[kept].astype(np.float64)
    if not missing:
        return ids, scores
    sims = index.similarity(qvec, np.asarray(missing, dtype=np.int64)).astype(np.float64)
    order = np.argsort(-sims, kind="stable")
    return (
        np.concatenate([ids, np.asarray(missing, dtype=np.int64)[order]]),
        np.concatenate([scores, sims[order]]),
    )


def rank_candidates(
    dense: tuple[np.ndarray, np.ndarray],
    keyword: tuple[np.ndarray, np.ndarray],
    mode: Mode,
    *,
    fusion: str = "rrf",
    rrf_k: int = RRF_K,
    alpha: float = 0.9,
    hubness: np.ndarray | None = None,
    hubness_weight: float = 0.0,
) -> list[tuple[int, float]]:
    """One query's final candidate order as (row, score), best first, for a retrieval mode.

    ``dense`` is (row ids, cosines) best first (ids < 0 are padding and skipped); ``keyword`` is
    (row ids, BM25 scores) best first. Hybrid fuses the two with reciprocal rank fusion, or with
    a convex combination of min-max scaled scores (``fusion="convex"``, dense weight ``alpha``).

    In hybrid modes, with ``hubness`` (each row's mean cosine to its nearest rows) and a
    positive ``hubness_weight``, the dense side is re-ranked by ``cosine - weight * hubness``
    before fusion, a CSLS-style correction (Conneau et al., ICLR 2018): summaries and
    introductions, close to every question, stop crowding out the specific passage.
    """
    dense_ids, dense_scores = dense
    dense_pairs = [
        (int(r), float(v)) for r, v in zip(dense_ids, dense_scores, strict=True) if r >= 0
    ]
    bm25_pairs = [(int(r), float(v)) for r, v in zip(*keyword, strict=True)]
    if mode == "dense":
        return dense_pairs
    if mode == "bm25":
        return bm25_pairs
    if hubness is not None and hubness_weight > 0:
        dense_pairs = sorted(
            ((r, v - hubness_weight * float(hubness[r])) for r, v in dense_pairs),
            key=lambda pair: -pair[1],
        )
    if fusion == "convex":
        return convex_fusion(dict(dense_pairs), dict(bm25_pairs), alpha=alpha)
    return reciprocal_rank_fusion(
        [[r for r, _ in dense_pairs], [r for r, _ in bm25_pairs]], k=rrf_k
    )


def promote(
    order: Sequence[tuple[int, float]], rows: Sequence[int], depth: int
) -> tuple[list[tuple[int, float]], int]:
    """``order`` with those of ``rows`` that fall below its first ``depth`` moved up to follow
    them, and the new depth that takes them in (the first ``depth`` keep their places)."""
    head = list(order[:depth])
    wanted = set(rows) - {row for row, _ in head}
    moved = [pair for pair in order[depth:] if pair[0] in wanted]
    taken = {row for row, _ in moved}
    rest = [pair for pair in order[depth:] if pair[0] not in taken]
    return head + moved + rest, len(head) + len(moved)
