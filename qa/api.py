"""The Python API that the CLI, the chat app and the tests share: open a searcher on a corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qa.embedders import Embedder, default_embedder
from qa.errors import InputError
from qa.index import Say, ensure_index
from qa.records import Passage
from qa.search import Searcher
from qa.settings import (
    CORPUS_SETTINGS_FILE,
    CORPUS_TITLES_FILE,
    CorpusSettings,
    IndexSettings,
    PassageSettings,
    SearchSettings,
    search_settings_from,
)


def _corpus_file(path: Path) -> Any:
    """The parsed JSON of a hidden corpus settings file, or None when there is none."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from exc


def corpus_settings_for(corpus_dir: Path | str) -> CorpusSettings:
    """How to read a corpus folder: the defaults, plus the titles in its ``.qa-titles.json``."""
    path = Path(corpus_dir) / CORPUS_TITLES_FILE
    data = _corpus_file(path)
    if data is None:
        return CorpusSettings()
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in data.items()
    ):
        raise InputError(f'{path} must map file paths to titles: {{"a.txt": "Title"}}')
    return CorpusSettings(titles=tuple(sorted((k, v.strip()) for k, v in data.items())))


def corpus_search_settings(corpus_dir: Path | str) -> SearchSettings:
    """The search settings calibrated for a corpus (its ``.qa-search.json``), else defaults.

    Fusion weights and the abstention threshold depend on the corpus and its visitors'
    questions: calibrate them on a labelled question set (``qa eval --questions --sweep``)
    and keep them beside the documents.
    """
    path = Path(corpus_dir) / CORPUS_SETTINGS_FILE
    data = _corpus_file(path)
    if data is None:
        return SearchSettings()
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a JSON object")
    return search_settings_from(data, str(path))


def update_corpus_search_settings(corpus_dir: Path | str, values: dict[str, Any]) -> Path:
    """Set ``values`` in a corpus's ``.qa-search.json`` (created when missing), its other
    settings and notes kept; the result is checked as :func:`corpus_search_settings` reads it
    before it replaces the file, in one step. Returns the file's path."""
    path = Path(corpus_dir) / CORPUS_SETTINGS_FILE
    data = _corpus_file(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a JSON object")
    data = {**data, **values}
    search_settings_from(data, str(path))  # never write a file the engine would refuse
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def corpus_passages(
    corpus_dir: Path | str, passage_settings: PassageSettings = PassageSettings()
) -> list[Passage]:
    """The passages a build of ``corpus_dir`` would index now, with their ids (no model)."""
    from qa.documents import read_corpus
    from qa.passages import split_corpus

    return split_corpus(read_corpus(Path(corpus_dir), corpus_settings_for(corpus_dir)),
                        passage_settings)


def open_searcher(
    corpus_dir: Path | str = "corpus",
    index_dir: Path | str = "index",
    *,
    embedder: Embedder | None = None,
    search_settings: SearchSettings | None = None,
    corpus_settings: CorpusSettings | None = None,
    passage_settings: PassageSettings = PassageSettings(),
    index_settings: IndexSettings = IndexSettings(),
    progress: bool = False,
    say: Say = lambda _: None,
) -> Searcher:
    """Load the index for ``corpus_dir`` (building or rebuilding it when missing, stale or
    corrupted, and saying so) and return a ready searcher with its model loaded.

    Without ``search_settings`` or ``corpus_settings``, the corpus folder's own are used (see
    :func:`corpus_search_settings` and :func:`corpus_settings_for`)."""
    if search_settings is None:
        search_settings = corpus_search_settings(corpus_dir)
    if corpus_settings is None:
        corpus_settings = corpus_settings_for(corpus_dir)
    embedder = embedder or default_embedder()
    warm_up = getattr(embedder, "warm_up", None)
    if warm_up is not None:
        warm_up()  # before faiss is imported, and so the first question is not slow
    index = ensure_index(
        Path(corpus_dir),
        Path(index_dir),
        embedder,
        corpus_settings=corpus_settings,
        passage_settings=passage_settings,
        index_settings=index_settings,
        progress=progress,
        say=say,
    )
    return Searcher(index, embedder, search_settings).warm_up()
