"""The staff view: ``python staff.py`` serves the retrieval lab on 127.0.0.1:7861 behind a login.

It is a separate app on its own port, not a tab of the visitors' page (a hidden tab is not access
control). It refuses to start without credentials, which come from the environment only (a
password given as a flag would show in every process listing):

    QA_STAFF_USER, QA_STAFF_PASSWORD   the staff login (required; the password 8+ characters)

Flags and environment variables (flags win), the same folders as ``app.py``:

    --host     QA_STAFF_HOST   interface to listen on (default 127.0.0.1; never a share link)
    --port     QA_STAFF_PORT   port (default 7861)
    --corpus   QA_CORPUS       folder of .txt/.md documents (default corpus/)
    --index    QA_INDEX        folder of the built index (default index/)
    --data     QA_DATA         folder of the feedback store (default data/)
    --model    QA_MODEL        a model made by ``qa adapt``, as the visitors' app serves it
                               (``make run`` serves models/adapted with index-adapted/)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.embedders import Embedder
    from qa.settings import SearchSettings
    from qa.staff_ui import StaffApp

MIN_PASSWORD = 8
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class CredentialsError(ValueError):
    """The staff login is missing or too weak; the staff view does not start."""


def credentials(environ: Mapping[str, str]) -> tuple[str, str]:
    """The staff (user, password) from the environment, or CredentialsError saying what is
    missing."""
    user = environ.get("QA_STAFF_USER", "").strip()
    password = environ.get("QA_STAFF_PASSWORD", "")
    if not user or not password:
        raise CredentialsError(
            "the staff view needs a login: set QA_STAFF_USER and QA_STAFF_PASSWORD in the "
            "environment (it never starts without one)"
        )
    if len(password) < MIN_PASSWORD:
        raise CredentialsError(
            f"QA_STAFF_PASSWORD is shorter than {MIN_PASSWORD} characters; choose a longer one"
        )
    return user, password


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="staff.py", description="Serve the staff view (retrieval lab) behind a login."
    )
    parser.add_argument("--host", default=env("QA_STAFF_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("QA_STAFF_PORT", "7861")))
    parser.add_argument("--corpus", type=Path, default=Path(env("QA_CORPUS", "corpus")))
    parser.add_argument("--index", type=Path, default=Path(env("QA_INDEX", "index")))
    parser.add_argument("--data", type=Path, default=Path(env("QA_DATA", "data")))
    parser.add_argument(
        "--model",
        type=Path,
        default=Path(env("QA_MODEL")) if env("QA_MODEL") else None,
        help="a model made by `qa adapt` instead of the bundled one (with an --index of its own)",
    )
    return parser.parse_args(argv)


def create_app(
    args: argparse.Namespace,
    *,
    embedder: Embedder | None = None,
    settings: SearchSettings | None = None,
    say: Any = print,
) -> StaffApp:
    """Open the visitors' index (building it if needed) and the feedback store, and build the
    staff view over them. The model (``args.model``, the bundled one when None) and ``settings``
    default to the visitors' app's (qa.adapt.served_search_settings)."""
    from qa.adapt import model_embedder, served_search_settings
    from qa.api import corpus_settings_for
    from qa.live import LiveSearcher
    from qa.staff_ui import build_staff_app
    from qa.store import Store

    live = LiveSearcher(
        args.corpus,
        args.index,
        embedder or model_embedder(args.model),
        settings or served_search_settings(args.corpus, args.model),
        corpus_settings=corpus_settings_for(args.corpus),
        say=say,
    )
    store = Store(args.data / "qa.sqlite3")
    return build_staff_app(live, store)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        login = credentials(os.environ)
    except CredentialsError as error:
        print(f"staff.py: {error}", file=sys.stderr)
        return 2
    from qa.errors import QAError

    if args.host not in LOOPBACK:
        print(
            f"warning: serving on {args.host}: the login travels in clear text unless a "
            "reverse proxy adds HTTPS in front",
            file=sys.stderr,
        )
    try:
        staff = create_app(args, say=lambda message: print(message, flush=True))
    except (QAError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Serving the staff view on http://{args.host}:{args.port} (Ctrl+C to stop)", flush=True)
    staff.launch(login, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
