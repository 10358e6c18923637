"""The ``qa`` command line: a thin layer over :mod:`qa.api`; errors become one-line messages.

Environment variables (read here only): ``QA_CORPUS`` and ``QA_INDEX`` set the default folders.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from qa.errors import InputError, QAError

F = TypeVar("F", bound=Callable[..., Any])


def _say(message: str) -> None:
    click.echo(message, err=True)


class BadInput(click.ClickException):
    """A bad question or input file: one line, exit code 2 like a usage error (but without the
    usage text, which says nothing about what was wrong with the input)."""

    exit_code = 2


def translate_errors(func: F) -> F:
    """Turn the package's named errors into a one-line CLI error instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            raise BadInput(str(exc)) from exc
        except (QAError, OSError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


corpus_option = click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=lambda: os.environ.get("QA_CORPUS", "corpus"),
    show_default="corpus/ or $QA_CORPUS",
    help="Folder of .txt/.md documents.",
)
index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=lambda: os.environ.get("QA_INDEX", "index"),
    show_default="index/ or $QA_INDEX",
    help="Folder of the built index.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qa")
def main() -> None:
    """Cited-passage question answering over a folder of documents."""


@main.command()
@corpus_option
@index_option
@translate_errors
def build(corpus_dir: Path, index_dir: Path) -> None:
    """Read, split, embed and index the corpus (atomically replacing any previous index)."""
    from qa.api import corpus_settings_for
    from qa.embedders import default_embedder
    from qa.index import build_index

    corpus_settings = corpus_settings_for(corpus_dir)  # refuse a bad titles file before loading
    embedder = default_embedder()
    embedder.warm_up()
    index = build_index(
        corpus_dir, index_dir, embedder, corpus_settings=corpus_settings, progress=True, say=_say
    )
    m = index.manifest
    click.echo(
        f"Indexed {m['corpus']['documents']} documents as {m['passages']['count']} passages "
        f"into {index.folder} (version {index.version}, {m['build_seconds']:.1f} s)"
    )


@main.command()
@click.argument("question", required=False)
@click.option(
    "--k", "k", type=click.IntRange(1, 100), default=5, show_default=True, help="Passages to show."
)
@click.option("--history", multiple=True, help="An earlier user turn (repeat, oldest first).")
@click.option(
    "--batch",
    "batch",
    type=click.File("r", encoding="utf-8"),
    help='JSONL file of {"id", "question", "history"} lines ("-" for stdin).',
)
@click.option(
    "--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@corpus_option
@index_option
@translate_errors
def search(
    question: str | None,
    k: int,
    history: tuple[str, ...],
    batch: Any,
    mode: str,
    as_json: bool,
    corpus_dir: Path,
    index_dir: Path,
) -> None:
    """Show the passages that answer QUESTION, or say the corpus does not cover it."""
    from qa.api import open_searcher
    from qa.render import answer_json, answer_text
    from qa.search import clean_question
    from qa.settings import SearchSettings

    if (question is None) == (batch is None):
        raise click.UsageError("give either a QUESTION or --batch FILE")
    if question is not None:  # refuse an empty question before loading the model or building
        clean_question(question, SearchSettings().max_query_chars)
    searcher = open_searcher(corpus_dir, index_dir, progress=True, say=_say)
    if batch is None:
        assert question is not None
        answer = searcher.search(question, history=history, k=k, mode=mode)  # type: ignore[arg-type]
        if as_json:
            click.echo(json.dumps(answer_json(answer), ensure_ascii=False))
        else:
            click.echo(answer_text(answer), nl=False)
        return
    failures = 0
    for item in _batch_items(batch):
        if "error" in item:
            failures += 1
            click.echo(json.dumps(item, ensure_ascii=False))
            continue
        try:
            answer = searcher.search(item["question"], history=item["history"], k=k, mode=mode)  # type: ignore[arg-type]
        except InputError as exc:
            failures += 1
            click.echo(json.dumps({"id": item["id"], "error": str(exc)}, ensure_ascii=False))
            continue
        click.echo(json.dumps({"id": item["id"], **answer_json(answer)}, ensure_ascii=False))
    if failures:
        _say(f'{failures} line(s) could not be answered; see their "error" fields')
        sys.exit(2)


def _batch_items(handle: Any) -> Iterator[dict[str, Any]]:
    """Parsed batch lines; a bad line yields an error record (with its line number), not a crash."""
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield {"id": None, "line": number, "error": f"line {number} is not JSON: {exc.msg}"}
            continue
        if not isinstance(row, dict) or not isinstance(row.get("question"), str):
            yield {
                "id": row.get("id") if isinstance(row, dict) else None,
                "line": number,
                "error": f'line {number} has no "question" string',
            }
            continue
        history = row.get("history") or []
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            yield {
                "id": row.get("id"),
                "line": number,
                "error": f'line {number}: "history" must be a list of strings',
            }
            continue
        yield {"id": row.get("id", number), "question": row["question"], "history": history}


import qa.eval_cli  # noqa: E402, F401  (adds `qa eval` to `main`; it imports this module)
from qa import staff_cli  # noqa: E402, F401  (adds `qa staff` to `main`; it imports this module)

if __name__ == "__main__":  # pragma: no cover
    main()
