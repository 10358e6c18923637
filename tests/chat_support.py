"""A tiny corpus and searcher for the chat tests (hashing embedder: instant, deterministic).

One document carries hostile markup in its text, as a scraped web page could: an ``onerror``
image, a full-screen ``position:fixed`` overlay, a script, a form and a Markdown image. The
chat must show all of it as inert text.
"""

from __future__ import annotations

import socket
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
