"""Spelling correction of questions: misspellings become corpus words, real words stay."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import TINY_THRESHOLD, write_tiny_corpus

from qa.embedders import HashingEmbedder
from qa.index import build_index
from qa.search import Searcher
from qa.settings import SearchSettings
from qa.spelling import QuerySpeller, english_words

CORPUS = [
    "Common side effects of ketamine include dissociation and dizziness.",
    "Ketamine may help with depression, anxiety and bipolar disorder.",
    "Some patients report relief; others relieve symptoms with therapy. What helps is rest.",
    "Effects effects effects. Affects.",  # "effects" is the more frequent neighbour
]


@pytest.fixture(scope="module")
def speller() -> QuerySpeller:
    return QuerySpeller(CORPUS)


@pytest.mark.parametrize(
    ("typed", "corrected"),
    [
        ("side efects", "side effects"),  # a letter dropped
        ("ketamin for depresion", "ketamine for depression"),
        ("anxeity", "anxiety"),  # two letters swapped
        ("bipoler disorder", "bipolar disorder"),  # a vowel for a vowel
        ("dizzziness", "dizziness"),  # a letter doubled
        ("Depresion?", "Depression?"),  # a capital is kept, and the punctuation
        ("side-efects, really", "side-effects, really"),
        ("sidde effcts", "side effects"),
        ("SIDE EFECTS", "SIDE EFFECTS"),
        # no corpus word is near: the English word the visitor meant
        ("is it safe when pregnent", "is it safe when pregnant"),
        ("recieve", "receive"),  # not "relieve": a consonant for a consonant is no slip
        ("aproved", "approved"),  # not "proved": the first letter is kept
    ],
)
def test_misspellings_become_corpus_words(
    speller: QuerySpeller, typed: str, corrected: str
) -> None:
    assert speller.correct(typed) == corrected


@pytest.mark.parametrize(
    "typed",
    [
        "is it safe while pregnant",  # English words the corpus never uses are left alone
        "can you get hooked on pills",
        "detox",
        "benzos",  # pyspellchecker lists "benzols", but has never seen it in use
        "whats the point",  # a corpus word plus "s": a plural or a missing apostrophe
        "efcts",  # two edits from "effects"
        "iffects",  # a vowel for a vowel, but the first letter: not "effects"
        "sde",  # a word under five letters is never corrected
        "zyxwvut",  # nothing near
        "",
    ],
)
def test_real_words_and_far_misspellings_are_kept(speller: QuerySpeller, typed: str) -> None:
    assert speller.correct(typed) == typed


def test_with_words_of_its_own_it_corrects_to_corpus_words_only() -> None:
    speller = QuerySpeller(CORPUS, known_words={"side"})
    assert speller.correct("side efects when pregnent") == "side effects when pregnent"


def test_the_english_word_list_knows_common_words_and_not_misspellings() -> None:
    words = english_words()
    assert {"pregnant", "detox", "pills", "receive"} <= words
    assert not {"efects", "depresion", "recieve"} & words


def test_a_searcher_corrects_the_question_and_quotes_the_visitors_words(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Hashed vectors are word overlap: "presure" shares nothing with "pressure".
    embedder = HashingEmbedder(dim=1024)
    index = build_index(write_tiny_corpus(tmp_path / "corpus"), tmp_path / "index", embedder)
    settings = SearchSettings(abstain_threshold=TINY_THRESHOLD)
    question = "what tyre presure for a road bicycle?"
    corrected = Searcher(index, embedder, settings).search(question)
    assert corrected.question == question
    assert corrected.effective_query == "what tyre pressure for a road bicycle?"
    assert corrected.citations[0].section == "Tyre Pressure"
    plain = Searcher(index, embedder, replace(settings, correct_spelling=False)).search(question)
    assert plain.effective_query == question
    assert plain.hits[0].scores["dense"] < corrected.hits[0].scores["dense"]


def test_history_is_corrected_too(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search("how often?", history=["when to feed a sourdough startr"])
    assert answer.effective_query == "when to feed a sourdough starter how often?"
