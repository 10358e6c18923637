"""BM25 keyword search: plain retrieval and the one-edit typo correction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.keywords import KeywordIndex, Speller, _one_edit

TEXTS = [
    "Ketamine can help with migraines and other chronic pain.",
    "Depression that resists treatment may respond to ketamine.",
    "Blood pressure may rise for a short time after an infusion.",
    "Migration of birds is not a medical topic.",
]


@pytest.fixture(scope="module")
def index() -> KeywordIndex:
    return KeywordIndex.build(TEXTS)


def test_typos_find_their_word_only_when_asked(index: KeywordIndex) -> None:
    [(plain, _)] = index.search(["migranes"], 4)
    [(fixed, scores)] = index.search(["migranes"], 4, correct_typos=True)
    assert list(plain) == []
    # "migran" is one edit from both "migrain" and "migrat" (migration): both are searched.
    assert sorted(fixed) == [0, 3] and min(scores) > 0


@pytest.mark.parametrize(
    ("typo", "row"), [("depresion", 1), ("blod presure", 2), ("bloood", 2), ("ketamin", 0)]
)
def test_common_typos_are_corrected(index: KeywordIndex, typo: str, row: int) -> None:
    [(rows, _)] = index.search([typo], 4, correct_typos=True)
    assert row in rows[:2]


def test_known_words_and_short_words_are_left_alone(index: KeywordIndex) -> None:
    speller = index.speller()
    assert speller.correct_all(["migrain"]) == ["migrain"]  # known (stemmed) word
    assert speller.correct("pam") is None  # too short to correct safely
    assert speller.correct("zzzzzz") is None


def test_the_most_frequent_candidate_wins() -> None:
    vocab = {"cable": 0, "table": 1}
    speller = Speller(vocab, np.array([1, 5]))
    assert speller.correct("xable") == "table"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("abcde", "abxde", True),  # substitution
        ("abcde", "abdce", True),  # transposition
        ("abcde", "abcdef", True),  # insertion
        ("abcde", "abde", True),  # deletion
        ("abcde", "abcde", False),  # same word
        ("abcde", "cabde", False),  # two edits
        ("abcde", "abc", False),
    ],
)
def test_one_edit(a: str, b: str, expected: bool) -> None:
    assert _one_edit(a, b) is expected
    assert _one_edit(b, a) is expected


@given(st.text(alphabet="abcdef", min_size=5, max_size=8), st.data())
def test_any_single_deletion_is_found_back(word: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(word) - 1))
    typo = word[:position] + word[position + 1 :]
    speller = Speller({word: 0}, np.array([1]))
    if len(typo) >= speller.min_length:
        assert speller.correct(typo) == word


# --- words the corpus never uses ---------------------------------------------------------------


def test_unknown_words_are_the_ones_no_passage_uses(index: KeywordIndex) -> None:
    assert index.unknown_words("Is ketamine good for migraines while pregnant?") == ("pregnant",)
    # as typed, each once, in the order of the question
    assert index.unknown_words("Pregnant? PREGNANT, breastfeeding") == ("Pregnant", "breastfeeding")


def test_stems_and_typos_of_corpus_words_are_known(index: KeywordIndex) -> None:
    assert index.unknown_words("migranes infusions depressed treatments") == ()


def test_a_strong_verb_is_known_by_its_participle_and_the_other_way() -> None:
    """The stemmer keeps "given" and "known" as they are, so "give" and "knows" looked unknown
    to a corpus that says only the participles."""
    index = KeywordIndex.build(["It is given by a nurse.", "The cause is not yet known.", "Eat."])
    assert index.unknown_words("who gives the drug and is the cause knowable") == (
        "drug",
        "knowable",
    )
    assert index.unknown_words("is it taken or eaten") == ("taken",)


def test_a_text_is_covered_unless_every_topic_word_is_unknown(index: KeywordIndex) -> None:
    assert not index.covers("motorcycles and pregnancy")
    assert index.covers("pregnancy and migraines")  # one known word is enough
    # chatter names no topic: a follow-up made of it brings nothing the corpus lacks
    assert index.covers("basically nobody knows yet")
    assert index.covers("")


def test_chatter_stop_words_numbers_and_contractions_are_never_reported(
    index: KeywordIndex,
) -> None:
    assert index.unknown_words("lol he’s actually gonna do it in 2024 tho, ok? xy") == ()
    assert index.unknown_words("is 20mg or 0.5mg/kg ngl too much") == ()
    assert index.unknown_words("") == ()
