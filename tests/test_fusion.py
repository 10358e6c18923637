"""Fusion and score arithmetic against hand-computed values, and properties any fusion keeps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.fusion import RRF_K, convex_fusion, min_max, reciprocal_rank_fusion, top_k


def test_rrf_matches_hand_computed_scores() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]]))
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)
    assert [item for item, _ in reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]])] == [
        "b",
        "a",
        "d",
        "c",
    ]


def test_rrf_constant_is_sixty_and_can_be_changed() -> None:
    assert RRF_K == 60
    fused = dict(reciprocal_rank_fusion([["a", "b"]], k=1))
    assert fused == {"a": pytest.approx(1 / 2), "b": pytest.approx(1 / 3)}


def test_rrf_ties_break_by_first_ranking_then_rank() -> None:
    # x and y each sit at rank 1 of one list: equal scores; x comes from the first ranking.
    assert [i for i, _ in reciprocal_rank_fusion([["x"], ["y"]])] == ["x", "y"]
    assert [i for i, _ in reciprocal_rank_fusion([["y"], ["x"]])] == ["y", "x"]
    # Mirror images: a and c tie (1/61 + 1/63 each, above b's 2/62); a leads the first ranking.
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "b", "a"]])
    assert [i for i, _ in fused] == ["a", "c", "b"]
    assert fused[0][1] == fused[1][1]
    # Same input, same output, every time.
    rankings = [["p", "q", "r", "s"], ["s", "r", "q", "p"], ["q", "p"]]
    assert reciprocal_rank_fusion(rankings) == reciprocal_rank_fusion(rankings)


def test_rrf_weights_scale_each_ranking() -> None:
    fused = dict(reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 2.0]))
    assert fused == {"a": pytest.approx(1 / 61), "b": pytest.approx(2 / 61)}
    assert reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 2.0])[0][0] == "b"
    assert reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 0.0])[1] == ("b", 0.0)


def test_rrf_refuses_a_weight_count_that_does_not_match() -> None:
    with pytest.raises(ValueError, match="one weight per ranking"):
        reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0])


def test_rrf_of_nothing_is_empty() -> None:
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []


def test_min_max_scales_each_list_to_unit_range() -> None:
    assert min_max({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert min_max({"a": 7.0, "b": 7.0}) == {"a": 1.0, "b": 1.0}
    assert min_max({}) == {}


def test_convex_fusion_matches_hand_computed_scores() -> None:
    dense = {"a": 0.9, "b": 0.5, "c": 0.7}  # scaled: a 1, b 0, c 0.5
    keyword = {"b": 10.0, "d": 2.0}  # scaled: b 1, d 0
    fused = convex_fusion(dense, keyword, alpha=0.6)
    assert dict(fused) == {
        "a": pytest.approx(0.6),
        "b": pytest.approx(0.4),
        "c": pytest.approx(0.3),
        "d": pytest.approx(0.0),
    }
    assert [k for k, _ in fused] == ["a", "b", "c", "d"]


def test_convex_fusion_alpha_picks_a_side() -> None:
    dense = {"a": 0.9, "b": 0.1}
    keyword = {"a": 1.0, "b": 9.0}
    assert convex_fusion(dense, keyword, alpha=1.0)[0][0] == "a"
    assert convex_fusion(dense, keyword, alpha=0.0)[0][0] == "b"


def test_convex_fusion_ties_keep_first_seen_order() -> None:
    # a is first in dense, b first in keyword: both score alpha * 1 = (1 - alpha) * 1 at 0.5.
    fused = convex_fusion({"a": 1.0, "x": 0.0}, {"b": 3.0, "y": 1.0}, alpha=0.5)
    assert [k for k, _ in fused] == ["a", "b", "x", "y"]


def test_top_k_best_first_with_stable_ties() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.3])
    assert top_k(scores, 3).tolist() == [1, 3, 2]
    assert top_k(scores, 10).tolist() == [1, 3, 2, 4, 0]
    assert top_k(scores, 0).tolist() == []
    assert top_k(np.zeros(0), 3).tolist() == []
    assert top_k(np.ones(6), 4).tolist() == [0, 1, 2, 3]
    # Ties straddling the k-th place: the lower index is kept (argpartition alone kept 11).
    tied = np.array([0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -0.5, -0.5, 0])
    assert top_k(tied, 10).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 12, 10]


# --- properties ------------------------------------------------------------------------------

rankings_strategy = st.lists(
    st.lists(st.integers(0, 30), unique=True, max_size=15), min_size=1, max_size=4
)


@given(rankings_strategy)
def test_rrf_returns_exactly_the_union_once_each(rankings: list[list[int]]) -> None:
    fused = reciprocal_rank_fusion(rankings)
    items = [item for item, _ in fused]
    assert len(items) == len(set(items))
    assert set(items) == {item for ranking in rankings for item in ranking}
    scores = [score for _, score in fused]
    assert scores == sorted(scores, reverse=True)


@given(rankings_strategy, st.integers(0, 30))
def test_an_item_first_in_every_ranking_is_first(rankings: list[list[int]], winner: int) -> None:
    rankings = [[winner, *[i for i in ranking if i != winner]] for ranking in rankings]
    assert reciprocal_rank_fusion(rankings)[0][0] == winner


@given(
    st.dictionaries(st.integers(0, 30), st.floats(-5, 5), max_size=15),
    st.dictionaries(st.integers(0, 30), st.floats(0, 50), max_size=15),
    st.floats(0, 1),
)
def test_convex_fusion_returns_the_union_scored_within_unit_range(
    dense: dict[int, float], keyword: dict[int, float], alpha: float
) -> None:
    fused = convex_fusion(dense, keyword, alpha=alpha)
    keys = [key for key, _ in fused]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(dense) | set(keyword)
    assert all(-1e-9 <= score <= 1 + 1e-9 for _, score in fused)


# Few distinct values, so ties straddle the k-th place often.
@given(
    st.lists(st.sampled_from([-1.0, -0.5, 0.0, 0.25, 3.0]) | st.floats(-9, 9), max_size=40),
    st.integers(0, 50),
)
def test_top_k_agrees_with_a_full_stable_sort(values: list[float], k: int) -> None:
    scores = np.asarray(values, dtype=np.float64)
    expected = sorted(range(len(values)), key=lambda i: (-values[i], i))[:k]
    assert top_k(scores, k).tolist() == expected
