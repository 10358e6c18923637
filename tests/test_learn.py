"""Learning the second stage's weights (qa.learn) and searching with them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import LEXICAL_QUESTIONS, TINY_THRESHOLD

from qa.errors import InputError
from qa.learn import fit_weights, head_features, learn_weights
from qa.questions import Question
from qa.rerank import FEATURES, standardise
from qa.search import Searcher
from qa.settings import SearchSettings


def _questions(searcher: Searcher, split: str = "calibration") -> list[Question]:
    """The tiny corpus's lexical questions, each with its answer passage's opening as evidence."""
    out = []
    for n, (question, source, section) in enumerate(LEXICAL_QUESTIONS):
        passage = next(
            p for p in searcher.index.passages if p.source == source and p.section == section
        )
        out.append(Question(f"q{n}", question, evidence=(passage.text[:40],), split=split))
    return out


def test_learning_weighs_the_feature_that_tells_relevant_passages_apart() -> None:
    rng = np.random.default_rng(0)
    informative = FEATURES.index("maxsim_own")
    features, labels = [], []
    for _ in range(40):
        x = rng.normal(size=(12, len(FEATURES)))
        flags = [False] * 12
        flags[int(np.argmax(x[:, informative]))] = True  # the best maxsim_own is the answer
        features.append(x)
        labels.append(flags)
    weights = learn_weights(features, labels, c=1.0)
    assert list(weights) == list(FEATURES)
    assert max(weights, key=lambda name: weights[name]) == "maxsim_own"
    assert weights["maxsim_own"] > 3 * max(abs(w) for n, w in weights.items() if n != "maxsim_own")


def test_learning_needs_both_kinds_of_candidate_and_a_positive_c() -> None:
    x = [np.zeros((3, len(FEATURES)))]
    with pytest.raises(InputError, match="both relevant and other"):
        learn_weights(x, [[False, False, False]])
    with pytest.raises(InputError, match="positive"):
        learn_weights(x, [[True, False, False]], c=0.0)


def test_head_features_are_the_reranked_candidates_standardised(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search(LEXICAL_QUESTIONS[0][0], k=3, with_candidates=True)
    features, texts = head_features(answer)
    head = [h for h in answer.candidates if "reranked" in h.ranks]
    assert features.shape == (len(head), len(FEATURES)) and len(texts) == len(head)
    maxsim = np.array([h.scores["maxsim"] for h in head])
    assert features[:, FEATURES.index("maxsim")] == pytest.approx(standardise(maxsim))
    # Without history the visitor's own words are the question: the "_own" features agree.
    assert [h.scores["maxsim_own"] for h in head] == pytest.approx(maxsim.tolist())
    dense = [h.scores["dense"] for h in head]
    assert [h.scores["dense_own"] for h in head] == pytest.approx(dense, abs=1e-5)


def test_a_followup_scores_the_visitors_own_words_apart(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search(
        "and the chain?", history=["What pressure should road bicycle tyres be inflated to?"],
        with_candidates=True,
    )
    head = [h for h in answer.candidates if "reranked" in h.ranks]
    assert any(h.scores["maxsim_own"] != pytest.approx(h.scores["maxsim"]) for h in head)
    assert any(h.scores["dense_own"] != pytest.approx(h.scores["dense"]) for h in head)


def test_fitting_on_a_split_and_searching_with_the_weights(tiny_searcher: Searcher) -> None:
    questions = _questions(tiny_searcher)
    fitted = fit_weights(tiny_searcher, [*questions, *_questions(tiny_searcher, "holdout")])
    assert set(fitted.weights) == set(FEATURES)
    assert fitted.questions + len(fitted.left_out) == len(questions)  # calibration only
    assert 0 < fitted.relevant < fitted.candidates
    learned = Searcher(
        tiny_searcher.index,
        tiny_searcher.embedder,
        replace(tiny_searcher.settings, rerank_features=tuple(fitted.weights.items())),
    )
    found = [
        any(q.evidence[0] in c.text for c in learned.search(q.question, k=3).citations)
        for q in questions
    ]
    assert sum(found) >= len(questions) - 1


def test_fitting_refuses_a_split_without_questions_or_a_stage_that_is_off(
    tiny_searcher: Searcher,
) -> None:
    with pytest.raises(InputError, match="no answerable questions in the 'test' split"):
        fit_weights(tiny_searcher, _questions(tiny_searcher), split="test")  # all calibration
    off = Searcher(tiny_searcher.index, tiny_searcher.embedder,
                   SearchSettings(abstain_threshold=TINY_THRESHOLD, rerank_weight=0.0))
    with pytest.raises(InputError, match="second stage on"):
        fit_weights(off, _questions(off))


def test_learned_weights_order_the_head_and_weight_zero_still_turns_it_off(
    tiny_searcher: Searcher,
) -> None:
    question = "how do bees make honey from nectar"

    def searcher(**settings: object) -> Searcher:
        return Searcher(tiny_searcher.index, tiny_searcher.embedder,
                        SearchSettings(abstain_threshold=TINY_THRESHOLD, rerank_depth=6,
                                       **settings))  # type: ignore[arg-type]

    by_bm25 = searcher(rerank_features=(("bm25", 1.0),)).search(question, k=10,
                                                                   with_candidates=True)
    scores = [h.scores.get("bm25", 0.0) for h in by_bm25.candidates[:6]]
    assert scores == sorted(scores, reverse=True)
    by_maxsim = searcher(rerank_features=(("maxsim", -1.0),)).search(question, k=10,
                                                                        with_candidates=True)
    late = [h.scores["maxsim"] for h in by_maxsim.candidates[:6]]
    assert late == sorted(late)  # the worst token match first: the weight is read, sign and all
    assert late != sorted(late, reverse=True)
    off = searcher(rerank_features=(("maxsim", 1.0),), rerank_weight=0.0).search(
        question, k=10, with_candidates=True
    )
    assert all("maxsim" not in h.scores for h in off.candidates)
