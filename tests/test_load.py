"""A reduced load test of the real chat on loopback (the full one is benchmarks/load_test.py):
20 visitors at once lose nothing, a full queue answers "busy" instead of hanging, and a rebuild
while visitors ask fails no request. No timing is asserted: the machine's speed is not the test.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chat_support import THRESHOLD

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from benchlib import DEFAULT_CORPUS, read_questions  # noqa: E402
from loadlib import (  # noqa: E402
    NEW_DOCUMENT,
    Server,
    Visitors,
    lost,
    run_rebuild_phase,
    start_server,
    store_counts,
)

from qa.embedders import HashingEmbedder  # noqa: E402
from qa.settings import SearchSettings  # noqa: E402

VISITORS = 20


class SlowSearcher:
    """A searcher that takes a while per question, so a tiny queue surely fills up."""

    def __init__(self, inner: Any, seconds: float = 0.3) -> None:
        self.inner, self.seconds = inner, seconds

    def search(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(self.seconds)
        return self.inner.search(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def serve(tmp: Path, **kwargs: Any) -> Server:
    corpus = tmp / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    return start_server(
        corpus,
        tmp / "index",
        tmp / "data",
        embedder=HashingEmbedder(),
        settings=SearchSettings(abstain_threshold=THRESHOLD),
        **kwargs,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = serve(tmp_path_factory.mktemp("load"), watch=0.2)
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def questions() -> list[tuple[str, tuple[str, ...]]]:
    return read_questions()


def test_concurrent_visitors_get_answers_and_every_vote_is_stored(
    server: Server, questions: list[tuple[str, tuple[str, ...]]]
) -> None:
    before = store_counts(server.store)
    visitors = Visitors(
        server.urls[0], questions, VISITORS, per_visitor=10, store=server.store, timeout=120
    )
    result = visitors.run()
    summary = result.summary()
    assert (summary["requests"], summary["answers"]) == (200, 200), summary["first_errors"]
    assert result.votes == 200 and result.vote_errors == 0
    assert result.logged_by_server() > 0  # some questions were not covered: the log was used
    assert lost(before, store_counts(server.store), result) == {"feedback": 0, "unanswered": 0}


def test_past_the_queue_limit_visitors_are_told_busy_not_left_hanging(
    tmp_path: Path, questions: list[tuple[str, tuple[str, ...]]]
) -> None:
    tiny = serve(tmp_path, queues=[(1, 1)], wrap=SlowSearcher)
    try:
        result = Visitors(tiny.urls[0], questions, VISITORS, per_visitor=2, timeout=120).run()
    finally:
        tiny.close()
    assert result.count("busy") > 0  # 20 at once, one at work and one waiting: the rest bounce
    assert result.count("answer") > 0
    assert result.count("timeout") == 0 and result.count("error") == 0


def test_a_rebuild_while_visitors_ask_fails_no_request(
    server: Server, questions: list[tuple[str, tuple[str, ...]]]
) -> None:
    old_version = server.live.index.version
    before = store_counts(server.store)
    visitors = Visitors(
        server.urls[0], questions, VISITORS, per_visitor=None, store=server.store,
        timeout=120, deadline=120,
    )  # fmt: skip

    def add_document() -> None:  # the watcher sees the corpus change and rebuilds
        (server.live.corpus_dir / "zz-visiting.txt").write_text(NEW_DOCUMENT, encoding="utf-8")

    result = run_rebuild_phase(visitors, add_document, before=20, after=20)
    versions = result.summary()["versions"]
    assert result.count("answer") == len(result.outcomes), result.summary()["first_errors"]
    assert server.live.swaps == 1 and server.live.index.version != old_version
    assert set(versions) == {old_version, server.live.index.version}
    assert versions[server.live.index.version] >= 20
    assert lost(before, store_counts(server.store), result) == {"feedback": 0, "unanswered": 0}
