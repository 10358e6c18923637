"""Spelling correction of a question before it is searched: "side efects" -> "side effects".

The dense model reads a misspelt word as unrelated word pieces ("ef", "##ects"), so a short
question with one typo scores far under the abstention threshold and is answered "not
covered" (cosine 0.18 for "side efects" against 0.59 for "side effects"). BM25 already searches
a one-edit correction of an unknown stem (:class:`qa.keywords.Speller`); this module corrects
the words themselves, so that every retriever, the abstention and the caution see them.

A word is corrected only when all of these hold, so that a real word the corpus lacks
("pills", "detox", "cost") is left alone and named by the caution as before:

- it has five letters or more (one edit turns a short word into too many others), and is not
  a corpus word plus "s" (a plural, or "whats" typed without its apostrophe);
- the corpus never uses it, and it is not an English word (pyspellchecker's English word list,
  160,000 words, is how a word the corpus lacks is told from a misspelling);
- a word is one slip away that keeps its first letter: a letter added, dropped or two swapped,
  or one vowel for another ("bipoler" -> "bipolar"), not any letter for any other ("recieve"
  is one substitution from "relieve", and means something else).

The word it becomes is the most frequent such corpus word; failing one, the most frequent such
English word that the list has seen in use ("pregnent" -> "pregnant", "addictve" ->
"addictive"), so the caution can name what the articles never mention.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Container, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from qa.keywords import Speller

if TYPE_CHECKING:
    from spellchecker import SpellChecker

_LETTERS = re.compile(r"[^\W\d_]+")  # a run of letters: "efects" in "side-efects?"
_VOWELS = frozenset("aeiouy")
MIN_LENGTH = 5


@lru_cache(maxsize=1)
def _english() -> SpellChecker:
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """pyspellchecker's English word list (loaded once, about 0.2 s)."""
    return frozenset(_english().word_frequency.dictionary)


#: pyspellchecker gives words it has from word lists but never saw in use this count; a
#: correction must have been seen more often ("benzos" is not "benzols").
_LIST_ONLY = 50


class QuerySpeller:
    """Corrects misspelt words of a question to words of one corpus or, failing those, English
    words. ``known_words`` are real words never corrected (by default :func:`english_words`;
    with another set, words are corrected to corpus words only)."""

    def __init__(self, texts: Iterable[str], known_words: Container[str] | None = None) -> None:
        self._english = known_words is None  # English corrections only with the English list
        counts = Counter(w.lower() for text in texts for w in _LETTERS.findall(text))
        words = sorted(counts)
        self._vocab = {w: i for i, w in enumerate(words)}
        self._known = english_words() if known_words is None else known_words
        self._speller = Speller(
            self._vocab, np.array([counts[w] for w in words]), min_length=MIN_LENGTH
        )

    def correct(self, text: str) -> str:
        """``text`` with its misspelt words replaced; everything else is kept as typed."""
        return _LETTERS.sub(lambda m: self._word(m.group()), text)

    def _word(self, word: str) -> str:
        folded = word.lower()
        if len(folded) < MIN_LENGTH or folded in self._vocab or folded in self._known:
            return word
        if folded.endswith("s") and (folded[:-1] in self._vocab or folded[:-1] in self._known):
            return word  # a plural or a possessive typed without its apostrophe ("whats")
        found = [c for c in self._speller.candidates(folded, limit=5) if _typing_slip(folded, c)]
        if not found and self._english:
            english = _english()
            counts = {c: english[c] for c in english.candidates(folded) or ()}
            found = sorted(
                (c for c, n in counts.items() if n > _LIST_ONLY and _typing_slip(folded, c)),
                key=lambda c: -counts[c],
            )
        if not found:
            return word
        if word.isupper() and len(word) > 1:
            return found[0].upper()
        return found[0].capitalize() if word[0].isupper() else found[0]


def _typing_slip(typed: str, word: str) -> bool:
    """Whether ``word`` is ``typed`` with a letter added, dropped or swapped with the next,
    or one vowel put for another, the first letter kept (the two are one edit apart)."""
    if typed[:1] != word[:1]:
        return False
    if len(typed) != len(word):
        return True  # an insertion or a deletion
    diff = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
    if len(diff) == 2:  # a transposition
        return True
    return len(diff) == 1 and typed[diff[0]] in _VOWELS and word[diff[0]] in _VOWELS
