"""The chat served on loopback and queried as programs do: gradio_client and plain HTTP.

Most tests serve a tiny corpus in-process (hashing embedder); the ``model`` test runs
``python app.py`` itself, as the README says to, on a copy of the real corpus.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chat_support import EXAMPLES, OFF_TOPIC, make_searcher, run_app, serving
from gradio_client import Client
from gradio_client.utils import QueueError

from qa.chat import ChatSettings
from qa.render import NOT_COVERED
from qa.search import Searcher
from qa.store import Store
from qa.ui import CONTENT_SECURITY_POLICY, build_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    return make_searcher(tmp_path_factory.mktemp("client"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("data") / "qa.sqlite3") as s:
        yield s


@pytest.fixture(scope="module")
def url(searcher: Searcher, store: Store) -> Iterator[str]:
    with serving(build_app(searcher, store, ChatSettings(examples=EXAMPLES))) as served:
        yield served


@pytest.fixture(scope="module")
def client(url: str) -> Client:
    return Client(url, verbose=False)


def test_ask_returns_passages_with_citations(client: Client) -> None:
    data = client.predict("How often should I water tomato plants?", None, api_name="/ask")
    assert data["abstained"] is False and data["crisis"] is False
    first = data["results"][0]
    assert first["title"] == "Growing Tomatoes at Home" and first["section"] == "Watering"
    assert first["text"].startswith("Tomato plants need deep watering")
    assert first["source"] == "tomatoes.txt" and first["end"] > first["start"]


def test_ask_abstains_off_topic(client: Client, store: Store) -> None:
    data = client.predict(OFF_TOPIC, None, api_name="/ask")
    assert data["abstained"] is True and data["results"] == []
    assert data["not_covered"] == NOT_COVERED
    assert OFF_TOPIC in [r.question for r in store.unanswered()]


def test_ask_resolves_a_follow_up_from_history(client: Client) -> None:
    data = client.predict(
        "and pruning them?", ["How often should I water tomato plants?"], api_name="/ask"
    )
    assert data["effective_query"].startswith("How often should I water tomato plants?")


def test_ask_flags_a_crisis(client: Client) -> None:
    data = client.predict("i want to die", None, api_name="/ask")
    assert data["crisis"] is True and "988" in data["crisis_message"]


def test_ask_rejects_over_long_and_empty_questions(client: Client) -> None:
    with pytest.raises(Exception, match="limited to 1,000 characters"):
        client.predict("tomato " * 1000, None, api_name="/ask")
    with pytest.raises(Exception, match="empty"):
        client.predict("   ", None, api_name="/ask")


def test_only_ask_is_public_api(client: Client, url: str) -> None:
    api = client.view_api(print_info=False, return_format="dict")
    assert set(api["named_endpoints"]) == {"/ask"} and not api["unnamed_endpoints"]
    config = httpx.get(f"{url}/config").json()
    chat_events = [d for d in config["dependencies"] if d.get("api_name") != "ask"]
    assert chat_events and {d["api_visibility"] for d in chat_events} == {"private"}


def test_queue_bypass_and_unused_routes_are_closed(url: str) -> None:
    # /run skips the queue (and so its size and concurrency limits): api_open=False.
    run = httpx.post(f"{url}/gradio_api/run/ask", json={"data": ["compost", None]})
    assert run.status_code == 404
    unknown = httpx.post(f"{url}/gradio_api/run/predict", json={"data": ["compost"]})
    assert unknown.status_code == 404  # not Gradio's 500 for a name it does not know
    for path in ("/gradio_api/upload", "/gradio_api/monitoring", "/openapi.json", "/docs"):
        assert httpx.get(f"{url}{path}").status_code == 404, path
    upload = httpx.post(f"{url}/gradio_api/upload", files={"files": ("a.txt", b"x")})
    assert upload.status_code == 404
    assert httpx.get(f"{url}/monitoring").status_code in (403, 404)


@pytest.mark.parametrize("path", ["/", "/config", "/gradio_api/info", "/source/unknown"])
def test_security_headers_on_every_response(url: str, path: str) -> None:
    headers = httpx.get(f"{url}{path}").headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "img-src 'self' data: blob:" in CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "SAMEORIGIN"


def test_source_page_shows_the_document_at_the_passage(client: Client, url: str) -> None:
    data = client.predict("compost bin overlay heat weed seeds", None, api_name="/ask")
    hit = next(r for r in data["results"] if "position:fixed" in r["text"])
    page = httpx.get(f"{url}/source/{hit['passage_id']}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<mark id="qa-passage">' in page.text
    assert "&lt;div style=&quot;position:fixed" in page.text
    assert "<div style=" not in page.text and "<script>window" not in page.text
    assert "Building a compost bin" in page.text  # the whole document, not only the passage
    missing = httpx.get(f"{url}/source/0000000000000000")
    assert missing.status_code == 404 and "no longer here" in missing.text


def test_a_full_queue_says_busy(searcher: Searcher) -> None:
    release = threading.Event()

    class Slow(Searcher):
        def search(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            release.wait(30)
            return super().search(*args, **kwargs)

    slow = Slow(searcher.index, searcher.embedder, searcher.settings)
    chat = build_app(slow, None, ChatSettings(examples=()), queue_size=1, concurrency=1)
    with serving(chat) as served:
        client = Client(served, verbose=False)
        jobs = [client.submit("compost bin", None, api_name="/ask")]
        time.sleep(1)  # the first is running; the next fills the queue; the rest are refused
        jobs += [client.submit("compost bin", None, api_name="/ask") for _ in range(3)]
        errors = []
        time.sleep(1)
        release.set()
        for job in jobs:
            try:
                job.result(timeout=60)
            except QueueError as error:
                errors.append(str(error))
        assert errors and all("Queue is full" in e for e in errors)
        assert len(errors) < len(jobs)


@pytest.mark.model
def test_python_app_py_builds_the_index_then_serves(tmp_path: Path) -> None:
    """``python app.py`` on a fresh index folder builds it with progress, serves the chat on
    loopback, and a second start reuses the index; a changed corpus is rebuilt."""
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    args = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    args += ["--data", str(tmp_path / "data")]

    first = run_app(args)
    assert "No index at" in first.log and "Read 4 documents" in first.log
    data = first.client.predict("What are the side effects of ketamine?", None, api_name="/ask")
    assert data["abstained"] is False and "side effect" in data["results"][0]["text"].lower()
    assert first.client.predict("How do I bake sourdough bread?", None, api_name="/ask")[
        "abstained"
    ]
    first.stop()
    assert (tmp_path / "data" / "qa.sqlite3").exists()

    second = run_app(args)
    assert "No index at" not in second.log and "Rebuilding" not in second.log
    second.stop()

    with (corpus / "000_c44dd96ba84d896b.txt").open("a", encoding="utf-8") as handle:
        handle.write("\nA new closing paragraph about ketamine clinics and their staff.\n")
    third = run_app(args)
    assert "Rebuilding the index" in third.log
    third.stop()


def python(code: str, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter at the repository root; its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return done.stdout


def test_importing_app_loads_no_model_and_no_gradio() -> None:
    out = python(
        "import sys, app; print(sorted(m for m in ('gradio', 'torch', 'faiss', "
        "'sentence_transformers') if m in sys.modules))"
    )
    assert out.strip() == "[]"


def test_flags_and_environment() -> None:
    out = python(
        "import app; a = app.parse_args([]); print(a.host, a.port, a.corpus, a.index, a.data,"
        " a.queue_size, a.concurrency, a.log_questions);"
        " b = app.parse_args(['--port', '9000', '--no-log-questions']);"
        " print(b.port, b.log_questions)",
        env={
            "QA_PORT": "8123",
            "QA_CORPUS": "/c",
            "QA_INDEX": "/i",
            "QA_DATA": "/d",
            "QA_LOG_QUESTIONS": "1",
            "QA_QUEUE_SIZE": "5",
            "QA_CONCURRENCY": "3",
        },
    )
    assert out.splitlines() == ["127.0.0.1 8123 /c /i /d 5 3 True", "9000 False"]


@pytest.mark.model
def test_module_level_demo_is_built_on_first_use(tmp_path: Path) -> None:
    """``app.demo`` (what ``gradio app.py`` and notebooks look for) builds from the environment."""
    out = python(
        "import app; print(type(app.demo).__name__, app.demo is app.demo)",
        env={"QA_INDEX": str(tmp_path / "index"), "QA_DATA": str(tmp_path / "data")},
    )
    assert out.strip().splitlines()[-1] == "Blocks True"
