"""The late-interaction second stage: MaxSim and the re-ranking rule against hand-computed values,
token vectors stored and checked with the index, and the search reordering only what it should."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import LEXICAL_QUESTIONS, TINY_THRESHOLD
from hypothesis import given
from hypothesis import strategies as st

from qa.embedders import HashingEmbedder
from qa.errors import IndexCorruptError
from qa.highlight import sentence_credit
from qa.index import CorpusIndex, build_index, current_build, load_index
from qa.rerank import (
    OFFSETS_FILE,
    TOKENS_FILE,
    QueryTokens,
    TokenRarity,
    TokenVectors,
    maxsim,
    maxsim_many,
    rerank_order,
    standardise,
)
from qa.search import Searcher
from qa.settings import IndexSettings, SearchSettings

# --- the math ---------------------------------------------------------------------------------


def test_maxsim_is_the_mean_of_each_query_tokens_best_match() -> None:
    e = np.eye(4, dtype=np.float32)
    diagonal = np.array([[0.6, 0.8, 0, 0]], dtype=np.float32)
    # Query tokens e0, e1; passage tokens e0 and (0.6, 0.8): e0 matches 1.0, e1 matches 0.8.
    assert maxsim(e[:2], np.vstack([e[0], diagonal[0]])) == pytest.approx(0.9)
    assert maxsim(e[:2], e[2:]) == 0.0
    assert maxsim(e[:0], e) == 0.0 and maxsim(e, e[:0]) == 0.0
    # float16 storage does not change the result beyond its precision.
    assert maxsim(e[:2], diagonal.astype(np.float16)) == pytest.approx(0.7, abs=1e-3)


@given(st.integers(0, 10_000), st.lists(st.integers(0, 6), min_size=1, max_size=8))
def test_maxsim_many_equals_one_maxsim_per_passage(seed: int, sizes: list[int]) -> None:
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(int(rng.integers(0, 5)), 8)).astype(np.float32)
    passages = [rng.normal(size=(n, 8)).astype(np.float16) for n in sizes]
    expected = [maxsim(query, p) for p in passages]
    assert maxsim_many(query, passages) == pytest.approx(expected, abs=1e-5)


def test_sentence_credit_sums_each_query_tokens_best_match_into_its_sentence() -> None:
    passage = np.eye(4, dtype=np.float32)  # four tokens; tokens 0, 1 in sentence 0, 2, 3 in 1
    owner = np.array([0, 0, 1, 1])
    query = np.array([[0.9, 0.1, 0, 0], [0, 0, 0.2, 0.8], [0, 0, 0, 0.5]], dtype=np.float32)
    assert np.allclose(sentence_credit(query, passage, owner, 3), [0.9, 1.3, 0.0])
    # Weighted by rarity, a rare token's match outweighs two common ones': sentence 0 wins.
    weights = np.array([3.0, 0.5, 0.5])
    assert np.allclose(sentence_credit(query, passage, owner, 3, weights), [2.7, 0.65, 0.0])


@given(st.text(min_size=0, max_size=80))
def test_hashing_token_spans_match_its_token_vectors(text: str) -> None:
    embedder = HashingEmbedder(dim=64)
    spans = embedder.token_spans(text)
    assert len(spans) == len(embedder.encode_with_tokens([text], "passage")[1][0])
    assert all(text[a:b].strip() and a < b for a, b in spans)


def test_token_rarity_weighs_rare_tokens_more_and_never_below_zero() -> None:
    rarity = TokenRarity([[1, 2, 2], [1, 3], [1]])  # 1 in every passage, 2 and 3 in one each
    w = rarity.weights([1, 2, 3, 9])
    assert rarity.passages == 3
    assert 0 < w[0] < w[1] == w[2] < w[3]  # a token no passage holds weighs most
    assert w[1] == pytest.approx(np.log(4 / 1.5))


def test_weighted_maxsim_is_the_weighted_mean_of_each_tokens_best_match() -> None:
    rng = np.random.default_rng(1)
    q = rng.normal(size=(3, 8))
    passages = [rng.normal(size=(n, 8)) for n in (2, 5, 1)]
    weights = np.array([1.0, 0.0, 3.0])
    best = np.array([(q @ p.T).max(axis=1) for p in passages])  # (passages, query tokens)
    assert maxsim_many(q, passages, weights) == pytest.approx(best @ weights / 4, abs=1e-5)
    assert maxsim_many(q, passages, np.ones(3)) == pytest.approx(maxsim_many(q, passages))
    # A passage without tokens scores 0 and leaves the others' weighted scores as they are.
    with_empty = maxsim_many(q, [*passages, np.zeros((0, 8))], weights)
    assert with_empty == pytest.approx([*(best @ weights / 4), 0.0], abs=1e-5)
    # Weights that do not fit the tokens (a tokenizer disagreeing) are an error, not ignored.
    with pytest.raises(ValueError, match="2 token weights for 3 query tokens"):
        maxsim_many(q, passages, np.ones(2))


def test_joined_query_tokens_keep_each_tokens_weight_in_line() -> None:
    a = QueryTokens(np.ones((2, 3)), np.array([1.0, 2.0]))
    b = QueryTokens(np.zeros((1, 3)), np.array([5.0]))
    both = a.joined(b)
    assert both.vectors.shape == (3, 3) and both.weights is not None
    assert both.weights.tolist() == [1.0, 2.0, 5.0]
    assert a.joined(QueryTokens(np.zeros((1, 3)))).weights is None  # unweighted: all alike


def test_idf_weighting_lets_the_rare_word_decide(tiny_searcher: Searcher) -> None:
    # Hashing tokens are words. "the" and "of" are in many passages, "chain" in one: weighted by
    # rarity, the chain passage's MaxSim beats a passage that matches only the common words.
    question = "the the of the of chain"

    def maxsims(idf: bool) -> dict[str, float]:
        searcher = Searcher(tiny_searcher.index, tiny_searcher.embedder,
                            replace(tiny_searcher.settings, maxsim_idf=idf))
        answer = searcher.search(question, k=10, with_candidates=True)
        return {h.passage.section: h.scores["maxsim"] for h in answer.candidates
                if "maxsim" in h.scores}

    plain, weighted = maxsims(False), maxsims(True)
    others = [s for s in weighted if s != "Chain Care"]
    assert all(weighted[s] < plain[s] for s in others if plain[s] > 0)  # common words count less
    assert weighted["Chain Care"] == max(weighted.values())

    def margin(scores: dict[str, float]) -> float:
        return scores["Chain Care"] - max(scores[s] for s in others)

    assert margin(weighted) > margin(plain) + 0.1


def test_standardise_gives_z_scores_and_zeros_for_a_flat_list() -> None:
    z = standardise(np.array([1.0, 2.0, 3.0]))
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)
    assert np.array_equal(standardise(np.array([5.0, 5.0])), np.zeros(2))


def test_rerank_order_follows_the_weighted_sum() -> None:
    fused = np.array([3.0, 2.0, 1.0])
    late = np.array([0.1, 0.2, 0.9])
    features = {"fused": fused, "maxsim": late}
    assert rerank_order(features, {"fused": 1.0, "maxsim": 0.0})[0].tolist() == [0, 1, 2]
    # z(fused) = (1.225, 0, -1.225); z(late) = (-0.843, -0.562, 1.405).
    order, combined = rerank_order(features, {"fused": 1.0, "maxsim": 1.0})
    assert order.tolist() == [0, 2, 1]
    assert combined.tolist() == pytest.approx([0.382, -0.562, 0.180], abs=1e-3)
    assert rerank_order(features, {"fused": 1.0, "maxsim": 100.0})[0].tolist() == [2, 1, 0]
    # A negative weight counts against a feature; a feature weighted 0 is not read.
    assert rerank_order(features, {"maxsim": -1.0})[0].tolist() == [0, 1, 2]
    assert rerank_order(features, {"maxsim": 1.0, "bm25": 0.0})[0].tolist() == [2, 1, 0]


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=20), st.floats(0, 3))
def test_rerank_order_is_a_permutation_and_stable_on_ties(values: list[float], w: float) -> None:
    fused = np.array(sorted(values, reverse=True))
    order, combined = rerank_order(
        {"fused": fused, "maxsim": np.zeros(len(values))}, {"fused": 1.0, "maxsim": w}
    )
    assert sorted(order.tolist()) == list(range(len(values)))
    assert order.tolist() == sorted(range(len(values)), key=lambda i: (-combined[i], i))


def test_token_vectors_round_trip(tmp_path: Path) -> None:
    per = [np.ones((2, 3), np.float32), np.zeros((0, 3), np.float32), np.eye(3, dtype=np.float32)]
    tokens = TokenVectors.from_list(per, 3)
    assert len(tokens) == 3 and tokens.data.dtype == np.float32  # in memory: fast to score
    assert tokens.offsets.tolist() == [0, 2, 2, 5]
    assert tokens.save(tmp_path) == [TOKENS_FILE, OFFSETS_FILE]
    assert np.load(tmp_path / TOKENS_FILE).dtype == np.float16  # on disk: half the size
    loaded = TokenVectors.load(tmp_path)
    assert loaded is not None
    for row, expected in enumerate(per):
        assert np.array_equal(loaded.get(row), expected.astype(np.float16).astype(np.float32))
    assert TokenVectors.load(tmp_path / "elsewhere") is None
    with pytest.raises(ValueError, match="offsets"):
        TokenVectors(tokens.data, np.array([0, 9]))
    with pytest.raises(ValueError, match="increasing"):
        TokenVectors(tokens.data, np.array([0, 4, 2, 5]))


# --- stored with the index --------------------------------------------------------------------


def test_the_index_keeps_each_passages_tokens(tiny_index: CorpusIndex) -> None:
    tokens = tiny_index.tokens
    assert tokens is not None and len(tokens) == len(tiny_index.passages)
    assert {TOKENS_FILE, OFFSETS_FILE} <= set(tiny_index.manifest["files"])
    loaded = load_index(tiny_index.folder.parent, HashingEmbedder(dim=1024))
    assert loaded.tokens is not None
    for row, passage in enumerate(tiny_index.passages):
        words = len(passage.text.split())
        assert abs(len(loaded.tokens.get(row)) - words) <= words // 2  # about one per word
        assert np.array_equal(loaded.tokens.get(row), tokens.get(row))


def test_tokens_can_be_left_out(tiny_corpus: Path, tmp_path: Path) -> None:
    settings = IndexSettings(token_vectors=False)
    index = build_index(tiny_corpus, tmp_path / "index", HashingEmbedder(dim=1024),
                        index_settings=settings)
    assert index.tokens is None and TOKENS_FILE not in index.manifest["files"]
    assert load_index(tmp_path / "index", HashingEmbedder(dim=1024)).tokens is None


def test_token_offsets_that_disagree_with_the_passages_are_refused(
    tiny_index: CorpusIndex,
) -> None:
    folder = current_build(tiny_index.folder.parent)
    np.save(folder / OFFSETS_FILE, np.array([0, len(tiny_index.tokens.data)]))  # type: ignore[union-attr]
    manifest = json.loads((folder / "manifest.json").read_text())
    from qa.manifest import file_checksum

    manifest["files"][OFFSETS_FILE] = file_checksum(folder / OFFSETS_FILE)  # a consistent lie
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="rebuild"):
        load_index(tiny_index.folder.parent, HashingEmbedder(dim=1024))


# --- in the search ----------------------------------------------------------------------------


def _searcher(base: Searcher, weight: float, depth: int = 20) -> Searcher:
    settings = SearchSettings(abstain_threshold=TINY_THRESHOLD, rerank_weight=weight,
                              rerank_depth=depth)
    return Searcher(base.index, base.embedder, settings)


def test_the_second_stage_is_on_by_default_and_off_at_weight_zero(
    tiny_searcher: Searcher,
) -> None:
    assert SearchSettings().rerank_weight > 0
    on = tiny_searcher.search(LEXICAL_QUESTIONS[0][0], k=10, with_candidates=True)
    assert any("maxsim" in h.scores for h in on.candidates)
    answer = _searcher(tiny_searcher, 0.0).search(
        LEXICAL_QUESTIONS[0][0], k=10, with_candidates=True
    )
    assert all("maxsim" not in h.scores for h in answer.candidates)
    assert [h.rank for h in answer.candidates] == [h.ranks["fused"] for h in answer.candidates]


def test_reranked_candidates_carry_both_stages(tiny_searcher: Searcher) -> None:
    searcher = _searcher(tiny_searcher, 1.0, depth=6)
    answer = searcher.search("how do bees make honey from nectar", k=10, with_candidates=True)
    head = [h for h in answer.candidates if "maxsim" in h.scores]
    assert len(head) == min(6, len(answer.candidates))
    assert [h.rank for h in head] == list(range(1, len(head) + 1))  # re-ranked ones come first
    assert sorted(h.ranks["fused"] for h in head) == list(range(1, len(head) + 1))
    assert sorted(h.ranks["maxsim"] for h in head) == list(range(1, len(head) + 1))
    scores = [h.score for h in answer.candidates]
    assert scores == sorted(scores, reverse=True)
    # Abstention is still judged on the dense cosine.
    assert all(h.cleared == (h.scores["dense"] >= TINY_THRESHOLD) for h in answer.candidates)
    # A large weight orders the head by MaxSim alone.
    by_late = _searcher(tiny_searcher, 1000.0, depth=6).search(
        "how do bees make honey from nectar", k=10, with_candidates=True
    )
    late = [h.scores["maxsim"] for h in by_late.candidates[:6]]
    assert late == sorted(late, reverse=True)


@pytest.mark.parametrize("mode", ["dense", "bm25"])
def test_single_retriever_modes_are_never_reranked(tiny_searcher: Searcher, mode: str) -> None:
    answer = _searcher(tiny_searcher, 1.0).search(
        LEXICAL_QUESTIONS[0][0], k=10, mode=mode, with_candidates=True  # type: ignore[arg-type]
    )
    assert all("maxsim" not in h.scores for h in answer.candidates)


def test_an_index_without_tokens_searches_without_the_second_stage(
    tiny_searcher: Searcher,
) -> None:
    index = replace(tiny_searcher.index, tokens=None)
    searcher = Searcher(index, tiny_searcher.embedder, _searcher(tiny_searcher, 1.0).settings)
    answer = searcher.search(LEXICAL_QUESTIONS[0][0], with_candidates=True)
    assert not answer.abstained
    assert all("maxsim" not in h.scores for h in answer.candidates)


@pytest.mark.parametrize(("question", "source", "section"), LEXICAL_QUESTIONS)
def test_lexical_questions_still_find_their_passage_when_reranked(
    tiny_searcher: Searcher, question: str, source: str, section: str
) -> None:
    top = _searcher(tiny_searcher, 1.0).search(question).citations[0]
    assert (top.source, top.section) == (source, section)
