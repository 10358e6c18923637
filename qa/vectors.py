"""The dense vector store: FAISS over unit vectors (inner product = cosine), no embedder.

Exact search (``IndexFlatIP``) by default; HNSW for large corpora, where exact search per query
grows linearly with the corpus. Vectors are kept as ``vectors.npy`` (the source of truth); an
HNSW graph is saved beside them with ``faiss.write_index`` because rebuilding it is slow.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from qa.settings import IndexSettings

VECTORS_FILE = "vectors.npy"
#: Neighbours averaged for the hubness correction (CSLS used 10).
HUBNESS_K = 10
HNSW_FILE = "dense.hnsw.faiss"
HUBNESS_FILE = "hubness.npy"


def _faiss() -> Any:
    import faiss

    # One thread is 2.2x faster than faiss's default for single queries on this 2-core machine;
    # batches are parallelised by the caller's batching instead.
    faiss.omp_set_num_threads(1)
    return faiss


class DenseIndex:
    """Top-k inner-product search over a fixed matrix of unit vectors."""

    def __init__(
        self,
        vectors: np.ndarray,
        settings: IndexSettings = IndexSettings(),
        index: Any = None,
        hubness: np.ndarray | None = None,
    ):
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be a 2-d array, got shape {vectors.shape}")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.settings = settings
        self._index = index if index is not None else self._build()
        #: Per-row mean cosine to the nearest other rows (see neighbourhood_similarity), or
        #: None when not computed; saved with the index so queries never pay for it.
        self.hubness = hubness

    def _build(self) -> Any:
        faiss = _faiss()
        dim = self.vectors.shape[1]
        if self.settings.kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, self.settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.settings.hnsw_ef_construction
        else:
            index = faiss.IndexFlatIP(dim)
        if len(self.vectors):
            if self.settings.kind == "hnsw":
                # Building the graph is a bulk job: every core (2.1x faster at 100k vectors),
                # then back to one thread, which is fastest for single queries.
                faiss.omp_set_num_threads(os.cpu_count() or 1)
                try:
                    index.add(self.vectors)
                finally:
                    faiss.omp_set_num_threads(1)
            else:
                index.add(self.vectors)
        return index

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and row ids, best first, shape (n_queries, k'); k' = min(k, len). No -1 padding
        for exact search; HNSW may return -1 ids, which callers must skip."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self))
        if k <= 0:
            empty = np.zeros((queries.shape[0], 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if self.settings.kind == "hnsw":
            self._index.hnsw.efSearch = max(self.settings.hnsw_ef_search, k)
        scores, ids = self._index.search(queries, k)
        return scores, ids

    def similarity(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact cosine between one query vector and the given rows (for candidates of other
        retrievers, which need a dense score too)."""
        return self.vectors[rows] @ np.asarray(query, dtype=np.float32)

    def neighbourhood_similarity(
        self, k: int = HUBNESS_K, *, duplicate: float = 0.95, batch: int = 1024
    ) -> np.ndarray:
        """Each vector's mean cosine to its ``k`` nearest other vectors: how much of a "hub" it is.

        In high-dimensional embedding spaces some points (here: summaries, introductions) are
        near everything and crowd the top of every result list (Radovanovic et al., JMLR 2010,
        "Hubs in space"). CSLS (Conneau et al., ICLR 2018) corrects a cosine by this mean
        neighbourhood similarity; :func:`qa.fusion.rank_candidates` uses it that way.
        Near-copies (cosine >= ``duplicate``) are not counted as neighbours: a paragraph that
        is repeated in two files is not a hub, only repeated.
        """
        n = len(self)
        if n < 2:
            return np.zeros(n, dtype=np.float32)
        k = min(k, n - 1)
        out = np.empty(n, dtype=np.float32)
        for start in range(0, n, batch):
            rows = np.arange(start, min(start + batch, n))
            scores, ids = self.search(self.vectors[rows], 2 * k + 1)
            for i, row in enumerate(rows):
                # Drop the row itself (by id: a copy may outrank it) and its near-copies, then
                # keep the k best others.
                keep = (ids[i] != row) & (ids[i] >= 0) & (scores[i] < duplicate)
                others = scores[i][keep][:k]
                out[row] = float(others.mean()) if len(others) else 0.0
        return out

    def save(self, folder: Path) -> list[str]:
        """Write plain files into ``folder``; returns their names (for the manifest)."""
        np.save(folder / VECTORS_FILE, self.vectors, allow_pickle=False)
        names = [VECTORS_FILE]
        if self.hubness is not None:
            np.save(folder / HUBNESS_FILE, self.hubness, allow_pickle=False)
            names.append(HUBNESS_FILE)
        if self.settings.kind == "hnsw":
            _faiss().write_index(self._index, str(folder / HNSW_FILE))
            names.append(HNSW_FILE)
        return names

    @classmethod
    def load(cls, folder: Path, settings: IndexSettings) -> DenseIndex:
        vectors = np.load(folder / VECTORS_FILE, allow_pickle=False)
        hub_path = folder / HUBNESS_FILE
        hubness = np.load(hub_path, allow_pickle=False) if hub_path.is_file() else None
        if hubness is not None and hubness.shape != (vectors.shape[0],):
            raise ValueError(f"{HUBNESS_FILE} has shape {hubness.shape} for {len(vectors)} rows")
        index = None
        if settings.kind == "hnsw":
            index = _faiss().read_index(str(folder / HNSW_FILE))
        return cls(vectors, settings, index=index, hubness=hubness)
