"""Learning the second stage's weights from labelled questions (``qa eval fit``).

The second stage (:mod:`qa.rerank`) orders the first ``rerank_depth`` fused candidates of a
question by ``sum_f w_f * z(f)`` over :data:`qa.rerank.FEATURES`, each feature standardised over
that question's candidates. The weights here are those of a logistic regression (scikit-learn,
L2-regularised) that tells, from the same standardised features, the candidates holding a
question's evidence from the others: a pointwise linear learning-to-rank model. Only the
questions of one split (``calibration``) are learned from, so the others still measure questions
the engine was not tuned on; a question none of whose candidates holds its evidence (or all of
them) teaches nothing about order and is left out.

The candidates a question gets do not depend on the weights (re-ranking only reorders them), so
one search per question, under any weights, gives everything needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.errors import InputError
from qa.questions import Question, is_relevant
from qa.records import Answer
from qa.rerank import FEATURES, standardise
from qa.search import Query, Searcher

#: Inverse regularisation strength. Chosen by 10-fold cross-validation over the calibration and
#: holdout splits of the default question set (0.03 to 1 were within 0.02 of each other in
#: hit@1; 0.1 was best or level with the best feature set).
DEFAULT_C = 0.1


@dataclass(frozen=True)
class FittedWeights:
    """Learned weights, rounded to three decimals, and what they were learned from."""

    weights: dict[str, float]
    questions: int  # questions learned from
    candidates: int  # (question, candidate) pairs
    relevant: int  # of which hold the question's evidence
    left_out: tuple[str, ...]  # ids of questions with no candidate, or only ones, holding evidence


def head_features(answer: Answer) -> tuple[np.ndarray, list[str]]:
    """The re-ranked candidates of an answer searched ``with_candidates``: their standardised
    features, one row per candidate (columns in :data:`FEATURES` order), and passage texts."""
    head = [hit for hit in answer.candidates if "reranked" in hit.ranks]
    if not head:
        return np.zeros((0, len(FEATURES))), []
    columns = [
        standardise(np.array([hit.scores.get(name, 0.0) for hit in head], dtype=np.float64))
        for name in FEATURES
    ]
    return np.column_stack(columns), [hit.passage.text for hit in head]


def fit_weights(
    searcher: Searcher,
    questions: Sequence[Question],
    *,
    split: str = "calibration",
    c: float = DEFAULT_C,
) -> FittedWeights:
    """Fit the second stage's weights on the answerable questions of ``split``."""
    chosen = [q for q in questions if q.answerable and q.split == split]
    if not chosen:
        raise InputError(f"no answerable questions in the {split!r} split to learn from")
    answers = searcher.search_many(
        [Query(q.question, q.history) for q in chosen], with_candidates=True
    )
    rows, labels, left_out = [], [], []
    for question, answer in zip(chosen, answers, strict=True):
        features, texts = head_features(answer)
        relevant = [is_relevant(text, question.evidence) for text in texts]
        if not any(relevant) or all(relevant):
            left_out.append(question.id)
            continue
        rows.append(features)
        labels.append(relevant)
    if not rows:
        raise InputError(
            "no question has both relevant and other passages among its re-ranked candidates "
            "(is the second stage on: hybrid mode, an index with token vectors?)"
        )
    weights = learn_weights(rows, labels, c)
    count = sum(len(flags) for flags in labels)
    return FittedWeights(weights, len(rows), count, sum(map(sum, labels)), tuple(left_out))


def learn_weights(
    features: Sequence[np.ndarray], labels: Sequence[Sequence[bool]], c: float = DEFAULT_C
) -> dict[str, float]:
    """Logistic-regression weights per :data:`FEATURES` column, rounded to three decimals, from
    each question's standardised candidate features and which candidates are relevant."""
    from sklearn.linear_model import LogisticRegression  # only fitting needs it

    if not c > 0:
        raise InputError(f"the regularisation C must be positive, not {c!r}")
    flat = [bool(flag) for flags in labels for flag in flags]
    if len(set(flat)) < 2:
        raise InputError("learning needs both relevant and other candidates")
    model = LogisticRegression(C=c, max_iter=1000).fit(np.vstack(features), flat)
    return {name: round(float(w), 3) for name, w in zip(FEATURES, model.coef_[0], strict=True)}
