"""A searcher that can be replaced while it serves: rebuild the index, then swap the reference.

Visitors keep asking while the corpus changes. A request takes the current :class:`Searcher`
once and answers from it to the end; a rebuild writes a new index (atomically, see
:mod:`qa.index`), loads it into a new Searcher and only then swaps the reference. Requests in
flight finish on the old Searcher, which holds everything it needs in memory (the old build
folder may already be gone from disk); later requests get the new one. No request waits for a
rebuild, and none fails because of one.

``LiveSearcher`` has the reading surface of a Searcher (``search``, ``search_many``, ``index``,
``embedder``, ``settings``), so the chat can hold one in place of a Searcher.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qa.embedders import Embedder
from qa.errors import QAError
from qa.index import CorpusIndex, build_index, corpus_fingerprint, current_build, ensure_index
from qa.records import Answer
from qa.search import Query, Searcher
from qa.settings import CorpusSettings, IndexSettings, Mode, PassageSettings, SearchSettings

log = logging.getLogger(__name__)

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


class LiveSearcher:
    """Holds the current :class:`Searcher` of ``corpus_dir`` and swaps in a new one on rebuild.

    Reading :attr:`current` takes no lock (rebinding an attribute is atomic in Python); the lock
    only serialises rebuilds and swaps, so two rebuilds never race and a swap never goes
    backwards to an older index.
    """

    def __init__(
        self,
        corpus_dir: Path | str,
        index_dir: Path | str,
        embedder: Embedder,
        settings: SearchSettings = SearchSettings(),
        *,
        corpus_settings: CorpusSettings = CorpusSettings(),
        passage_settings: PassageSettings = PassageSettings(),
        index_settings: IndexSettings = IndexSettings(),
        progress: bool = False,
        say: Say = _quiet,
    ) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir)
        self.corpus_settings = corpus_settings
        self.passage_settings = passage_settings
        self.index_settings = index_settings
        self.progress = progress  # a progress bar while embedding (for a terminal)
        self.say = say
        self._embedder = embedder
        self._settings = settings
        self._lock = threading.Lock()
        warm_up = getattr(embedder, "warm_up", None)
        if warm_up is not None:
            warm_up()  # before faiss loads (see qa.embedders), and so no visitor waits for it
        self._current = Searcher(self._ensure(), embedder, settings).warm_up()
        self.swaps = 0  # how many times a new index was swapped in (for tests and health checks)

    # -- the Searcher surface -----------------------------------------------------------------

    @property
    def current(self) -> Searcher:
        """The Searcher to use for one request: take it once and use it to the end."""
        return self._current

    @property
    def index(self) -> CorpusIndex:
        return self._current.index

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    @property
    def settings(self) -> SearchSettings:
        return self._settings

    def search(
        self,
        question: str,
        *,
        history: Sequence[str] = (),
        k: int | None = None,
        mode: Mode | None = None,
        with_candidates: bool = False,
    ) -> Answer:
        """:meth:`Searcher.search` on the current index."""
        return self._current.search(
            question, history=history, k=k, mode=mode, with_candidates=with_candidates
        )

    def search_many(
        self,
        queries: Sequence[Query],
        *,
        k: int | None = None,
        mode: Mode | None = None,
        with_candidates: bool = False,
    ) -> list[Answer]:
        """:meth:`Searcher.search_many` on the current index."""
        return self._current.search_many(queries, k=k, mode=mode, with_candidates=with_candidates)

    # -- replacing the index ------------------------------------------------------------------

    def rebuild(self) -> Searcher:
        """Build a new index from the corpus, load it, and swap it in; returns the new Searcher.

        On any error the current Searcher stays in place and the error propagates.
        """
        with self._lock:
            index = build_index(self.corpus_dir, self.index_dir, self._embedder, **self._options())
            return self._swap(index)

    def refresh(self) -> bool:
        """Load the live index from disk (rebuilding it when the corpus changed or it is
        corrupt) and swap it in if it differs from the one served; True when it swapped.

        This also picks up a rebuild made by another process (``qa build``, the staff app).
        """
        with self._lock:
            index = self._ensure()
            if index.folder == self._current.index.folder:
                return False
            self._swap(index)
            return True

    def is_stale(self) -> bool:
        """Whether the corpus or the live build on disk differs from the index being served."""
        served = self._current.index
        try:
            if current_build(self.index_dir).resolve() != served.folder.resolve():
                return True
        except QAError:
            return True  # no usable CURRENT: refresh() rebuilds it
        fingerprint = corpus_fingerprint(self.corpus_dir, self.corpus_settings)
        return bool(fingerprint != served.manifest["corpus"]["fingerprint"])

    def watch(self, interval: float = 30.0) -> Watcher:
        """Start a daemon thread that refreshes the index whenever :meth:`is_stale`."""
        watcher = Watcher(self, interval)
        watcher.start()
        return watcher

    def _ensure(self) -> CorpusIndex:
        return ensure_index(self.corpus_dir, self.index_dir, self._embedder, **self._options())

    def _options(self) -> dict[str, Any]:
        """What a build or a load of this corpus's index is given, the same for both."""
        return {
            "corpus_settings": self.corpus_settings,
            "passage_settings": self.passage_settings,
            "index_settings": self.index_settings,
            "progress": self.progress,
            "say": self.say,
        }

    def _swap(self, index: CorpusIndex) -> Searcher:
        searcher = Searcher(index, self._embedder, self._settings).warm_up()
        old = self._current.index.version
        self._current = searcher
        self.swaps += 1
        self.say(f"Now serving index {index.version} (was {old})")
        return searcher


class Watcher(threading.Thread):
    """Checks every ``interval`` seconds whether the index is stale, and refreshes it.

    A failed rebuild (an unreadable file, an emptied corpus) is logged and the old index keeps
    serving; the watcher tries again at the next tick. :meth:`stop` ends it promptly.
    """

    def __init__(self, live: LiveSearcher, interval: float) -> None:
        if interval <= 0:
            raise ValueError("the watch interval must be positive")
        super().__init__(name="qa-index-watcher", daemon=True)
        self.live = live
        self.interval = interval
        self._stop_event = threading.Event()
        self.errors = 0

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                if self.live.is_stale():
                    self.live.refresh()
            except (QAError, OSError) as error:
                self.errors += 1
                log.warning("index refresh failed, still serving the old index: %s", error)

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
