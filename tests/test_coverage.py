"""Which unknown words the passages shown cannot speak to: the closeness test on token vectors."""

from __future__ import annotations

import re

import numpy as np

from qa.coverage import uncovered_words, word_closeness, word_spans

QUESTION = "is it safe while pregnant or on meds"
# One token per word, with its span in QUESTION.
SPANS = [(m.start(), m.end()) for m in re.finditer(r"\S+", QUESTION)]


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def question_tokens() -> np.ndarray:
    """Word i points along axis i (8 words, 8 axes)."""
    return np.eye(len(SPANS), dtype=np.float32)


def test_word_spans_find_each_words_first_whole_occurrence_case_blind() -> None:
    assert word_spans("Meds? meds", ["meds", "MEDS"]) == [(0, 4), (0, 4)]
    assert word_spans("abc", ["zzz"]) == [(0, 0)]
    # not inside another word: "son" is the last word, not the end of "reason"
    assert word_spans("for that reason, is it safe for my son?", ["son"]) == [(35, 38)]


def test_a_word_near_a_passage_token_is_covered_a_far_one_is_not() -> None:
    passage = np.stack([unit(0, 0, 0, 0, 0, 0, 0, 1)])  # "medications": along "meds"' axis
    assert uncovered_words(
        QUESTION, ["pregnant", "meds"], SPANS, question_tokens(), passage, 0.3
    ) == ("pregnant",)


def test_the_threshold_decides() -> None:
    passage = np.stack([unit(0, 0, 0, 0, 0.5, 0, 0, 0.866)])  # cosine 0.5 to "pregnant"
    assert uncovered_words(QUESTION, ["pregnant"], SPANS, question_tokens(), passage, 0.6) == (
        "pregnant",
    )
    assert uncovered_words(QUESTION, ["pregnant"], SPANS, question_tokens(), passage, 0.4) == ()


def test_closeness_averages_a_words_pieces() -> None:
    spans = [(0, 4), (4, 8)]  # "preg" "nant": two pieces of one word
    tokens = np.stack([unit(1, 0), unit(0, 1)])
    passage = np.stack([unit(1, 0)])
    assert word_closeness((0, 8), spans, tokens, passage) == 0.5


def test_without_token_vectors_every_unknown_word_is_reported() -> None:
    assert uncovered_words(QUESTION, ["pregnant", "meds"], None, None, None, 0.3) == (
        "pregnant",
        "meds",
    )
    assert uncovered_words(QUESTION, [], SPANS, question_tokens(), np.eye(8), 0.3) == ()
