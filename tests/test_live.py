"""Swapping a rebuilt index under a live searcher: requests in flight keep the old one, nothing
fails, a failed rebuild keeps serving the old index, and the watcher follows the corpus."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from chat_support import THRESHOLD, write_corpus

from qa.embedders import HashingEmbedder
from qa.errors import CorpusError
from qa.index import build_index
from qa.live import LiveSearcher
from qa.settings import SearchSettings

FIGS = """\
Growing Figs in Pots

Figs in containers

A fig tree grows well in a large pot on a sunny patio. Water the fig when the top of the soil
is dry, feed it every two weeks in summer, and move the pot into a cool shed before the first
frost so that the roots do not freeze during the winter months.
"""
FIG_QUESTION = "How do I keep a fig tree in a pot over winter?"


def wait_for(condition: object, seconds: float = 30.0) -> bool:
    """Poll ``condition()`` until true or the deadline passes (a bound, not a timing check)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.fixture()
def live(tmp_path: Path) -> LiveSearcher:
    corpus = write_corpus(tmp_path / "corpus")
    return LiveSearcher(
        corpus,
        tmp_path / "index",
        HashingEmbedder(),
        SearchSettings(abstain_threshold=THRESHOLD),
    )


def test_rebuild_swaps_in_the_new_index_and_the_old_searcher_keeps_working(
    live: LiveSearcher,
) -> None:
    old = live.current
    assert live.search(FIG_QUESTION).abstained
    (live.corpus_dir / "figs.txt").write_text(FIGS, encoding="utf-8")
    new = live.rebuild()
    assert live.current is new and new is not old and live.swaps == 1
    assert new.index.version != old.index.version
    assert not old.index.folder.exists()  # the old build is gone from disk...
    answer = old.search("How often should I water tomato plants?")  # ...and still answers
    assert answer.index_version == old.index.version and not answer.abstained
    figs = live.search(FIG_QUESTION)
    assert not figs.abstained and figs.citations[0].title == "Growing Figs in Pots"
    assert figs.index_version == live.index.version == new.index.version


def test_refresh_picks_up_a_build_made_elsewhere(live: LiveSearcher) -> None:
    assert not live.is_stale() and live.refresh() is False
    (live.corpus_dir / "figs.txt").write_text(FIGS, encoding="utf-8")
    assert live.is_stale()  # the corpus changed
    built = build_index(live.corpus_dir, live.index_dir, live.embedder)  # as `qa build` would
    assert live.is_stale()  # CURRENT now points at another build
    assert live.refresh() is True
    assert live.index.version == built.version and not live.is_stale()
    assert live.refresh() is False


def test_a_failed_rebuild_keeps_serving_the_old_index(live: LiveSearcher) -> None:
    before = live.current
    for path in live.corpus_dir.iterdir():
        path.unlink()
    with pytest.raises(CorpusError):
        live.rebuild()
    assert live.current is before and live.swaps == 0
    assert not live.search("How often should I water tomato plants?").abstained


def test_the_watcher_follows_the_corpus_and_survives_a_bad_moment(live: LiveSearcher) -> None:
    watcher = live.watch(interval=0.05)
    try:
        (live.corpus_dir / "figs.txt").write_text(FIGS, encoding="utf-8")
        # Files are written one at a time, so the watcher may see (and index) a half-made
        # corpus first: wait until what is served matches what is on disk.
        assert wait_for(lambda: live.swaps >= 1 and not live.is_stale())
        assert not live.search(FIG_QUESTION).abstained
        saved = {p.name: p.read_text("utf-8") for p in live.corpus_dir.iterdir()}
        for path in live.corpus_dir.iterdir():
            path.unlink()
        assert wait_for(lambda: watcher.errors > 0)  # an empty corpus cannot be indexed...
        swaps = live.swaps
        assert not live.search(FIG_QUESTION).abstained  # ...the old one keeps serving
        assert live.swaps == swaps
        for name, text in saved.items():
            (live.corpus_dir / name).write_text(text, encoding="utf-8")
        (live.corpus_dir / "figs.txt").unlink()
        assert wait_for(lambda: live.swaps > swaps and not live.is_stale())
        assert live.search(FIG_QUESTION).abstained
    finally:
        watcher.stop()
    assert not watcher.is_alive()


def test_searching_threads_never_fail_across_rebuilds(live: LiveSearcher) -> None:
    errors: list[BaseException] = []
    versions: set[str] = set()
    stop = threading.Event()

    def visitor() -> None:
        while not stop.is_set():
            try:
                versions.add(live.search("How often should I water tomato plants?").index_version)
            except BaseException as error:  # any failure is what this test is looking for
                errors.append(error)

    threads = [threading.Thread(target=visitor) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        for n in range(3):
            (live.corpus_dir / f"figs-{n}.txt").write_text(FIGS, encoding="utf-8")
            live.rebuild()
        assert wait_for(lambda: live.index.version in versions)  # visitors moved on to it
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert errors == []
    assert live.swaps == 3 and len(versions) >= 2
