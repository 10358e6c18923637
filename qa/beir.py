"""Public benchmarks in BEIR format: load a data set, index its corpus once (cached), run its
queries through the engine's own retrievers, and score the runs the way trec_eval does.

A BEIR folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
``text``) and ``qrels/<split>.tsv`` (query id, document id, grade; a header line). Each document is
one retrieval unit, ``(title + " " + text).strip()``, as BEIR and MTEB encode it; the engine's
passage splitting is applied only when asked (then a document scores as its best passage).

What is measured is what the chat engine runs: the same embedder, :class:`~qa.vectors.DenseIndex`,
:class:`~qa.keywords.KeywordIndex` and :func:`~qa.search.rank_candidates`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.embedders import Embedder
from qa.errors import IndexCorruptError, InputError
from qa.fusion import RRF_K, convex_fusion
from qa.records import stable_id
from qa.settings import MODES, IndexSettings, PassageSettings

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ROW_DOC_FILE = "row_doc.npy"
#: The engine's modes plus score fusion, kept for comparison with RRF (see qa.fusion).
EVAL_MODES: tuple[str, ...] = (*MODES, "hybrid-convex")
#: Recall@100 needs 100 documents per query.
MIN_DEPTH = 100

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# --- loading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BeirDataset:
    """A BEIR split in memory: the corpus, the split's queries (those with qrels) and the qrels."""

    folder: Path
    split: str
    doc_ids: tuple[str, ...]
    titles: tuple[str, ...]
    bodies: tuple[str, ...]
    queries: dict[str, str]  # query id -> text, in qrels order
    qrels: dict[str, dict[str, int]]  # query id -> document id -> grade

    def doc_text(self, i: int) -> str:
        """Document ``i`` as BEIR and MTEB encode it: title, a space, text."""
        return f"{self.titles[i]} {self.bodies[i]}".strip()


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) per non-blank line; a malformed line is an InputError naming it."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}, line {number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise InputError(f"{path}, line {number}: expected a JSON object")
            yield number, row


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels: tab-separated query id, document id, integer grade; an optional header line;
    any line ending (the published files use CRLF)."""
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.rstrip("\r\n").split("\t")
            if fields == [""]:
                continue
            if len(fields) == 4:  # TREC layout: query, iteration, document, grade
                fields = [fields[0], fields[2], fields[3]]
            if len(fields) != 3:
                raise InputError(f"{path}, line {number}: expected 3 tab-separated fields")
            try:
                grade = int(fields[2])
            except ValueError as exc:
                if number == 1:  # the header, "query-id corpus-id score"
                    continue
                message = f"{path}, line {number}: grade {fields[2]!r} is not an integer"
                raise InputError(message) from exc
            qrels.setdefault(fields[0], {})[fields[1]] = grade
    if not qrels:
        raise InputError(f"{path} holds no judgments")
    return qrels


def load_beir(folder: Path | str, split: str = "test") -> BeirDataset:
    """Read a BEIR folder; only the queries judged in ``qrels/<split>.tsv`` are kept."""
    folder = Path(folder)
    paths = {
        "corpus": folder / "corpus.jsonl",
        "queries": folder / "queries.jsonl",
        "qrels": folder / "qrels" / f"{split}.tsv",
    }
    for what, path in paths.items():
        if not path.is_file():
            raise InputError(f"not a BEIR folder: {what} file {path} is missing")
    doc_ids: list[str] = []
    titles: list[str] = []
    bodies: list[str] = []
    for number, row in read_jsonl(paths["corpus"]):
        if not isinstance(row.get("_id"), str | int) or not isinstance(row.get("text", ""), str):
            raise InputError(f"{paths['corpus']}, line {number}: needs an \"_id\" and a \"text\"")
        doc_ids.append(str(row["_id"]))
        titles.append(str(row.get("title") or ""))
        bodies.append(row.get("text") or "")
    if not doc_ids:
        raise InputError(f"{paths['corpus']} holds no documents")
    if len(set(doc_ids)) != len(doc_ids):
        raise InputError(f"{paths['corpus']} repeats a document id")
    qrels = read_qrels(paths["qrels"])
    texts = {}
    for number, row in read_jsonl(paths["queries"]):
        if str(row.get("_id")) in qrels:
            if not isinstance(row.get("text"), str):
                raise InputError(f"{paths['queries']}, line {number}: needs a \"text\" string")
            texts[str(row["_id"])] = row["text"]
    missing = [qid for qid in qrels if qid not in texts]
    if missing:
        raise InputError(
            f"{len(missing)} judged queries are not in {paths['queries']} (first: {missing[0]})"
        )
    return BeirDataset(
        folder, split, tuple(doc_ids), tuple(titles), tuple(bodies),
        {qid: texts[qid] for qid in qrels}, qrels,
    )


# --- the cached index ---------------------------------------------------------------------


@dataclass
class BeirIndex:
    """Both retrievers over a BEIR corpus; ``row_doc[row]`` is the document a row belongs to."""

    folder: Path
    manifest: dict[str, Any]
    row_doc: np.ndarray
    dense: Any  # qa.vectors.DenseIndex (imported late: faiss after torch)
    keywords: Any  # qa.keywords.KeywordIndex
    built: bool  # False when it came from the cache


def index_fingerprint(
    dataset: BeirDataset,
    embedder: Embedder,
    index_settings: IndexSettings = IndexSettings(),
    passage_settings: PassageSettings | None = None,
) -> str:
    """Names the cache folder: changes with the corpus file, the embedder or any setting."""
    from qa.index import file_checksum

    corpus = file_checksum(dataset.folder / "corpus.jsonl")
    passages = passage_settings.as_dict() if passage_settings else None
    return stable_id(
        "beir", FORMAT_VERSION, corpus, embedder.name, embedder.dim,
        index_settings.as_dict(), passages, length=20,
    )


def _rows(
    dataset: BeirDataset, passage_settings: PassageSettings | None
) -> tuple[list[str], np.ndarray]:
    """The texts to index and the document of each: whole documents, or the engine's passages."""
    if passage_settings is None:
        return [dataset.doc_text(i) for i in range(len(dataset.doc_ids))], np.arange(
            len(dataset.doc_ids), dtype=np.int64
        )
    from qa.passages import split_passages
    from qa.records import Document

    texts: list[str] = []
    owners: list[int] = []
    for i, (doc_id, title, body) in enumerate(
        zip(dataset.doc_ids, dataset.titles, dataset.bodies, strict=True)
    ):
        document = Document(doc_id=doc_id, source=doc_id, title=title, text=body)
        pieces = [p.embedding_text() for p in split_passages(document, passage_settings)]
        for text in pieces or [dataset.doc_text(i)]:  # a document is never left out
            texts.append(text)
            owners.append(i)
    return texts, np.asarray(owners, dtype=np.int64)


def open_beir_index(
    dataset: BeirDataset,
    embedder: Embedder,
    cache_root: Path | str,
    *,
    index_settings: IndexSettings = IndexSettings(),
    passage_settings: PassageSettings | None = None,
    progress: bool = False,
    say: Say = _quiet,
) -> BeirIndex:
    """Load the corpus index from ``cache_root/<fingerprint>``, or build and cache it.

    The cached folder is checked like the engine's index (manifest, every file's checksum); a
    damaged one is rebuilt, never used.
    """
    warm_up = getattr(embedder, "warm_up", None)
    if warm_up is not None:
        warm_up()  # torch before faiss
    from qa.index import file_checksum, verify_files
    from qa.keywords import KeywordIndex
    from qa.vectors import DenseIndex

    cache_root = Path(cache_root)
    fingerprint = index_fingerprint(dataset, embedder, index_settings, passage_settings)
    folder = cache_root / fingerprint
    if (folder / MANIFEST).is_file():
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if manifest.get("format_version") != FORMAT_VERSION:
                raise IndexCorruptError(f"cached index format {manifest.get('format_version')!r}")
            verify_files(folder, manifest)
            row_doc = np.load(folder / ROW_DOC_FILE, allow_pickle=False)
            dense = DenseIndex.load(folder, index_settings)
            keywords = KeywordIndex.load(folder, len(row_doc))
            if len(dense) != len(row_doc) or int(row_doc.max()) >= len(dataset.doc_ids):
                raise IndexCorruptError("row counts disagree")
            say(f"Using the cached index {folder}")
            return BeirIndex(folder, manifest, row_doc, dense, keywords, built=False)
        except (IndexCorruptError, ValueError, OSError, KeyError) as exc:
            say(f"Rebuilding the cached index {folder}: {exc}")

    started = time.perf_counter()
    texts, row_doc = _rows(dataset, passage_settings)
    say(f"Indexing {len(dataset.doc_ids)} documents as {len(texts)} rows with {embedder.name}")
    vectors = embedder.encode(texts, "passage", progress=progress)
    encode_seconds = time.perf_counter() - started
    dense = DenseIndex(vectors, index_settings)
    keywords = KeywordIndex.build(texts, progress=progress)
    build_seconds = time.perf_counter() - started

    cache_root.mkdir(parents=True, exist_ok=True)
    tmp = cache_root / f".tmp-{fingerprint}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        np.save(tmp / ROW_DOC_FILE, row_doc, allow_pickle=False)
        files = [ROW_DOC_FILE, *dense.save(tmp), *keywords.save(tmp)]
        manifest = {
            "format_version": FORMAT_VERSION,
            "fingerprint": fingerprint,
            "dataset": {"folder": str(dataset.folder.resolve()), "documents": len(dataset.doc_ids)},
            "embedder": {"name": embedder.name, "dim": int(embedder.dim)},
            "dense": index_settings.as_dict(),
            "passages": passage_settings.as_dict() if passage_settings else None,
            "rows": len(texts),
            "files": {name: file_checksum(tmp / name) for name in sorted(files)},
            "encode_seconds": round(encode_seconds, 3),
            "build_seconds": round(build_seconds, 3),
            "documents_per_second": round(len(dataset.doc_ids) / max(build_seconds, 1e-9), 2),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"Indexed in {build_seconds:.1f} s ({manifest['documents_per_second']} documents/s)")
    return BeirIndex(folder, manifest, row_doc, dense, keywords, built=True)


# --- running queries ----------------------------------------------------------------------


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


def _fuse(
    mode: str,
    dense: tuple[np.ndarray, np.ndarray],
    keyword: tuple[np.ndarray, np.ndarray],
    *,
    rrf_k: int,
    alpha: float,
) -> list[tuple[int, float]]:
    from qa.search import rank_candidates

    if mode == "hybrid-convex":
        ids, scores = dense
        dense_map = {int(r): float(v) for r, v in zip(ids, scores, strict=True) if r >= 0}
        keyword_map = {int(r): float(v) for r, v in zip(*keyword, strict=True)}
        return convex_fusion(dense_map, keyword_map, alpha=alpha)
    return rank_candidates(dense, keyword, mode, rrf_k=rrf_k)  # type: ignore[arg-type]


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
    rrf_k: int = RRF_K,
    alpha: float = 0.5,
    batch_size: int = 64,
    progress: bool = False,
) -> dict[str, ModeRun]:
    """Run every query of the split in batches; each retriever runs once and every mode reuses
    its results. ``depth`` documents are kept per query; the fused modes fuse each retriever's
    first ``fusion_depth`` rows (candidate depth, kept apart from the final depth)."""
    from tqdm.auto import tqdm

    unknown = [m for m in modes if m not in EVAL_MODES]
    if unknown or not modes:
        raise InputError(f"unknown mode {unknown[0] if unknown else ''!r}; "
                         f"choose from {', '.join(EVAL_MODES)}")
    if depth < 1 or fusion_depth < 1:
        raise InputError("depth and fusion depth must be at least 1")
    needs_dense = any(m != "bm25" for m in modes)
    needs_keyword = any(m != "dense" for m in modes)
    fused = [m for m in modes if m not in ("dense", "bm25")]
    rows = max(depth, fusion_depth) if fused else depth
    # Whole documents need `depth` rows; passages need more rows to fill `depth` documents.
    if len(index.row_doc) != len(dataset.doc_ids):
        rows *= 4
    qids = list(dataset.queries)
    runs: dict[str, dict[str, dict[str, float]]] = {m: {} for m in modes}
    # Time per stage: each retriever once, then each mode's own fusion and bookkeeping.
    spent = dict.fromkeys(("dense", "bm25", *(f"+{m}" for m in modes)), 0.0)
    bar = tqdm(total=len(qids), desc="Querying", unit="query", disable=not progress)
    for start in range(0, len(qids), batch_size):
        batch = qids[start : start + batch_size]
        texts = [dataset.queries[q] for q in batch]
        empty = np.zeros((len(batch), 0))
        dense_scores, dense_ids = empty.astype(np.float32), empty.astype(np.int64)
        keyword = [(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in batch]
        if needs_dense:
            t = time.perf_counter()
            qvecs = embedder.encode(texts, "query", batch_size=batch_size)
            dense_scores, dense_ids = index.dense.search(qvecs, rows)
            spent["dense"] += time.perf_counter() - t
        if needs_keyword:
            t = time.perf_counter()
            keyword = index.keywords.search(texts, rows)
            spent["bm25"] += time.perf_counter() - t
        for i, qid in enumerate(batch):
            for mode in modes:
                t = time.perf_counter()
                cut = slice(None) if mode in ("dense", "bm25") else slice(0, fusion_depth)
                order = _fuse(
                    mode,
                    (dense_ids[i][cut], dense_scores[i][cut]),
                    (keyword[i][0][cut], keyword[i][1][cut]),
                    rrf_k=rrf_k,
                    alpha=alpha,
                )
                docs = _to_documents(order, index.row_doc, dataset.doc_ids, depth)
                if mode in fused:
                    scores = strictly_decreasing([s for _, s in docs])
                    docs = [(d, s) for (d, _), s in zip(docs, scores, strict=True)]
                runs[mode][qid] = dict(docs)
                spent[f"+{mode}"] += time.perf_counter() - t
        bar.update(len(batch))
    bar.close()
    out = {}
    for mode in modes:
        stages = [r for r in ("dense", "bm25") if mode in (r, *fused)]
        out[mode] = ModeRun(mode, runs[mode], sum(spent[r] for r in stages) + spent[f"+{mode}"])
    return out


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
