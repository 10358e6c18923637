"""The index manifest: what a build records about itself, and the checks made on load.

Format version, embedder, settings, the corpus fingerprint and a sha256 per file; a build whose
manifest or files disagree with what is asked for is refused (see :mod:`qa.index`). The BEIR
cache (:mod:`qa.beir`) checks its folders the same way.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from qa.embedders import Embedder
from qa.errors import IndexCorruptError, IndexMismatchError
from qa.settings import CorpusSettings, IndexSettings, PassageSettings

FORMAT_VERSION = 3  # 2: hubness.npy; 3: token vectors for the re-ranker
MANIFEST = "manifest.json"


# --- fingerprints and checksums -------------------------------------------------------------


def file_checksum(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def corpus_fingerprint(folder: Path, settings: CorpusSettings = CorpusSettings()) -> str:
    """sha256 over every corpus file's relative path and content, and the example questions'
    file (:mod:`qa.examples`): changes when any of them does."""
    from qa.documents import corpus_files
    from qa.examples import EXAMPLES_FILE

    digest = hashlib.sha256()
    files = corpus_files(Path(folder), settings)
    examples = Path(folder) / EXAMPLES_FILE
    if examples.is_file():
        files.append((EXAMPLES_FILE, examples))
    for source, path in files:
        digest.update(source.encode("utf-8") + b"\0")
        digest.update(file_checksum(path).encode("ascii") + b"\n")
    return digest.hexdigest()


def as_json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), for comparing settings."""
    return json.loads(json.dumps(value))


#: The manifest sections an engine index must have.
SECTIONS = ("corpus", "embedder", "passages", "dense", "files")


# --- checks on load ------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"{folder} has no {MANIFEST}; rebuild the index") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(
            f"{folder / MANIFEST} is not valid JSON; rebuild the index"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        found = manifest.get("format_version") if isinstance(manifest, dict) else None
        raise IndexMismatchError(
            f"index format {found!r} at {folder}, this version reads {FORMAT_VERSION}; rebuild it"
        )
    missing = [k for k in SECTIONS if not isinstance(manifest.get(k), dict)]
    if missing or not isinstance(manifest.get("index_version"), str):
        raise IndexCorruptError(
            f"{folder / MANIFEST} is incomplete (no {', '.join(missing) or 'index_version'}); "
            "rebuild the index"
        )
    return manifest


def verify_files(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file listed in the manifest exists with its recorded checksum, and the folder holds
    no other file (one the manifest does not list would be read unchecked)."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexCorruptError(f"{folder / MANIFEST} lists no files; rebuild the index")
    try:
        present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    except OSError as exc:  # removed by a rebuild while being listed: the loader moves on
        raise IndexCorruptError(f"index folder {folder} cannot be listed ({exc})") from exc
    unlisted = sorted(present - set(files) - {MANIFEST})
    if unlisted:
        raise IndexCorruptError(
            f"{folder} holds files its manifest does not list ({', '.join(unlisted[:3])}); "
            "rebuild the index"
        )
    for name, checksum in files.items():
        path = folder / name
        try:
            actual = file_checksum(path)
        except OSError as exc:  # absent, or removed by a rebuild while being read
            raise IndexCorruptError(
                f"index file {name} is missing from {folder}; rebuild the index"
            ) from exc
        if actual != checksum:
            raise IndexCorruptError(
                f"index file {name} in {folder} does not match its checksum (corrupted or "
                "edited); rebuild the index"
            )


def check_compatible(
    manifest: dict[str, Any],
    embedder: Embedder,
    passage_settings: PassageSettings | None = None,
    index_settings: IndexSettings | None = None,
) -> None:
    """Refuse an index built with another embedder or other settings than the ones asked for."""
    built = manifest["embedder"]
    if built["name"] != embedder.name or int(built["dim"]) != int(embedder.dim):
        raise IndexMismatchError(
            f"index was built with {built['name']} ({built['dim']}-d), but the embedder is "
            f"{embedder.name} ({embedder.dim}-d); rebuild the index"
        )
    if passage_settings is not None and manifest["passages"]["settings"] != as_json(
        passage_settings.as_dict()
    ):
        raise IndexMismatchError("index was built with other passage settings; rebuild the index")
    if index_settings is not None and manifest["dense"] != as_json(index_settings.as_dict()):
        raise IndexMismatchError("index was built with other FAISS settings; rebuild the index")
