"""Which words of a question the passages shown cannot speak to ("is it safe while pregnant?"
in articles that never mention pregnancy), so the reader can be cautioned.

A word is reported when the corpus never uses it (its stem, or a one-edit typo correction of it,
is not in the keyword vocabulary; :meth:`qa.keywords.KeywordIndex.unknown_words`) and, when the
model's token vectors are at hand, nothing in the passages shown is close to it either: the mean
over the word's pieces of their best cosine to any passage token (MaxSim, as the second stage
scores, :mod:`qa.rerank`) stays under a threshold. The second test keeps synonyms quiet: "meds"
is not in the articles but "medications" is (best cosine 0.6), while "pregnant" has nothing
near it (0.23).

It is a caution, not an abstention: on the labelled questions the signal does not separate well
enough to withhold an answer ("husband" is as far from the articles as "pregnant").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np


def word_spans(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """The character span of each word's first whole-word occurrence in ``text`` (case-blind):
    "son" in "for that reason, ... my son?" is the last word, not the end of "reason"."""
    spans = []
    for word in words:
        found = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
        spans.append(found.span() if found else (0, 0))
    return spans


def word_closeness(
    span: tuple[int, int],
    token_spans: Sequence[tuple[int, int]],
    query_tokens: np.ndarray,
    passage_tokens: np.ndarray,
) -> float | None:
    """Mean over the word's token pieces of their best cosine to any passage token; None when
    no token vector covers the span (the word was cut off, or there are no passage tokens)."""
    start, end = span
    rows = [
        i for i, (a, b) in enumerate(token_spans)
        if a < end and b > start and i < len(query_tokens)
    ]
    if not rows or passage_tokens.size == 0:
        return None
    best = (query_tokens[rows] @ passage_tokens.T).max(axis=1)
    return float(best.mean())


def uncovered_words(
    text: str,
    unknown: Sequence[str],
    token_spans: Sequence[tuple[int, int]] | None,
    query_tokens: np.ndarray | None,
    passage_tokens: np.ndarray | None,
    threshold: float,
) -> tuple[str, ...]:
    """The ``unknown`` words (absent from the corpus vocabulary) that nothing in the passages
    shown comes within ``threshold`` of (``SearchSettings.caution_threshold``, calibrated on the
    calibration split: the most near-domain questions cautioned with at most a tenth of the
    answerable ones); without token vectors, every unknown word."""
    if not unknown or token_spans is None or query_tokens is None or passage_tokens is None:
        return tuple(unknown)
    out = []
    for word, span in zip(unknown, word_spans(text, unknown), strict=True):
        closeness = word_closeness(span, token_spans, query_tokens, passage_tokens)
        if closeness is None or closeness < threshold:
            out.append(word)
    return tuple(out)
