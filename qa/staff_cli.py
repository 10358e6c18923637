"""``qa staff ...``: the staff tools from the command line: exports (labels, questions not
covered) and the corpus's example questions.

Importing this module registers the ``staff`` group on :data:`qa.cli.main`; it is imported at the
bottom of :mod:`qa.cli`. Heavy parts (the model for grouping) load inside the commands.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from qa.cli import command_embedder, corpus_option, main, translate_errors

data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=lambda: os.environ.get("QA_DATA", "data"),
    show_default="data/ or $QA_DATA",
    help="Folder of the feedback store (qa.sqlite3).",
)
output_option = click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    show_default="stdout",
    help="Write to this file.",
)


def _store(data_dir: Path) -> Any:
    from qa.store import Store

    path = data_dir / "qa.sqlite3"
    if not path.is_file():
        raise click.ClickException(f"no feedback store at {path}")
    return Store(path)


@click.group()
def staff() -> None:
    """Staff exports: labels as regression tests, questions the corpus does not cover."""


@staff.command("export-labels")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["questions", "qrels"]),
    default="questions",
    show_default=True,
    help="questions: a `qa eval --questions` file; qrels: BEIR qrels (TSV).",
)
@click.option("--index-version", help="Only labels made on this index version.")
@data_option
@output_option
@translate_errors
def export_labels(fmt: str, index_version: str | None, data_dir: Path, output: Any) -> None:
    """Export staff relevance labels (the latest label of each question and passage wins)."""
    from qa.staff_reports import qrels, qrels_tsv, question_set, question_set_jsonl

    with _store(data_dir) as store:
        labels = store.labels(index_version=index_version)
    if fmt == "questions":
        output.write(question_set_jsonl(question_set(labels)))
    else:
        output.write(qrels_tsv(qrels(labels)))


@staff.command("unanswered")
@click.option("--csv", "as_csv", is_flag=True, help="CSV (safe for spreadsheets), not JSON lines.")
@click.option("--raw", is_flag=True, help="Every logged question, not grouped (no model needed).")
@click.option("--since", help="Only questions logged at or after this ISO 8601 time (UTC).")
@click.option("--limit", type=click.IntRange(1), default=1000, show_default=True)
@click.option(
    "--threshold",
    type=click.FloatRange(-1, 1),
    default=0.75,
    show_default=True,
    help="Group questions whose cosine is at least this.",
)
@data_option
@output_option
@translate_errors
def unanswered(
    as_csv: bool,
    raw: bool,
    since: str | None,
    limit: int,
    threshold: float,
    data_dir: Path,
    output: Any,
) -> None:
    """What visitors asked that the corpus does not cover: abstentions and thumbs-down answers,
    grouped by meaning with counts, newest group first."""
    with _store(data_dir) as store:
        rows = store.unanswered(since=since, limit=limit)
        if raw:
            if as_csv:
                from qa.staff_reports import unanswered_csv

                output.write(unanswered_csv(rows))
            else:
                for row in rows:
                    output.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
            return
    from qa.staff_reports import group_unanswered, groups_csv

    groups = group_unanswered(rows, command_embedder(), threshold)
    if as_csv:
        output.write(groups_csv(groups))
    else:
        for group in groups:
            output.write(json.dumps(asdict(group), ensure_ascii=False) + "\n")


@staff.command("examples")
@corpus_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per example.")
@output_option
@translate_errors
def examples(corpus_dir: Path, as_json: bool, output: Any) -> None:
    """List the corpus's example questions and the passages each is placed on (as a build
    would place them now); the ones placed nowhere are named on stderr."""
    from qa.api import corpus_passages
    from qa.examples import EXAMPLES_FILE, place, read_examples
    from qa.questions import fold

    passages = corpus_passages(corpus_dir)
    folded = [fold(p.text) for p in passages]
    asked = read_examples(corpus_dir)
    unplaced, covered = [], set()
    for example in asked:
        rows = place(example.evidence, folded)
        covered.update(rows)
        if not rows:
            unplaced.append(example.line)
        placed = [{"passage_id": passages[r].passage_id, "title": passages[r].title,
                   "section": passages[r].section} for r in rows]
        if as_json:
            row = {"line": example.line, "question": example.question,
                   "evidence": example.evidence, "passages": placed}
            output.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            where = "; ".join(f"{p['passage_id']} {p['title']} — {p['section']}".rstrip(" —")
                              for p in placed) or "NOT PLACED"
            output.write(f"{example.line:>5}  {example.question}\n       -> {where}\n")
    click.echo(
        f"{len(asked)} example questions in {Path(corpus_dir) / EXAMPLES_FILE}, on "
        f"{len(covered)} of {len(passages)} passages",
        err=True,
    )
    if unplaced:
        lines = ", ".join(str(n) for n in unplaced)
        click.echo(f"Placed on no passage (their phrase is in none): lines {lines}", err=True)


@staff.command("add-example")
@click.argument("question")
@click.option("--passage", "passage_id", help="The passage that answers it (its id).")
@click.option("--evidence",
              help="A phrase copied from the passage's text (default with --passage: one that "
                   "no other passage holds).")
@corpus_option
@translate_errors
def add_example(
    question: str, passage_id: str | None, evidence: str | None, corpus_dir: Path
) -> None:
    """Add QUESTION to the corpus's example questions: how visitors ask for a passage. The
    index is rebuilt with it by the next `qa search` or `qa build` (the app picks it up too)."""
    from qa.api import corpus_passages
    from qa.errors import InputError
    from qa.examples import EXAMPLES_FILE, add_example, suggest_for

    if evidence is None and passage_id is None:  # before the documents are read and split
        raise InputError("say which passage answers: --passage ID or --evidence PHRASE")
    passages = corpus_passages(corpus_dir)
    if evidence is None:
        assert passage_id is not None  # for mypy: checked above
        try:
            evidence = suggest_for(passage_id, passages)
        except InputError as error:
            raise InputError(f"{error} in {corpus_dir} (`qa staff examples` and "
                             "`qa search --json` show passage ids)") from error
    example, rows, added = add_example(
        corpus_dir, question, evidence, passages, passage_id=passage_id, by="qa staff add-example"
    )
    where = "; ".join(f"{passages[r].passage_id} ({passages[r].title} — {passages[r].section})"
                      for r in rows)
    verb = "Added" if added else "Already there:"
    click.echo(f"{verb} line {example.line} of {Path(corpus_dir) / EXAMPLES_FILE}: "
               f"{example.question!r}, evidence {example.evidence!r}, on {where}")


main.add_command(staff)
