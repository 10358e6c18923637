"""The ``qa`` command line: a thin layer over :mod:`qa.api`; errors become one-line messages.

Environment variables (read here only): ``QA_CORPUS`` and ``QA_INDEX`` set the default folders;
``QA_MODEL`` an adapted model for every command (``qa --model DIR``, :mod:`qa.adapt`).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from qa.errors import CorpusError, InputError, QAError

if TYPE_CHECKING:
    from qa.embedders import SentenceTransformerEmbedder
    from qa.settings import SearchSettings

F = TypeVar("F", bound=Callable[..., Any])
#: qa.questions.SPLITS, spelled out so that ``qa --help`` need not import numpy.
SPLITS = ("calibration", "holdout", "test")


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
        except BrokenPipeError:
            # The reader went away (`qa search --batch f | head -1`): stop quietly, as `cat`
            # does, and keep Python from complaining again when it flushes stdout at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
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
@click.option(
    "--model",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    envvar="QA_MODEL",
    help="A model made by `qa adapt`, instead of the bundled one, with the abstention "
         "calibrated for it (give it an --index of its own).",
)
def main(model: Path | None) -> None:
    """Cited-passage question answering over a folder of documents."""


def command_embedder() -> SentenceTransformerEmbedder:
    """The embedder a command runs with: the bundled model, or the one ``qa --model`` names."""
    from qa.adapt import model_embedder

    return model_embedder(_command_model())


def command_settings(corpus_dir: Path) -> SearchSettings:
    """The search settings a command runs with: the corpus's, with the abstention calibrated
    for the model ``qa --model`` names, if ``qa adapt`` calibrated it."""
    from qa.adapt import served_search_settings

    return served_search_settings(corpus_dir, _command_model())


def _command_model() -> Path | None:
    context = click.get_current_context(silent=True)
    return context.find_root().params.get("model") if context else None


@main.command()
@corpus_option
@index_option
@translate_errors
def build(corpus_dir: Path, index_dir: Path) -> None:
    """Read, split, embed and index the corpus (atomically replacing any previous index)."""
    from qa.api import corpus_settings_for
    from qa.index import build_index

    if not corpus_dir.is_dir():  # before the model takes seconds to load
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    corpus_settings = corpus_settings_for(corpus_dir)  # refuse a bad titles file before loading
    embedder = command_embedder()
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
    type=click.File("rb"),
    help='JSONL file of {"id", "question", "history"} lines, UTF-8 ("-" for stdin).',
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
    """Show the passages that answer QUESTION, or say the corpus does not cover it.

    Crisis language is flagged ("crisis": true in JSON; the crisis resources first in text),
    as the chat shows them; the passages are still given, for evaluation scripts.
    """
    from qa.api import open_searcher
    from qa.render import answer_json, answer_text
    from qa.safety import CRISIS_MESSAGE_TEXT, detect_crisis
    from qa.search import clean_question
    from qa.settings import SearchSettings

    if (question is None) == (batch is None):
        raise click.UsageError("give either a QUESTION or --batch FILE")
    if batch is not None and history:
        raise click.UsageError('--history is for one QUESTION; batch lines carry "history"')
    if question is not None:  # refuse an empty question before loading the model or building
        searched = clean_question(question, SearchSettings().max_query_chars)
        if len(searched) < len(" ".join(question.split())):
            _say(f"Note: only the first {len(searched):,} characters of the question are searched")
    searcher = open_searcher(
        corpus_dir, index_dir, embedder=command_embedder(),
        search_settings=command_settings(corpus_dir), progress=True, say=_say
    )

    def crisis(text: str, earlier: Sequence[str]) -> bool:
        return any(detect_crisis(t) is not None for t in (text, *earlier))

    if batch is None:
        assert question is not None
        answer = searcher.search(question, history=history, k=k, mode=mode)  # type: ignore[arg-type]
        flagged = crisis(question, history)
        if as_json:
            click.echo(json.dumps({**answer_json(answer), "crisis": flagged}, ensure_ascii=False))
        else:
            if flagged:
                click.echo(CRISIS_MESSAGE_TEXT)
            click.echo(answer_text(answer), nl=False)
        return
    failures = 0
    for item in _batch_items(batch):
        if "error" not in item:
            try:
                answer = searcher.search(
                    item["question"], history=item["history"], k=k, mode=mode  # type: ignore[arg-type]
                )
            except InputError as exc:
                item = {"id": item["id"], "line": item["line"], "error": str(exc)}
            else:
                flagged = crisis(item["question"], item["history"])
                item = {"id": item["id"], **answer_json(answer), "crisis": flagged}
        failures += "error" in item
        click.echo(json.dumps(item, ensure_ascii=False))
    if failures:
        _say(f'{failures} line(s) could not be answered; see their "error" fields')
        sys.exit(2)


@main.command()
@click.option("--questions", "questions_files", required=True, multiple=True,
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Question set (JSONL, as for `qa eval --questions`); repeat for several.")
@click.option("--split", "splits", default=("calibration",), show_default=True, multiple=True,
              type=click.Choice(SPLITS),
              help="A split whose questions the model learns from; repeat for several.")
@click.option("--examples/--no-examples", default=True, show_default=True,
              help="Also learn from the corpus's example questions (.qa-examples.jsonl).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder to save the adapted model in.")
@click.option("--epochs", type=click.IntRange(1, 100), default=4, show_default=True)
@click.option("--learning-rate", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=2e-5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--folds", type=click.IntRange(0, 20), default=4, show_default=True,
              help="Models trained without one part of the split each, to calibrate abstention "
                   "on questions they never saw (0: keep the corpus's calibration).")
@corpus_option
@index_option
@translate_errors
def adapt(questions_files: tuple[Path, ...], splits: tuple[str, ...], examples: bool,
          out_dir: Path, epochs: int, learning_rate: float, seed: int, folds: int,
          corpus_dir: Path, index_dir: Path) -> None:
    """Fine-tune the bundled model on labelled questions about this corpus (and its example
    questions).

    `make model` trains the model `make run` serves this way (README, "The adapted model"): it
    ranks better on questions it never saw. With --folds, the abstention threshold, and whether
    a question that names no subject is read as about the corpus's, are calibrated out of fold
    and served with the model. Use it with `qa --model OUT ... --index OTHER_DIR`."""
    from qa.adapt import AdaptSettings, adapt_model
    from qa.api import open_searcher
    from qa.embedders import default_embedder
    from qa.questions import load_questions

    if _command_model() is not None:
        raise click.UsageError("qa adapt always starts from the bundled model: leave out "
                               "qa --model (and QA_MODEL)")
    # refuse a bad file before loading the model
    questions = [q for path in questions_files for q in load_questions(path)]
    settings = AdaptSettings(epochs=epochs, learning_rate=learning_rate, seed=seed, folds=folds,
                             corpus_examples=examples)
    searcher = open_searcher(
        corpus_dir, index_dir, embedder=default_embedder(), progress=True, say=_say
    )
    about = adapt_model(searcher, questions, out_dir, split=splits, settings=settings,
                        source=" ".join(map(str, questions_files)), progress=True)
    click.echo(
        f"Adapted the model on {about['examples']} queries and {about['off_topic']} off-topic "
        f"questions of the {' and '.join(about['split'])} split"
        f"{', with the corpus example questions,' if examples else ''} in "
        f"{about['seconds']:.0f} s into {out_dir}; use it with qa --model {out_dir} ... "
        f"--index <a folder of its own>"
    )
    calibration = about["calibration"]
    if calibration:
        held = calibration["out_of_fold"]
        reading = "read" if calibration["read_as_subject"] else "not read"
        click.echo(
            f"Calibrated out of {calibration['folds']} folds: threshold "
            f"{calibration['abstain_threshold']:.2f}, questions naming no subject {reading} as "
            f"about the corpus's; on questions each fold's model never saw: hit@1 "
            f"{held['hit@1']:.3f}, hit@3 {held['hit@3']:.3f} ({held['answerable']} answerable), "
            f"off-topic abstained {held['off_topic_abstained']:.2f} ({held['off_topic']}), "
            f"answerable wrongly abstained {held['false_abstention']:.3f}"
        )
    elif folds:
        _say("Not calibrated: the split needs answerable and off-topic questions for it; the "
             "corpus's threshold is kept")


def _batch_items(handle: Any) -> Iterator[dict[str, Any]]:
    """Parsed batch lines; a bad line yields an error record (with its line number), not a crash.

    Lines are decoded one by one (a UTF-8 byte-order mark is allowed), so a line that is not
    UTF-8 costs that line only."""

    def bad(number: int, message: str, row: Any = None) -> dict[str, Any]:
        found = row.get("id") if isinstance(row, dict) else None
        return {"id": found, "line": number, "error": f"line {number}: {message}"}

    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            yield bad(number, f"not valid UTF-8 (byte {exc.start + 1})")
            continue
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield bad(number, f"not JSON: {exc.msg}")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("question"), str):
            yield bad(number, 'no "question" string', row)
            continue
        history = row.get("history")
        history = [] if history is None else history
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            yield bad(number, '"history" must be a list of strings', row)
            continue
        yield {"id": row.get("id", number), "line": number, "question": row["question"],
               "history": history}


import qa.eval_cli  # noqa: E402, F401  (adds `qa eval` to `main`; it imports this module)
from qa import staff_cli  # noqa: E402, F401  (adds `qa staff` to `main`; it imports this module)

if __name__ == "__main__":  # pragma: no cover
    main()
