"""The visitors' chat: ``python app.py`` builds the index if needed and serves on 127.0.0.1:7860.

Flags and environment variables (flags win):

    --host            QA_HOST      interface to listen on (default 127.0.0.1; never a share link)
    --port            QA_PORT      port (default 7860)
    --corpus          QA_CORPUS    folder of .txt/.md documents (default corpus/)
    --index           QA_INDEX     folder of the built index (default index/)
    --data            QA_DATA      folder of the feedback store (default data/)
    --queue-size      QA_QUEUE_SIZE    questions waiting at most before "busy" (default 32)
    --concurrency     QA_CONCURRENCY   questions answered at once (default 2)
    --watch           QA_WATCH     seconds between corpus checks; a change is rebuilt and
                                   swapped in while visitors keep asking (default 30; 0 = off)
    --no-log-questions QA_LOG_QUESTIONS=0  keep votes but never a visitor's text

``import app`` is cheap: the searcher, the model and the Blocks are built on first use of
``app.demo`` (which ``gradio app.py`` and notebooks look for), not at import.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.ui import ChatApp


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in ("0", "false", "no", "off", "")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="app.py", description="Serve the cited-passage chat (local only by default)."
    )
    parser.add_argument("--host", default=env("QA_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("QA_PORT", "7860")))
    parser.add_argument("--corpus", type=Path, default=Path(env("QA_CORPUS", "corpus")))
    parser.add_argument("--index", type=Path, default=Path(env("QA_INDEX", "index")))
    parser.add_argument("--data", type=Path, default=Path(env("QA_DATA", "data")))
    parser.add_argument(
        "--model",
        type=Path,
        default=Path(env("QA_MODEL")) if env("QA_MODEL") else None,
        help="a model made by `qa adapt` instead of the bundled one (with an --index of its own)",
    )
    parser.add_argument("--queue-size", type=int, default=int(env("QA_QUEUE_SIZE", "32")))
    parser.add_argument("--concurrency", type=int, default=int(env("QA_CONCURRENCY", "2")))
    parser.add_argument(
        "--watch",
        type=float,
        default=float(env("QA_WATCH", "30")),
        help="seconds between checks for a changed corpus (0: never)",
    )
    parser.add_argument(
        "--no-log-questions",
        dest="log_questions",
        action="store_false",
        default=_env_flag("QA_LOG_QUESTIONS", True),
        help="store votes without the visitor's text, and no unanswered questions",
    )
    args = parser.parse_args(argv)
    if args.queue_size < 1 or args.concurrency < 1:
        parser.error("--queue-size and --concurrency must be at least 1")
    return args


def create_app(args: argparse.Namespace, *, say: Any = print) -> ChatApp:
    """Open (building or rebuilding as needed) the index, warm the model, open the store and
    build the chat. Progress goes to the terminal."""
    from qa.adapt import model_embedder, served_search_settings
    from qa.api import corpus_settings_for
    from qa.live import LiveSearcher
    from qa.store import Store
    from qa.ui import build_app

    searcher = LiveSearcher(
        args.corpus,
        args.index,
        model_embedder(args.model),
        served_search_settings(args.corpus, args.model),
        corpus_settings=corpus_settings_for(args.corpus),
        progress=True,
        say=say,
    )
    if args.watch > 0:
        # A changed corpus is rebuilt in the background and swapped in; visitors keep getting
        # answers from the old index meanwhile.
        searcher.watch(args.watch)
    store = Store(args.data / "qa.sqlite3", log_questions=args.log_questions)
    return build_app(
        searcher,
        store,
        queue_size=args.queue_size,
        concurrency=args.concurrency,
    )


@lru_cache(maxsize=1)
def _default_app() -> ChatApp:
    return create_app(parse_args([]))


def __getattr__(name: str) -> Any:
    """``app.demo`` builds the chat from the environment on first use (PEP 562)."""
    if name == "demo":
        return _default_app().demo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    from qa.errors import QAError

    args = parse_args(argv)
    try:
        chat = create_app(args, say=lambda message: print(message, flush=True))
    except (QAError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    url = chat.launch(args.host, args.port, prevent_thread_lock=True, quiet=True)
    print(f"Serving the chat on {url} (Ctrl+C to stop)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        chat.demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
