"""Running a BEIR split through the engine: every mode, run files, and the scored report.

What is measured is what the chat engine runs: the same embedder, retrievers and
:func:`~qa.fusion.rank_candidates`, with BM25-only candidates given their exact cosine before
fusion as ``Searcher`` does, and the fused modes re-ranked by the second stage
(:mod:`qa.rerank`) when ``SearchSettings.rerank_weight`` is positive. The cached BEIR index keeps
no token vectors (they would be hundreds of MB); the candidates' are encoded as they come up.
Scores are computed by :mod:`qa.metrics` (pytrec_eval).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from qa.beir import BeirDataset, BeirIndex
from qa.embedders import Embedder, TokenEmbedder
from qa.errors import InputError
from qa.fusion import extend_dense, rank_candidates
from qa.rerank import QueryTokens, TokenRarity, second_stage
from qa.settings import MODES, PassageSettings, SearchSettings
from qa.spelling import QuerySpeller

#: The engine's modes; "hybrid" fuses as the engine is configured (``SearchSettings.fusion``),
#: "hybrid-rrf" and "hybrid-convex" name a fusion, to compare the two (see qa.fusion).
EVAL_MODES: tuple[str, ...] = (*MODES, "hybrid-rrf", "hybrid-convex")
_FUSION = {"hybrid-rrf": "rrf", "hybrid-convex": "convex"}
_FUSED = ("hybrid", *_FUSION)
#: Recall@100 needs 100 documents per query.
MIN_DEPTH = 100


@dataclass(frozen=True)
class ModeRun:
    """One mode's run: query id -> document id -> score, best first, and the seconds it took."""

    mode: str
    run: dict[str, dict[str, float]]
    seconds: float

    @property
    def queries_per_second(self) -> float:
        return len(self.run) / self.seconds if self.seconds > 0 else float("inf")


def strictly_decreasing(scores: Sequence[float]) -> list[float]:
    """The scores, nudged down by the smallest float step where one does not fall below the
    previous: trec_eval re-sorts a run by score (ties by document id), so fused runs, whose
    scores tie often (RRF), must carry their order in their scores."""
    out: list[float] = []
    for score in scores:
        value = float(score)
        if out and value >= out[-1]:
            value = float(np.nextafter(out[-1], -np.inf))
        out.append(value)
    return out


def _order(
    mode: str,
    dense: tuple[np.ndarray, np.ndarray],
    keyword: tuple[np.ndarray, np.ndarray],
    settings: SearchSettings,
    hubness: np.ndarray | None = None,
) -> list[tuple[int, float]]:
    if mode in MODES and mode != "hybrid":
        return rank_candidates(dense, keyword, mode)
    return rank_candidates(
        dense,
        keyword,
        "hybrid",
        fusion=_FUSION.get(mode, settings.fusion),
        rrf_k=settings.rrf_k,
        alpha=settings.alpha,
        hubness=hubness,
        hubness_weight=settings.hubness_weight,
    )


def _to_documents(
    order: list[tuple[int, float]], row_doc: np.ndarray, doc_ids: Sequence[str], depth: int
) -> list[tuple[str, float]]:
    """Rows to documents, best first; a document takes its best row's place and score (MaxP)."""
    seen: dict[str, float] = {}
    for row, score in order:
        doc = doc_ids[int(row_doc[row])]
        if doc not in seen:
            seen[doc] = score
            if len(seen) >= depth:
                break
    return list(seen.items())


def run_queries(
    index: BeirIndex,
    dataset: BeirDataset,
    embedder: Embedder,
    modes: Sequence[str],
    *,
    depth: int = MIN_DEPTH,
    fusion_depth: int = MIN_DEPTH,
    settings: SearchSettings = SearchSettings(),
    batch_size: int = 64,
    progress: bool = False,
) -> dict[str, ModeRun]:
    """Run every query of the split in batches, encoding each query once. ``depth`` documents
    are kept per query; the fused modes fuse each retriever's first ``fusion_depth`` rows
    (candidate depth, kept apart from the final depth) as the chat engine does, with
    ``settings``' fusion, RRF constant and convex weight."""
    from tqdm.auto import tqdm

    unknown = [m for m in modes if m not in EVAL_MODES]
    if unknown or not modes:
        raise InputError(
            f"unknown mode {unknown[0] if unknown else ''!r}; choose from {', '.join(EVAL_MODES)}"
        )
    if depth < 1 or fusion_depth < 1:
        raise InputError("depth and fusion depth must be at least 1")
    # Passages need more rows than documents to fill `depth` documents.
    plain = depth * (1 if len(index.row_doc) == len(dataset.doc_ids) else 4)
    # Each retriever is asked for exactly the depth a mode uses, as the engine asks for its
    # candidate depth: cutting a deeper list could order ties at the cut differently.
    asks = {
        (r, plain if mode == r else fusion_depth)
        for mode in modes
        for r in ("dense", "bm25")
        if mode in (r, *_FUSED)
    }
    qids = list(dataset.queries)
    # The second stage, as the Searcher runs it: fused modes, a weight, a model with tokens.
    row_tokens = (
        _RowTokens(index, dataset, embedder)
        if settings.rerank_weight > 0
        and isinstance(embedder, TokenEmbedder)
        and any(m in _FUSED for m in modes)
        else None
    )
    # MaxSim weighs query tokens by their rarity among the rows, as the Searcher does.
    rarity = (
        TokenRarity(row_tokens.embedder.token_ids(row_tokens.texts))
        if row_tokens is not None and settings.maxsim_idf
        else None
    )
    # Misspelt query words corrected, as the Searcher does (qa.spelling).
    spell = (
        QuerySpeller([*dataset.titles, *dataset.bodies]).correct
        if settings.correct_spelling
        else None
    )
    runs: dict[str, dict[str, dict[str, float]]] = {m: {} for m in modes}
    spent: dict[Any, float] = dict.fromkeys([*asks, "encode", "rerank", *modes], 0.0)
    bar = tqdm(total=len(qids), desc="Querying", unit="query", disable=not progress)
    for start in range(0, len(qids), batch_size):
        batch = qids[start : start + batch_size]
        texts = [dataset.queries[q] for q in batch]
        if spell is not None:
            texts = [spell(text) for text in texts]
        qvecs = np.zeros((len(batch), 0), dtype=np.float32)
        if any(r == "dense" for r, _ in asks):
            t = time.perf_counter()
            qvecs = embedder.encode(texts, "query", batch_size=batch_size)
            spent["encode"] += time.perf_counter() - t
        qtokens: list[np.ndarray] = []
        qweights: list[np.ndarray | None] = [None] * len(batch)
        if row_tokens is not None:
            t = time.perf_counter()
            qtokens = row_tokens.embedder.encode_with_tokens(texts, "query")[1]
            if rarity is not None:
                qweights = [rarity.weights(ids) for ids in row_tokens.embedder.token_ids(texts)]
            spent["encode"] += time.perf_counter() - t
        found: dict[tuple[str, int], Any] = {}
        for retriever, k in sorted(asks):
            t = time.perf_counter()
            if retriever == "dense":
                scores, ids = index.dense.search(qvecs, k)
                found[retriever, k] = list(zip(ids, scores, strict=True))
            else:
                found[retriever, k] = index.keywords.search(
                    texts, k, correct_typos=settings.correct_typos
                )
            spent[retriever, k] += time.perf_counter() - t
        nothing = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        orders: dict[tuple[int, str], list[tuple[int, float]]] = {}
        for i in range(len(batch)):
            for mode in modes:
                t = time.perf_counter()
                if mode in ("dense", "bm25"):
                    hits = found[mode, plain][i]
                    orders[i, mode] = _order(
                        mode,
                        hits if mode == "dense" else nothing,
                        hits if mode == "bm25" else nothing,
                        settings,
                    )
                else:
                    keyword = found["bm25", fusion_depth][i]
                    dense = extend_dense(
                        qvecs[i], found["dense", fusion_depth][i], keyword, index.dense
                    )
                    orders[i, mode] = _order(mode, dense, keyword, settings, index.dense.hubness)
                spent[mode] += time.perf_counter() - t
        if row_tokens is not None:  # the second stage, with the whole batch's candidates encoded
            t = time.perf_counter()
            fused = [key for key in orders if key[1] in _FUSED]
            row_tokens.fetch([r for key in fused for r, _ in orders[key][: settings.rerank_depth]])
            weights = settings.reranker_weights()
            for i, mode in fused:
                keyword = found["bm25", fusion_depth][i]
                orders[i, mode] = second_stage(
                    orders[i, mode],
                    settings.rerank_depth,
                    weights,
                    query=QueryTokens(qtokens[i], qweights[i]),
                    tokens_of=row_tokens.get,
                    cosines=partial(index.dense.similarity, qvecs[i]),
                    bm25={int(r): float(v) for r, v in zip(*keyword, strict=True)},
                )[0]
            spent["rerank"] += time.perf_counter() - t
        for (i, mode), order in orders.items():
            docs = _to_documents(order, index.row_doc, dataset.doc_ids, depth)
            if mode not in ("dense", "bm25"):
                nudged = strictly_decreasing([s for _, s in docs])
                docs = [(d, s) for (d, _), s in zip(docs, nudged, strict=True)]
            runs[mode][batch[i]] = dict(docs)
        bar.update(len(batch))
    bar.close()
    out = {}
    for mode in modes:
        k = plain if mode in ("dense", "bm25") else fusion_depth
        stages = [(r, k) for r in ("dense", "bm25") if (r, k) in asks and mode in (r, *_FUSED)]
        seconds = spent[mode] + sum(spent[s] for s in stages)
        if mode != "bm25":
            seconds += spent["encode"]
        if mode in _FUSED:
            seconds += spent["rerank"] / sum(m in _FUSED for m in modes)
        out[mode] = ModeRun(mode, runs[mode], seconds)
    return out


class _RowTokens:
    """Token vectors of a BEIR index's rows, encoded when first needed and kept."""

    def __init__(self, index: BeirIndex, dataset: BeirDataset, embedder: TokenEmbedder) -> None:
        from qa.beir import corpus_rows

        passages = index.manifest.get("passages")
        self.texts = corpus_rows(
            dataset, PassageSettings(**passages) if passages else None
        ).dense_texts
        self.embedder = embedder
        self._tokens: dict[int, np.ndarray] = {}

    def fetch(self, rows: Sequence[int]) -> None:
        missing = list(dict.fromkeys(r for r in rows if r not in self._tokens))
        if missing:
            _, tokens = self.embedder.encode_with_tokens(
                [self.texts[r] for r in missing], "passage"
            )
            # Rounded through float16 as the index stores them, so the scores match the Searcher's.
            self._tokens.update(
                zip(missing, (t.astype(np.float16).astype(np.float32) for t in tokens), strict=True)
            )

    def get(self, row: int) -> np.ndarray:
        return self._tokens[row]


def write_run(path: Path | str, run: Mapping[str, Mapping[str, float]], tag: str) -> None:
    """A TREC run file: ``query Q0 document rank score tag``, ranks in the run's own order.
    Scores are written exactly (shortest round-trip form) so the order survives re-reading."""
    with Path(path).open("w", encoding="utf-8") as handle:
        for qid, docs in run.items():
            for rank, (doc, score) in enumerate(docs.items(), start=1):
                handle.write(f"{qid} Q0 {doc} {rank} {float(score)!r} {tag}\n")


def beir_report(
    dataset: BeirDataset,
    index: BeirIndex,
    runs: Mapping[str, ModeRun],
    *,
    k: int = 10,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON report: metrics per mode (nDCG@k, Recall@100, MRR@k), per-query scores,
    timings and throughput."""
    from qa.metrics import evaluate_run, mean_scores

    m = index.manifest
    modes = {}
    for mode, result in runs.items():
        per_query = evaluate_run(dataset.qrels, result.run, ndcg_at=(k,), mrr_at=(k,))
        modes[mode] = {
            "metrics": {name: round(v, 6) for name, v in mean_scores(per_query).items()},
            "seconds": round(result.seconds, 3),
            "queries_per_second": round(result.queries_per_second, 2),
            "per_query": {
                qid: {name: round(v, 6) for name, v in scores.items()}
                for qid, scores in per_query.items()
            },
        }
    return {
        "dataset": {
            "folder": str(dataset.folder),
            "split": dataset.split,
            "documents": len(dataset.doc_ids),
            "queries": len(dataset.queries),
            "judgments": sum(len(d) for d in dataset.qrels.values()),
        },
        "index": {
            "folder": str(index.folder),
            "from_cache": not index.built,
            "rows": len(index.row_doc),
            "embedder": m["embedder"],
            "passages": m["passages"],
            "build_seconds": m["build_seconds"],
            "documents_per_second": m["documents_per_second"],
        },
        "settings": dict(settings or {}),
        "modes": modes,
    }
