"""A tiny corpus and searcher for the chat tests (hashing embedder: instant, deterministic).

One document carries hostile markup in its text, as a scraped web page could: an ``onerror``
image, a full-screen ``position:fixed`` overlay, a script, a form and a Markdown image. The
chat must show all of it as inert text.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from qa.api import open_searcher
from qa.embedders import HashingEmbedder
from qa.search import Searcher
from qa.settings import SearchSettings

if TYPE_CHECKING:
    from qa.ui import ChatApp

# Hashing vectors of a short question and a 60-word passage rarely pass a cosine of 0.35 (the
# bundled model's calibrated threshold); on this corpus 0.15 separates on- from off-topic.
THRESHOLD = 0.15

EVIL_HOST = "127.0.0.1"  # an unroutable image host would do, but loopback lets a test count hits

TOMATOES = """\
Growing Tomatoes at Home

Watering

Tomato plants need deep watering about twice a week, more often in hot weather. Water the soil
at the base of the plant in the morning, not the leaves, so the foliage dries quickly and
fungal diseases such as blight have less chance to spread through the garden.

Pruning

Remove the small suckers that grow between the main stem and the branches of indeterminate
tomato plants. Pruning them early keeps the plant open to light and air, and the fruit ripens
sooner because the plant spends less energy on extra leaves and stems.
"""


def hostile_text(evil_port: int = 9) -> str:
    """A compost article whose body holds markup that must never run or load anything."""
    url = f"http://{EVIL_HOST}:{evil_port}"
    return f"""\
Compost Bins and Strange Markup

Building a compost bin

A compost bin turns kitchen scraps and garden waste into rich soil.
<img src="{url}/onerror.png" onerror="window.__pwned = 'img'"> Layer green waste and brown
waste, keep the compost bin moist, and turn the pile every week.

Compost bin overlay

<div style="position:fixed;top:0;left:0;width:100vw;height:100vh;background:red;z-index:9999"
id="overlay">compost bin overlay</div> A hot compost bin reaches sixty degrees and kills weed
seeds. <script>window.__pwned = 'script'</script> <form action="{url}/steal"><input
name="compost"></form> ![compost tracker]({url}/markdown.png) Compost bin heat needs air.
"""


def write_corpus(folder: Path, evil_port: int = 9) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tomatoes.txt").write_text(TOMATOES, encoding="utf-8")
    (folder / "compost.txt").write_text(hostile_text(evil_port), encoding="utf-8")
    return folder


def make_searcher(tmp_path: Path, evil_port: int = 9) -> Searcher:
    corpus = write_corpus(tmp_path / "corpus", evil_port)
    return open_searcher(
        corpus,
        tmp_path / "index",
        embedder=HashingEmbedder(),
        search_settings=SearchSettings(abstain_threshold=THRESHOLD),
    )


EXAMPLES = ("How often should I water tomato plants?", "How do I build a compost bin?")
OFF_TOPIC = "Explain quantum chromodynamics lattice gauge theory"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(chat: ChatApp) -> Iterator[str]:
    """Serve ``chat`` on a free loopback port for the duration of the block; yields its URL."""
    url = chat.launch("127.0.0.1", free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield url.rstrip("/")
    finally:
        chat.demo.close()


ROOT = Path(__file__).resolve().parent.parent


class RunningApp:
    def __init__(self, process: subprocess.Popen[str], url: str, log: str) -> None:
        self.process, self.url, self.log = process, url, log
        from gradio_client import Client

        self.client = Client(url, verbose=False)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_app(args: list[str]) -> RunningApp:
    """Start ``python app.py`` on a free loopback port; wait for its "Serving" line."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 300
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Serving the chat on"):
            # Keep draining output so the child never blocks on a full pipe.
            threading.Thread(target=process.stdout.read, daemon=True).start()
            url = line.split(" on ", 1)[1].split()[0]
            assert url.startswith(f"http://127.0.0.1:{port}")
            return RunningApp(process, url, "".join(lines))
    process.kill()
    process.wait()
    raise AssertionError("app.py did not start:\n" + "".join(lines))


STAFF_LOGIN = ("staffer", "correct horse battery")


@contextmanager
def staff_serving(tmp: Path, login: tuple[str, str] = STAFF_LOGIN) -> Iterator[str]:
    """The staff view on this corpus (hashing embedder), served on a free port; its URL.
    The store holds one unanswered question to start with."""
    import argparse

    sys.path.insert(0, str(ROOT))
    import staff

    args = argparse.Namespace(corpus=write_corpus(tmp / "corpus"), index=tmp / "index",
                              data=tmp / "data", model=None)
    app = staff.create_app(
        args,
        embedder=HashingEmbedder(),
        settings=SearchSettings(abstain_threshold=THRESHOLD),
        say=lambda _: None,
    )
    app.store.log_unanswered(
        question="Can I grow figs indoors?", reason="abstained", index_version="v0"
    )
    app.store.log_unanswered(
        question="Can I grow figs on a balcony?", reason="partly_covered", index_version="v0",
        missing_words=["balcony"],
    )
    url = app.launch(login, "127.0.0.1", free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield url.rstrip("/")
    finally:
        app.demo.close()
