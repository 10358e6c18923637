"""The on-disk index: a folder of plain files plus a manifest that is checked on load.

Layout of an index folder::

    index/
      CURRENT                 name of the live build folder (replaced atomically)
      build-<time>-<n>-<pid>/ one complete build
        manifest.json         format version, embedder, settings, corpus fingerprint, checksums
        documents.jsonl       every document's full text and what furniture was dropped
        passages.jsonl        every passage: id, document, section, span, verbatim text
        vectors.npy           unit vectors, one row per passage
        hubness.npy           each passage's mean cosine to its nearest passages
        token_vectors.npy     every passage's token vectors (float16), with token_offsets.npy
        examples.jsonl        the corpus's example questions and their passages (qa.examples),
                              with example_vectors.npy; absent when the corpus has none
        bm25/                 bm25s's JSON and .npy files
      .tmp-<time>-<n>-<pid>/  a build in progress (ignored by readers)

A build is written into a temporary folder, renamed to a ``build-*`` folder, and only then is
``CURRENT`` swapped with ``os.replace``: a build killed at any point leaves the previous index
live. No pickle anywhere. What the manifest holds and how it is checked: :mod:`qa.manifest`.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qa.documents import read_corpus
from qa.embedders import Embedder, TokenEmbedder
from qa.errors import (
    EmptyCorpusError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    StaleIndexError,
)
from qa.examples import EXAMPLES_FILE, ExampleIndex, read_examples
from qa.keywords import KeywordIndex
from qa.manifest import (
    FORMAT_VERSION,
    MANIFEST,
    as_json,
    check_compatible,
    corpus_fingerprint,
    file_checksum,
    read_manifest,
    verify_files,
)
from qa.passages import split_passages
from qa.records import Document, Dropped, Passage, stable_id
from qa.rerank import TokenVectors
from qa.settings import CorpusSettings, IndexSettings, PassageSettings
from qa.vectors import DenseIndex

CURRENT = "CURRENT"
DOCUMENTS_FILE = "documents.jsonl"
PASSAGES_FILE = "passages.jsonl"

Say = Callable[[str], None]
_BUILDS = itertools.count()  # builds started by this process, for unique folder names


def _quiet(_: str) -> None:
    pass


@dataclass
class CorpusIndex:
    """A loaded index: documents, passages and both retrievers, ready to search."""

    folder: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    passages: list[Passage]
    dense: DenseIndex
    keywords: KeywordIndex
    tokens: TokenVectors | None = None  # None: built without them, no re-ranking
    examples: ExampleIndex | None = None  # None: the corpus has no example questions

    @property
    def version(self) -> str:
        """Content-derived id of this build (corpus, settings and embedder), for logs and labels."""
        return str(self.manifest["index_version"])

    def passage_row(self) -> dict[str, int]:
        return {p.passage_id: i for i, p in enumerate(self.passages)}


# --- building -------------------------------------------------------------------------------


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    corpus_settings: CorpusSettings = CorpusSettings(),
    passage_settings: PassageSettings = PassageSettings(),
    index_settings: IndexSettings = IndexSettings(),
    progress: bool = False,
    say: Say = _quiet,
) -> CorpusIndex:
    """Read, split, embed and index a corpus folder, then swap the result into ``index_dir``."""
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    started = time.perf_counter()
    fingerprint = corpus_fingerprint(corpus_dir, corpus_settings)
    documents = read_corpus(corpus_dir, corpus_settings)
    passages = [p for doc in documents for p in split_passages(doc, passage_settings)]
    if not passages:
        raise EmptyCorpusError(
            f"the documents in {corpus_dir} hold no passage to index: each is only a heading, "
            "page furniture or blank"
        )
    say(f"Read {len(documents)} documents, {len(passages)} passages from {corpus_dir}")
    asked = read_examples(corpus_dir)  # before the slow part: a malformed line stops it
    dense, tokens = embed_passages(
        passages, embedder, index_settings, with_tokens=index_settings.token_vectors,
        progress=progress,
    )
    examples, unplaced = ExampleIndex.build(
        asked, passages, lambda texts: embedder.encode(texts, "query")
    )
    keywords = KeywordIndex.build(
        [p.keyword_text() for p in passages], expansions=examples.expansions(len(passages))
    )
    if len(examples) or unplaced:
        say(f"Read {len(examples) + len(unplaced)} example questions from {EXAMPLES_FILE}")
    if unplaced:
        lines = ", ".join(str(e.line) for e in unplaced[:10])
        more = f" and {len(unplaced) - 10} more" if len(unplaced) > 10 else ""
        say(
            f"{len(unplaced)} example questions left out: their evidence is in no passage "
            f"(lines {lines}{more} of {EXAMPLES_FILE})"
        )

    index_dir.mkdir(parents=True, exist_ok=True)
    # The counter keeps two builds in one second of one process apart (the pid stays last).
    stamp = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{next(_BUILDS)}-{os.getpid()}"
    tmp = index_dir / f".tmp-{stamp}"
    tmp.mkdir()
    try:
        files = [DOCUMENTS_FILE, PASSAGES_FILE]
        _write_jsonl(tmp / DOCUMENTS_FILE, (_document_json(d) for d in documents))
        _write_jsonl(tmp / PASSAGES_FILE, (asdict(p) for p in passages))
        files += dense.save(tmp)
        files += keywords.save(tmp)
        if tokens is not None:
            files += tokens.save(tmp)
        if len(examples):
            files += examples.save(tmp)
        manifest = {
            "format_version": FORMAT_VERSION,
            "index_version": stable_id(
                fingerprint,
                embedder.name,
                passage_settings,
                index_settings,
                FORMAT_VERSION,
                "dense: passage text; bm25: section + passage text + example questions; "
                "hubness: k=10, copies excluded",
            ),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "embedder": {"name": embedder.name, "dim": int(embedder.dim)},
            "corpus": {
                "folder": str(corpus_dir.resolve()),
                "fingerprint": fingerprint,
                "documents": len(documents),
                "settings": asdict(corpus_settings),
            },
            "passages": {
                "count": len(passages),
                "settings": passage_settings.as_dict(),
                "dense_text": "passage text",
                "keyword_text": "section + passage text + its example questions",
            },
            "dense": index_settings.as_dict(),
            "bm25": {"k1": 1.5, "b": 0.75, "method": "lucene", "stemmer": "english"},
            "examples": {
                "count": len(examples),
                "left_out_lines": [e.line for e in unplaced],
            },
            "files": {name: file_checksum(tmp / name) for name in sorted(files)},
            "build_seconds": round(time.perf_counter() - started, 3),
        }
        manifest = as_json(manifest)  # tuples as lists: a fresh build equals it loaded back
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _fsync_tree(tmp)
        final = index_dir / f"build-{stamp}"
        # Builders in other processes (the app's watcher, `qa build`) take turns from here on:
        # each swaps in its build and clears the others' finished builds under the lock.
        with _swap_lock(index_dir):
            os.replace(tmp, final)
            _point_current(index_dir, final.name, stamp)
            _remove_old_builds(index_dir, keep=final.name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"Built index {manifest['index_version']} in {manifest['build_seconds']:.1f} s")
    return CorpusIndex(
        final, manifest, {d.doc_id: d for d in documents}, passages, dense, keywords, tokens,
        examples if len(examples) else None,
    )


def embed_passages(
    passages: Sequence[Passage],
    embedder: Embedder,
    index_settings: IndexSettings,
    *,
    with_tokens: bool,
    progress: bool = False,
) -> tuple[DenseIndex, TokenVectors | None]:
    """The passages' dense index (with its hubness correction) and, ``with_tokens`` and an
    embedder that gives them, their token vectors for the second stage."""
    texts = [p.embedding_text() for p in passages]
    tokens = None
    if with_tokens and isinstance(embedder, TokenEmbedder):
        vectors, per_passage = embedder.encode_with_tokens(texts, "passage", progress=progress)
        tokens = TokenVectors.from_list(per_passage, int(embedder.dim))
    else:
        vectors = embedder.encode(texts, "passage", progress=progress)
    dense = DenseIndex(vectors, index_settings)
    dense.hubness = dense.neighbourhood_similarity()
    return dense, tokens


def _write_jsonl(path: Path, rows: Any) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _document_json(doc: Document) -> dict[str, Any]:
    row = asdict(doc)
    row["dropped"] = [asdict(d) for d in doc.dropped]
    return row


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


@contextlib.contextmanager
def _swap_lock(index_dir: Path) -> Iterator[None]:
    """An exclusive advisory lock (flock) on ``index_dir/.swap.lock`` across processes."""
    with (index_dir / ".swap.lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _point_current(index_dir: Path, name: str, stamp: str) -> None:
    pointer = index_dir / f".{CURRENT}.{stamp}"
    pointer.write_text(name + "\n", encoding="utf-8")
    with pointer.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer, index_dir / CURRENT)


_OWN_FOLDER = re.compile(r"(build|\.tmp)-\d{8}T\d{6}-\d+-(\d+)")


def _remove_old_builds(index_dir: Path, keep: str) -> None:
    """Delete superseded builds, and temporary folders of builds whose process is gone.

    Only folders this module made are touched: named as :func:`build_index` names them, and a
    build only with its manifest inside. "build-scripts/" in a folder given as ``--index``
    stays.
    """
    for path in index_dir.iterdir():
        own = _OWN_FOLDER.fullmatch(path.name)
        if own is None or not path.is_dir() or path.is_symlink() or path.name == keep:
            continue
        superseded = own[1] == "build" and (path / MANIFEST).is_file()
        abandoned = own[1] == ".tmp" and not _pid_alive(own[2])
        if superseded or abandoned:
            shutil.rmtree(path, ignore_errors=True)


def _pid_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


# --- loading --------------------------------------------------------------------------------


def current_build(index_dir: Path) -> Path:
    """The live build folder of ``index_dir``, or IndexNotFoundError."""
    index_dir = Path(index_dir)
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        raise IndexNotFoundError(f"no index at {index_dir} (run `qa build` first)")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise IndexCorruptError(f"{pointer} is not a build name; rebuild the index") from None
    folder = index_dir / name
    if not name.startswith("build-") or "/" in name or not folder.is_dir():
        raise IndexCorruptError(f"{pointer} points to a missing build {name!r}; rebuild the index")
    return folder


def load_index(
    index_dir: Path,
    embedder: Embedder,
    *,
    passage_settings: PassageSettings | None = None,
    index_settings: IndexSettings | None = None,
) -> CorpusIndex:
    """Load and verify the live build: format, embedder, settings and every file's checksum."""
    for attempt in range(3):
        pointer = _read_pointer(index_dir)
        try:
            folder = current_build(index_dir)
            return _load_build(folder, embedder, passage_settings, index_settings)
        except IndexCorruptError:
            # A concurrent rebuild may have swapped CURRENT and removed the build being read
            # (even between reading CURRENT and finding its folder): try the new one.
            if attempt == 2 or _read_pointer(index_dir) == pointer:
                raise
    raise AssertionError("unreachable")


def _read_pointer(index_dir: Path) -> str | None:
    try:
        return (Path(index_dir) / CURRENT).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _load_build(
    folder: Path,
    embedder: Embedder,
    passage_settings: PassageSettings | None,
    index_settings: IndexSettings | None,
) -> CorpusIndex:
    manifest = read_manifest(folder)
    check_compatible(manifest, embedder, passage_settings, index_settings)
    verify_files(folder, manifest)
    try:
        documents = [_document_from_json(row) for row in _read_jsonl(folder / DOCUMENTS_FILE)]
        passages = [Passage(**row) for row in _read_jsonl(folder / PASSAGES_FILE)]
        dense = DenseIndex.load(folder, IndexSettings(**manifest["dense"]))
        keywords = KeywordIndex.load(folder, len(passages))
        tokens = TokenVectors.load(folder)
        examples = ExampleIndex.load(folder)
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise IndexCorruptError(f"index at {folder} cannot be read ({exc}); rebuild it") from exc
    if (
        len(dense) != len(passages)
        or dense.vectors.shape[1] != int(embedder.dim)
        or dense.hubness is None
        or (tokens is not None and len(tokens) != len(passages))
    ):
        raise IndexCorruptError(
            f"index at {folder} has {len(dense)} vectors for {len(passages)} passages; rebuild it"
        )
    if examples is not None and not examples.fits(len(passages), int(embedder.dim)):
        raise IndexCorruptError(
            f"index at {folder} has example questions that do not fit its passages; rebuild it"
        )
    return CorpusIndex(
        folder, manifest, {d.doc_id: d for d in documents}, passages, dense, keywords, tokens,
        examples,
    )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _document_from_json(row: dict[str, Any]) -> Document:
    row = dict(row)
    row["dropped"] = tuple(Dropped(**d) for d in row.get("dropped", ()))
    return Document(**row)


# --- keeping the index fresh ----------------------------------------------------------------


def check_fresh(
    index: CorpusIndex, corpus_dir: Path, settings: CorpusSettings = CorpusSettings()
) -> None:
    """Raise StaleIndexError when the corpus folder changed since the index was built."""
    if corpus_fingerprint(corpus_dir, settings) != index.manifest["corpus"]["fingerprint"]:
        raise StaleIndexError(f"the corpus at {corpus_dir} changed since the index was built")


def ensure_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    corpus_settings: CorpusSettings = CorpusSettings(),
    passage_settings: PassageSettings = PassageSettings(),
    index_settings: IndexSettings = IndexSettings(),
    progress: bool = False,
    say: Say = _quiet,
) -> CorpusIndex:
    """Load the index if it is sound and current; otherwise (re)build it, saying why.

    A corrupted index is never served: it is rebuilt from the corpus, which is the source of
    truth, and the reason is reported through ``say``.
    """
    try:
        index = load_index(
            index_dir, embedder, passage_settings=passage_settings, index_settings=index_settings
        )
        if index.manifest["corpus"]["settings"] != as_json(asdict(corpus_settings)):
            raise StaleIndexError("the index was built with other corpus settings")
        check_fresh(index, corpus_dir, corpus_settings)
        return index
    except IndexNotFoundError:
        say(f"No index at {index_dir}: building it from {corpus_dir}")
    except (StaleIndexError, IndexMismatchError, IndexCorruptError) as exc:
        if not Path(corpus_dir).is_dir():
            raise
        say(f"Rebuilding the index: {exc}")
    return build_index(
        corpus_dir,
        index_dir,
        embedder,
        corpus_settings=corpus_settings,
        passage_settings=passage_settings,
        index_settings=index_settings,
        progress=progress,
        say=say,
    )
