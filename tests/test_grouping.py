"""Leader clustering of question vectors, on hand-made vectors whose cosines are known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qa.errors import InputError
from qa.grouping import group_similar


def at_angle(degrees: float, length: float = 1.0) -> list[float]:
    """A 2-D vector at ``degrees`` from the x axis: cosines between them are cos(difference)."""
    radians = math.radians(degrees)
    return [length * math.cos(radians), length * math.sin(radians)]


def texts(n: int) -> list[str]:
    return [f"question {i}" for i in range(n)]


def test_items_join_the_first_leader_close_enough_in_input_order() -> None:
    # at threshold 0.75 an item joins a leader less than 41.4 deg away (cos 41.4 deg = 0.75)
    vectors = np.array([at_angle(a) for a in (0, 90, 30, 45, 120, 10)])
    # 0 leads; 90 leads; 30 joins 0; 45 is 45 deg from both leaders and leads;
    # 120 is 30 deg from 90 and joins it; 10 joins 0, the first leader (45 is also in reach)
    assert group_similar(texts(6), vectors) == [[0, 2, 5], [1, 4], [3]]


def test_the_first_matching_leader_wins_not_the_closest() -> None:
    # 50 deg apart, 0 and 50 both lead; item 2 is 35 deg from leader 0 and 15 deg from leader 1
    vectors = np.array([at_angle(0), at_angle(50), at_angle(35)])
    assert group_similar(texts(3), vectors, threshold=0.75) == [[0, 2], [1]]


def test_members_are_compared_with_the_leader_only() -> None:
    # a chain 0 -> 30 -> 60 deg: 60 is close to 30 but not to the leader 0, so it leads
    vectors = np.array([at_angle(0), at_angle(30), at_angle(60)])
    assert group_similar(texts(3), vectors, threshold=0.8) == [[0, 1], [2]]


def test_vectors_need_not_be_normalised() -> None:
    vectors = np.array([at_angle(0, 5.0), at_angle(20, 0.01), at_angle(80, 3.0)])
    assert group_similar(texts(3), vectors) == [[0, 1], [2]]


def test_a_cosine_exactly_at_the_threshold_joins() -> None:
    # cos 45 deg = sqrt(1/2) on paper, but normalising [1, 1] rounds it to 0.7071067811865475,
    # one ulp under math.sqrt(0.5): the tolerance keeps the pair together
    vectors = np.array([[1.0, 0.0], [1.0, 1.0]])
    assert group_similar(texts(2), vectors, threshold=math.sqrt(0.5)) == [[0, 1]]
    assert group_similar(texts(2), vectors, threshold=0.7072) == [[0], [1]]


def test_threshold_extremes() -> None:
    vectors = np.array([at_angle(0), at_angle(180), at_angle(90)])
    assert group_similar(texts(3), vectors, threshold=-1.0) == [[0, 1, 2]]
    assert group_similar(texts(3), vectors, threshold=1.0) == [[0], [1], [2]]


def test_identical_questions_group_and_zero_vectors_stay_alone() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    assert group_similar(texts(4), vectors, threshold=-1.0) == [[0, 2], [1], [3]]


def test_empty_input_gives_no_groups() -> None:
    assert group_similar([], np.zeros((0, 384))) == []


def test_a_high_dimensional_case() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(3, 384))
    noisy = base[[0, 1, 0, 2, 1]] + 0.01 * rng.normal(size=(5, 384))
    assert group_similar(texts(5), noisy) == [[0, 2], [1, 4], [3]]


@pytest.mark.parametrize(
    ("n_texts", "vectors", "threshold", "message"),
    [
        (3, np.zeros((2, 4)), 0.75, "one vector per text"),
        (2, np.zeros(2), 0.75, "one vector per text"),
        (2, np.ones((2, 2)), 1.5, "threshold"),
        (2, np.ones((2, 2)), float("nan"), "threshold"),
        (2, np.array([[1.0, np.nan], [1.0, 0.0]]), 0.75, "NaN"),
    ],
)
def test_bad_input_is_an_input_error(
    n_texts: int, vectors: np.ndarray, threshold: float, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        group_similar(texts(n_texts), vectors, threshold)
