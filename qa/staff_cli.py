"""``qa staff ...``: the staff exports from the command line (labels, questions not covered).

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

from qa.cli import command_embedder, main, translate_errors

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


main.add_command(staff)
