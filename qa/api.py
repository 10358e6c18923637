"""The Python API that the CLI, the chat app and the tests share: open a searcher on a corpus."""

from __future__ import annotations

from pathlib import Path

from qa.embedders import Embedder, default_embedder
from qa.index import Say, ensure_index
from qa.search import Searcher
from qa.settings import CorpusSettings, IndexSettings, PassageSettings, SearchSettings


def open_searcher(
    corpus_dir: Path | str = "corpus",
    index_dir: Path | str = "index",
    *,
    embedder: Embedder | None = None,
    search_settings: SearchSettings = SearchSettings(),
    corpus_settings: CorpusSettings = CorpusSettings(),
    passage_settings: PassageSettings = PassageSettings(),
    index_settings: IndexSettings = IndexSettings(),
    progress: bool = False,
    say: Say = lambda _: None,
) -> Searcher:
    """Load the index for ``corpus_dir`` (building or rebuilding it when missing, stale or
    corrupted, and saying so) and return a ready searcher with its model loaded."""
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
    return Searcher(index, embedder, search_settings)
