"""The keyword retriever: BM25 (bm25s, Lucene variant) over stemmed, stop-worded tokens.

The tokenisation follows the bm25s set-up that MTEB uses for its published BM25 figures
(English Snowball stemmer, English stop words), so benchmark runs are comparable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

BM25_FOLDER = "bm25"
#: The stemmed words of the texts themselves, without their expansions (see ``build``).
WORDS_FILE = "bm25_words.json"
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
#: Words never reported as missing from the corpus (beside NLTK's English stop words, which
#: bm25s ships): the chatter of typed questions, which says nothing about their topic.
# fmt: off
_CHATTER = frozenset([
    "actually", "basically", "really", "just", "like", "lol", "gonna", "wanna", "kinda", "sorta",
    "stuff", "thing", "things", "get", "got", "gets", "getting", "give", "gives", "given", "go",
    "goes", "going", "gone", "come", "comes", "make", "makes", "made", "want", "wants", "know",
    "knows", "knew",
    "think", "say", "says", "said", "tell", "told", "keep", "see", "look", "use", "used", "way",
    "ok", "okay", "yes", "please", "thanks", "thank", "hi", "hey", "hello", "im", "ive", "id",
    "dont", "doesnt", "isnt", "arent", "cant", "wont", "didnt", "whats", "theres", "thats",
    "heres", "someone", "something", "anything", "everything", "anyone", "everyone", "somebody",
    "people", "person", "would", "could", "should", "might", "may", "must", "can", "will", "also",
    "even", "still", "ever", "already", "much", "many", "lot", "lots", "bit", "kind", "sort",
    "good", "bad", "better", "best", "normal", "regular", "usual", "usually", "right", "true",
    "real", "yeah", "well", "new", "old", "day", "days", "time", "times", "exactly", "anyway",
    "maybe", "probably", "sure", "guess", "mean", "means", "need", "needs", "try", "tried",
    "done", "actual", "tho", "though", "super", "pretty", "totally", "literally", "honestly",
    "seriously", "without", "within", "upon", "via", "per", "besides", "instead", "towards",
    "toward", "whether", "either", "neither", "else", "etc", "never", "anybody", "everybody",
    "nobody", "somewhere", "anywhere", "everywhere", "sometimes", "often", "always", "around",
    "across", "lately", "soon", "yet", "again", "anymore", "ngl", "tbh", "idk", "imo", "btw",
    "pls", "plz", "ask", "asks", "asked", "asking", "wonder", "wondering", "wondered",
])
# fmt: on
#: Endings of a strong verb's participle, which the stemmer keeps: "given", "known", "taken".
_PARTICIPLE = ("n", "en")


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed tokens, one list per text."""
    import bm25s

    tokens = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )
    return [list(t) for t in tokens]


class KeywordIndex:
    """BM25 over a fixed list of texts; rows are the positions of the texts given to ``build``."""

    def __init__(self, retriever: Any, size: int, words: frozenset[str] | None = None) -> None:
        self._retriever = retriever
        self.size = size
        #: The words the texts use, without their expansions; None: all the vocabulary.
        self._words = words

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        *,
        expansions: Sequence[str] = (),
        k1: float = 1.5,
        b: float = 0.75,
        progress: bool = False,
    ) -> KeywordIndex:
        """BM25 over ``texts``, each indexed with its ``expansions[i]`` when given: words
        searched for the row (document expansion, as doc2query's: Nogueira et al., 2019) that
        the corpus itself does not say, so they do not count as the corpus's words
        (:meth:`covers`, :meth:`unknown_words`)."""
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        words = None
        if texts:
            indexed = list(texts)
            if any(expansions):
                words = frozenset(w for row in tokenize(indexed) for w in row)
                indexed = [f"{t} {e}" for t, e in zip(indexed, expansions, strict=True)]
            corpus_tokens = bm25s.tokenize(
                indexed, stopwords="en", stemmer=_stemmer(), show_progress=progress
            )
            retriever.index(corpus_tokens, show_progress=progress)
        return cls(retriever, len(texts), words)

    def __len__(self) -> int:
        return self.size

    def search(
        self, queries: Sequence[str], k: int, *, correct_typos: bool = False
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each query, (row ids, scores) best first, only rows with a positive score.

        With ``correct_typos``, a query word missing from the corpus vocabulary is also searched
        as its closest vocabulary word (see :class:`Speller`): "migranes" finds "migraines".
        """
        k = min(k, self.size)
        if k <= 0 or not queries:
            return [(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in queries]
        tokens = tokenize(queries)
        if correct_typos:
            tokens = [self.speller().correct_all(t) for t in tokens]
        out: list[tuple[np.ndarray, np.ndarray]] = []
        # Queries with no known token would make bm25s score every document 0; skip them.
        known = [i for i, t in enumerate(tokens) if any(w in self._vocab for w in t)]
        results: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        if known:
            docs, scores = self._retriever.retrieve(
                [tokens[i] for i in known], k=k, show_progress=False, n_threads=1
            )
            for row, i in enumerate(known):
                keep = scores[row] > 0
                results[i] = (docs[row][keep].astype(np.int64), scores[row][keep])
        for i in range(len(queries)):
            out.append(results.get(i, (np.zeros(0, np.int64), np.zeros(0, np.float32))))
        return out

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for one query (for explaining a candidate's rank)."""
        tokens = [t for t in tokenize([query])[0] if t in self._vocab]
        if not tokens or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)

    def covers(self, text: str) -> bool:
        """Whether ``text`` names nothing the corpus never uses: it has no topic word (see
        :meth:`unknown_words`), or at least one of its topic words is in the corpus. "what
        about teenagers?" in a corpus that never says "teenagers" is not covered; "ok how do
        they give it to you" names no topic and is."""
        words = self._topic_words(text)
        return not words or len(self._unknown(words)) < len(words)

    def names_topic(self, text: str) -> bool:
        """Whether ``text`` has a word that could name a topic (see :meth:`unknown_words`):
        "what about teenagers?" has, "ok how do they give it to you" has not."""
        return bool(self._topic_words(text))

    def unknown_words(self, text: str) -> tuple[str, ...]:
        """The words of ``text`` the corpus never uses, as written, first occurrence each:
        "pregnant" in "is ketamine safe while pregnant?". A word counts as used when its stem,
        or a typo correction of it, is in the vocabulary; stop words, chatter ("actually",
        "lol"), words with a digit ("20mg") and words under three letters are never reported."""
        return self._unknown(self._topic_words(text))

    def _topic_words(self, text: str) -> dict[str, str]:
        """The words of ``text`` that could name a topic, folded to lower case, each mapped to
        its first occurrence as written."""
        import bm25s.stopwords

        quiet = _CHATTER | frozenset(bm25s.stopwords.STOPWORDS_EN_PLUS)
        words: dict[str, str] = {}
        for word in _WORD.findall(text):
            folded = word.lower().replace("’", "'")
            # "he's" and "doesn't" are quiet as "he" and "doesnt" are
            forms = {folded, folded.replace("'", ""), folded.split("'")[0]}
            # a word with a digit is a dose, a unit or a date ("20mg"): not a topic to name
            if len(folded) >= 3 and not any(c.isdigit() for c in folded) and not forms & quiet:
                words.setdefault(folded, word)
        return words

    def _unknown(self, words: dict[str, str]) -> tuple[str, ...]:
        if not words:
            return ()
        speller = self.speller()
        return tuple(
            word
            for word, tokens in zip(words.values(), tokenize(list(words)), strict=True)
            if tokens and not any(self._says(t) for t in speller.correct_all(tokens))
        )

    def _says(self, token: str) -> bool:
        """Whether the texts themselves (not their expansions) use the stemmed ``token``, or
        the same verb: the stemmer leaves a strong verb's participle as it is, so "give" and
        "knows" count as used by a text that says "given" or "known" (and the other way)."""
        words = self._vocab if self._words is None else self._words
        if token in words:
            return True
        stripped = (token[: -len(end)] for end in _PARTICIPLE if token.endswith(end))
        return any(token + end in words for end in _PARTICIPLE) or any(
            len(stem) >= 3 and stem in words for stem in stripped
        )

    def speller(self) -> Speller:
        """The typo corrector over this index's vocabulary (built on first use)."""
        speller = getattr(self, "_speller", None)
        if speller is None:
            indptr = np.asarray(self._retriever.scores.get("indptr", np.zeros(1)))
            speller = self._speller = Speller(self._vocab, np.diff(indptr))
        return speller

    @property
    def _vocab(self) -> dict[str, int]:
        return getattr(self._retriever, "vocab_dict", None) or {}

    def save(self, folder: Path) -> list[str]:
        """Write bm25s's plain files (JSON and .npy, no pickle) under ``folder/bm25``."""
        target = folder / BM25_FOLDER
        self._retriever.save(str(target), show_progress=False)
        names = sorted(str(p.relative_to(folder)) for p in target.rglob("*") if p.is_file())
        if self._words is not None:
            text = json.dumps(sorted(self._words), ensure_ascii=False)
            (folder / WORDS_FILE).write_text(text + "\n", encoding="utf-8")
            names.append(WORDS_FILE)
        return names

    @classmethod
    def load(cls, folder: Path, size: int) -> KeywordIndex:
        import bm25s

        retriever = bm25s.BM25.load(str(folder / BM25_FOLDER), show_progress=False)
        path = folder / WORDS_FILE
        words = None
        if path.is_file():
            words = frozenset(json.loads(path.read_text(encoding="utf-8")))
        return cls(retriever, size, words)


class Speller:
    """Maps a word missing from the vocabulary to the most frequent vocabulary word one edit away.

    Symmetric-delete lookup (Garbe's SymSpell): every vocabulary word is indexed under itself
    and each of its one-letter deletions, so a lookup costs a few dictionary probes, not a scan
    of the vocabulary; candidates are then checked to be one insertion, deletion, substitution
    or transposition away. Short words (under ``min_length`` characters, after stemming) are left
    alone: one edit turns them into too many other words.
    """

    def __init__(self, vocab: dict[str, int], document_frequency: np.ndarray, min_length: int = 5):
        self.min_length = min_length
        self._words = {i: w for w, i in vocab.items() if w}
        self._known = set(self._words.values())
        self._df = document_frequency
        self._variants: dict[str, list[int]] = {}
        for word, i in vocab.items():
            if len(word) >= min_length - 1:
                for variant in {word, *_deletions(word)}:
                    self._variants.setdefault(variant, []).append(i)

    def correct(self, word: str) -> str | None:
        """The most frequent vocabulary word one edit from ``word``; None if none."""
        found = self.candidates(word)
        return found[0] if found else None

    def candidates(self, word: str, limit: int = 3) -> list[str]:
        """Vocabulary words one edit from ``word``, most frequent first (at most ``limit``)."""
        if len(word) < self.min_length:
            return []
        found: set[int] = set()
        for variant in {word, *_deletions(word)}:
            found.update(self._variants.get(variant, ()))
        near = [i for i in found if i in self._words and _one_edit(word, self._words[i])]
        df = self._df
        near.sort(key=lambda i: (-(int(df[i]) if i < len(df) else 0), self._words[i]))
        return [self._words[i] for i in near[:limit]]

    def correct_all(self, tokens: list[str]) -> list[str]:
        """Tokens with each unknown one followed by its corrections: when two words are one edit
        away ("migran" -> "migrain", "migrat"), both are searched and the passage matching more
        of the question wins."""
        out: list[str] = []
        for token in tokens:
            out.append(token)
            if token not in self._known:
                out.extend(self.candidates(token))
        return out


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by exactly one edit (transposition counts as one)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):  # one insertion
        return a[i:] == b[i + 1 :]
    if a[i + 1 :] == b[i + 1 :]:  # one substitution
        return True
    return i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
