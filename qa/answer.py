"""The cited answer's parts: which candidates are shown (the first k distinct ones that cleared
the abstention threshold) and the numbered citations made from them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from qa.records import Citation, Hit, Passage


def distinct_cleared(
    candidates: Sequence[Hit],
    k: int,
    vectors: np.ndarray,
    row_of: Mapping[str, int],
    duplicate_threshold: float,
) -> list[Hit]:
    """The first ``k`` candidates that cleared the threshold, a near-duplicate of one already
    kept (its vector's cosine at least ``duplicate_threshold``, or the same words) skipped."""
    chosen: list[Hit] = []
    chosen_rows: list[int] = []
    for hit in candidates:
        if len(chosen) >= k:
            break
        if not hit.cleared:
            continue
        row = row_of[hit.passage.passage_id]
        if chosen_rows and _is_duplicate(
            vectors[row], vectors[chosen_rows], hit.passage, [h.passage for h in chosen],
            duplicate_threshold,
        ):
            continue
        chosen.append(hit)
        chosen_rows.append(row)
    return chosen


def citations(hits: Sequence[Hit]) -> tuple[Citation, ...]:
    """One numbered citation per hit shown: exactly the passage and where it comes from."""
    return tuple(
        Citation(
            number=hit.rank,
            passage_id=hit.passage.passage_id,
            doc_id=hit.passage.doc_id,
            title=hit.passage.title,
            section=hit.passage.section,
            source=hit.passage.source,
            start=hit.passage.start,
            end=hit.passage.end,
            text=hit.passage.text,
            highlight=hit.highlight,
            score=hit.score,
        )
        for hit in hits
    )


def _is_duplicate(
    vector: np.ndarray,
    chosen_vectors: np.ndarray,
    passage: Passage,
    chosen: Sequence[Passage],
    threshold: float,
) -> bool:
    """Near-duplicate of a passage already shown: almost the same vector, or the same words."""
    if float(np.max(chosen_vectors @ vector)) >= threshold:
        return True
    words = _norm_words(passage.text)
    return any(words == _norm_words(other.text) for other in chosen)


def _norm_words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\w+", text.lower()))
