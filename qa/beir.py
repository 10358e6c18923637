"""Public benchmarks in BEIR format: load a data set and index its corpus once (cached by a
fingerprint); :mod:`qa.beir_run` runs the queries and scores the runs.

A BEIR folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
``text``) and ``qrels/<split>.tsv`` (query id, document id, grade; a header line). Each document is
one retrieval unit, ``(title + " " + text).strip()``, as BEIR and MTEB encode it; the engine's
passage splitting is applied only when asked (then a document scores as its best passage).

The index holds the chat engine's own retrievers, :class:`~qa.vectors.DenseIndex` and
:class:`~qa.keywords.KeywordIndex`, over the same embedder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.embedders import Embedder
from qa.errors import IndexCorruptError, InputError
from qa.records import stable_id
from qa.settings import IndexSettings, PassageSettings

if TYPE_CHECKING:  # imported late at run time: faiss must come after torch
    from qa.keywords import KeywordIndex
    from qa.vectors import DenseIndex

FORMAT_VERSION = 2  # 2: hubness.npy beside the vectors
MANIFEST = "manifest.json"
ROW_DOC_FILE = "row_doc.npy"

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
    """(line number, object) per non-blank line; a malformed line is an InputError naming it.
    The file is UTF-8 (a byte-order mark is allowed)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path}, line {number}: not valid UTF-8 (byte {exc.start + 1})"
                ) from exc
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
            raise InputError(f'{paths["corpus"]}, line {number}: needs an "_id" and a "text"')
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
                raise InputError(f'{paths["queries"]}, line {number}: needs a "text" string')
            texts[str(row["_id"])] = row["text"]
    missing = [qid for qid in qrels if qid not in texts]
    if missing:
        raise InputError(
            f"{len(missing)} judged queries are not in {paths['queries']} (first: {missing[0]})"
        )
    return BeirDataset(
        folder,
        split,
        tuple(doc_ids),
        tuple(titles),
        tuple(bodies),
        {qid: texts[qid] for qid in qrels},
        qrels,
    )


# --- the cached index ---------------------------------------------------------------------


@dataclass
class BeirIndex:
    """Both retrievers over a BEIR corpus; ``row_doc[row]`` is the document a row belongs to."""

    folder: Path
    manifest: dict[str, Any]
    row_doc: np.ndarray
    dense: DenseIndex
    keywords: KeywordIndex
    built: bool  # False when it came from the cache


@dataclass(frozen=True)
class Rows:
    """What gets indexed: one text for the embedder and one for BM25 per row, and its document."""

    dense_texts: list[str]
    keyword_texts: list[str]
    row_doc: np.ndarray


def index_fingerprint(
    rows: Rows, embedder: Embedder, index_settings: IndexSettings = IndexSettings()
) -> str:
    """Names the cache folder: a digest of every indexed text, the embedder and the FAISS
    settings, so any change to the corpus or to how its texts are joined gets a new index."""
    digest = hashlib.sha256()
    for text in (*rows.dense_texts, "\x1e", *rows.keyword_texts):
        digest.update(text.encode("utf-8") + b"\x1f")
    digest.update(rows.row_doc.tobytes())
    return stable_id(
        "beir",
        FORMAT_VERSION,
        digest.hexdigest(),
        embedder.name,
        embedder.dim,
        index_settings.as_dict(),
        length=20,
    )


def corpus_rows(dataset: BeirDataset, passage_settings: PassageSettings | None = None) -> Rows:
    """Whole documents as BEIR and MTEB index them, or the engine's passages (embedded and
    keyword-indexed with the same texts the chat engine uses)."""
    if passage_settings is None:
        texts = [dataset.doc_text(i) for i in range(len(dataset.doc_ids))]
        return Rows(texts, texts, np.arange(len(texts), dtype=np.int64))
    from qa.passages import split_passages
    from qa.records import Document

    dense: list[str] = []
    keyword: list[str] = []
    owners: list[int] = []
    for i, (doc_id, title, body) in enumerate(
        zip(dataset.doc_ids, dataset.titles, dataset.bodies, strict=True)
    ):
        document = Document(doc_id=doc_id, source=doc_id, title=title, text=body)
        passages = split_passages(document, passage_settings)
        pairs = [(p.embedding_text(), p.keyword_text()) for p in passages]
        for dense_text, keyword_text in pairs or [(dataset.doc_text(i),) * 2]:  # never left out
            dense.append(dense_text)
            keyword.append(keyword_text)
            owners.append(i)
    return Rows(dense, keyword, np.asarray(owners, dtype=np.int64))


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
    from qa.keywords import KeywordIndex
    from qa.manifest import file_checksum, verify_files
    from qa.vectors import DenseIndex

    cache_root = Path(cache_root)
    rows = corpus_rows(dataset, passage_settings)
    fingerprint = index_fingerprint(rows, embedder, index_settings)
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
            if (
                len(dense) != len(row_doc)
                or dense.hubness is None
                or not np.array_equal(row_doc, rows.row_doc)
            ):
                raise IndexCorruptError("row counts disagree")
            say(f"Using the cached index {folder}")
            return BeirIndex(folder, manifest, row_doc, dense, keywords, built=False)
        except (IndexCorruptError, ValueError, OSError, KeyError) as exc:
            say(f"Rebuilding the cached index {folder}: {exc}")

    started = time.perf_counter()
    row_doc = rows.row_doc
    say(f"Indexing {len(dataset.doc_ids)} documents as {len(row_doc)} rows with {embedder.name}")
    vectors = embedder.encode(rows.dense_texts, "passage", progress=progress)
    encode_seconds = time.perf_counter() - started
    dense = DenseIndex(vectors, index_settings)
    dense.hubness = dense.neighbourhood_similarity()
    keywords = KeywordIndex.build(rows.keyword_texts, progress=progress)
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
            "dataset": {
                "folder": str(dataset.folder.resolve()),
                "corpus_sha256": file_checksum(dataset.folder / "corpus.jsonl"),
                "documents": len(dataset.doc_ids),
            },
            "embedder": {"name": embedder.name, "dim": int(embedder.dim)},
            "dense": index_settings.as_dict(),
            "passages": passage_settings.as_dict() if passage_settings else None,
            "rows": len(row_doc),
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
