"""Group near-identical questions (leader clustering on cosine), so staff read each topic once.

Pure math over arrays: the staff view embeds the unanswered questions with the real model and
hands the vectors here; tests use hand-made vectors with exact answers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qa.errors import InputError

# Normalising rounds: a cosine exactly at the threshold on paper can come out a hair below it.
# This tolerance keeps "cosine >= threshold" true to the arithmetic a reader would do.
_TOLERANCE = 1e-9


def group_similar(
    texts: Sequence[str], vectors: np.ndarray, threshold: float = 0.75
) -> list[list[int]]:
    """Leader clustering: each item joins the first group whose leader has cosine >= threshold.

    A group's leader is its first item, and an item that joins no group leads a new one. Order is
    preserved: groups come in the order of their leaders, members in input order, so the result
    is deterministic and the earliest wording of a question heads its group. Vectors are
    L2-normalised here (a zero vector resembles nothing and stays alone). ``texts`` only pins
    the item count, so vectors cannot silently drift from the questions they stand for.
    Cost is O(items x groups), fine for the thousands of questions a staff view shows.
    """
    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != len(texts):
        raise InputError(
            f"expected one vector per text ({len(texts)} rows), got an array of shape "
            f"{matrix.shape}"
        )
    if not math.isfinite(threshold) or not -1.0 <= threshold <= 1.0:
        raise InputError(f"threshold must be a cosine in [-1, 1], got {threshold!r}")
    if not np.isfinite(matrix).all():
        raise InputError("vectors contain NaN or infinity")
    if len(texts) == 0:
        return []

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    nonzero = norms[:, 0] > 0
    leaders: list[int] = []  # the first item of each group, in group order
    groups: list[list[int]] = []
    for i in range(len(texts)):
        if nonzero[i] and leaders:
            cosines = unit[leaders] @ unit[i]
            joinable = np.flatnonzero((cosines >= threshold - _TOLERANCE) & nonzero[leaders])
            if joinable.size:
                groups[int(joinable[0])].append(i)
                continue
        leaders.append(i)
        groups.append([i])
    return groups
