"""The keyword retriever: BM25 (bm25s, Lucene variant) over stemmed, stop-worded tokens.

The tokenisation follows the bm25s set-up that MTEB uses for its published BM25 figures
(English Snowball stemmer, English stop words), so benchmark runs are comparable.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

BM25_FOLDER = "bm25"


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

    def __init__(self, retriever: Any, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(
        cls, texts: Sequence[str], *, k1: float = 1.5, b: float = 0.75, progress: bool = False
    ) -> KeywordIndex:
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        if texts:
            corpus_tokens = bm25s.tokenize(
                list(texts), stopwords="en", stemmer=_stemmer(), show_progress=progress
            )
            retriever.index(corpus_tokens, show_progress=progress)
        return cls(retriever, len(texts))

    def __len__(self) -> int:
        return self.size

    def search(self, queries: Sequence[str], k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each query, (row ids, scores) best first, only rows with a positive score."""
        k = min(k, self.size)
        if k <= 0 or not queries:
            return [(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in queries]
        tokens = tokenize(queries)
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

    @property
    def _vocab(self) -> dict[str, int]:
        return getattr(self._retriever, "vocab_dict", None) or {}

    def save(self, folder: Path) -> list[str]:
        """Write bm25s's plain files (JSON and .npy, no pickle) under ``folder/bm25``."""
        target = folder / BM25_FOLDER
        self._retriever.save(str(target), show_progress=False)
        return sorted(str(p.relative_to(folder)) for p in target.rglob("*") if p.is_file())

    @classmethod
    def load(cls, folder: Path, size: int) -> KeywordIndex:
        import bm25s

        retriever = bm25s.BM25.load(str(folder / BM25_FOLDER), show_progress=False)
        return cls(retriever, size)
