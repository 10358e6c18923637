"""What staff take away from the lab: labels as regression-test files, and the questions the
corpus did not answer, grouped by meaning with counts (the articles to write next).

Pure functions over store rows, plus one embedder call for the grouping; ``staff.py`` and
``qa staff`` turn them into tables and downloads.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qa.embedders import Embedder
from qa.grouping import group_similar
from qa.lab import preview
from qa.store_schema import LabelRow, UnansweredRow

# --- labels as regression tests --------------------------------------------------------------

LABEL_HEADERS = (
    "created",
    "question",
    "history",
    "passage id",
    "relevant",
    "index version",
    "passage",
)


def label_cells(labels: Sequence[LabelRow], width: int = 200) -> list[list[Any]]:
    """The label table, newest first."""
    return [
        [
            lab.created_at,
            lab.question,
            " / ".join(lab.history),
            lab.passage_id,
            lab.relevant,
            lab.index_version,
            preview(lab.passage_text, width),
        ]
        for lab in sorted(labels, key=lambda x: (x.created_at, x.id), reverse=True)
    ]


def question_set_jsonl(items: Sequence[dict[str, object]]) -> str:
    """:meth:`Store.export_question_set` as the text of a ``qa eval --questions`` file."""
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)


def qrels_tsv(rows: Sequence[tuple[str, str, int]]) -> str:
    """:meth:`Store.export_qrels` as BEIR qrels: a header, then query id, passage id, grade."""
    lines = ["query-id\tcorpus-id\tscore"]
    lines += [f"{qid}\t{pid}\t{grade}" for qid, pid, grade in rows]
    return "\n".join(lines) + "\n"


# --- what visitors asked that the corpus does not cover --------------------------------------

GROUP_HEADERS = (
    "asked",
    "newest",
    "oldest",
    "abstained",
    "thumbs down",
    "question",
    "other wordings",
    "index versions",
)


@dataclass(frozen=True)
class UnansweredGroup:
    """Questions that mean the same thing: an article to write, with how often it was asked."""

    question: str  # the earliest wording, which leads the group
    count: int
    newest: str
    oldest: str
    abstained: int
    thumbs_down: int
    wordings: tuple[str, ...]  # every distinct wording, newest first
    index_versions: tuple[str, ...]

    def cells(self) -> list[Any]:
        others = [w for w in self.wordings if w != self.question]
        return [
            self.count,
            self.newest,
            self.oldest,
            self.abstained,
            self.thumbs_down,
            self.question,
            " | ".join(others),
            " ".join(self.index_versions),
        ]


def group_unanswered(
    rows: Sequence[UnansweredRow], embedder: Embedder, threshold: float = 0.75
) -> list[UnansweredGroup]:
    """Group logged questions by meaning; groups newest first (then the most asked first).

    Identical wordings (after case and spacing are folded) are embedded once. Grouping runs
    oldest first, so a group's leader is the earliest wording and stays the same as new
    questions arrive.
    """
    oldest_first = sorted(rows, key=lambda r: (r.created_at, r.id))
    keys = [" ".join(r.question.split()).casefold() for r in oldest_first]
    unique = list(dict.fromkeys(keys))
    if not unique:
        return []
    vectors = embedder.encode(unique, "query")
    members: dict[str, list[UnansweredRow]] = {}
    for key, row in zip(keys, oldest_first, strict=True):
        members.setdefault(key, []).append(row)
    groups = []
    for group in group_similar(unique, vectors, threshold):
        items = sorted(
            (row for i in group for row in members[unique[i]]),
            key=lambda r: (r.created_at, r.id),
        )
        newest_first = items[::-1]
        groups.append(
            UnansweredGroup(
                question=members[unique[group[0]]][0].question,
                count=len(items),
                newest=items[-1].created_at,
                oldest=items[0].created_at,
                abstained=sum(r.reason == "abstained" for r in items),
                thumbs_down=sum(r.reason == "thumbs_down" for r in items),
                wordings=tuple(dict.fromkeys(r.question for r in newest_first)),
                index_versions=tuple(dict.fromkeys(r.index_version for r in newest_first)),
            )
        )
    groups.sort(key=lambda g: g.count, reverse=True)
    groups.sort(key=lambda g: g.newest, reverse=True)  # stable: ties keep the larger first
    return groups


def groups_csv(groups: Sequence[UnansweredGroup]) -> str:
    """The grouped questions as CSV with a header, safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(GROUP_HEADERS)
    for group in groups:
        writer.writerow([_defuse(c) if isinstance(c, str) else c for c in group.cells()])
    return out.getvalue()


def _defuse(cell: str) -> str:
    """Neutralise spreadsheet formula injection, as :meth:`Store.unanswered_csv` does."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
