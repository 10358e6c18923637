"""What staff take away from the lab: labels as regression-test files, and the questions the
corpus did not answer, grouped by meaning with counts (the articles to write next).

Pure functions over store rows (:meth:`qa.store.Store.labels`, :meth:`~qa.store.Store.unanswered`),
plus one embedder call for the grouping; ``staff.py`` and ``qa staff`` turn them into tables and
downloads.
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
from qa.records import stable_id
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


def query_id(question: str, history: Sequence[str] = ()) -> str:
    """The stable id of a labelled question, shared by the question set and the qrels."""
    return stable_id("question", question, json.dumps(list(history), ensure_ascii=False))


def latest_labels(labels: Sequence[LabelRow]) -> list[LabelRow]:
    """One label per (question, history, passage): the latest, whatever index it was made on
    (``labels`` oldest first, as :meth:`qa.store.Store.labels` gives them)."""
    latest: dict[tuple[str, tuple[str, ...], str], LabelRow] = {}
    for label in labels:  # later ones win
        latest[(label.question, label.history, label.passage_id)] = label
    return list(latest.values())


def question_set(labels: Sequence[LabelRow]) -> list[dict[str, object]]:
    """The labelled questions in the ``qa eval --questions`` format (latest label wins).

    One ``{"id", "question", "history", "evidence"}`` per question with at least one passage
    labelled relevant; ``evidence`` holds those passages' texts. A question whose labels are
    all "not relevant" is left out: staff judged only the passages shown, so it does not prove
    the corpus cannot answer it (its zeros still appear in :func:`qrels`).
    """
    first: dict[str, LabelRow] = {}
    evidence: dict[str, list[str]] = {}
    for label in latest_labels(labels):
        if not label.relevant:
            continue
        qid = query_id(label.question, label.history)
        first.setdefault(qid, label)
        texts = evidence.setdefault(qid, [])
        if label.passage_text not in texts:
            texts.append(label.passage_text)
    return [
        {
            "id": qid,
            "question": label.question,
            "history": list(label.history),
            "evidence": evidence[qid],
        }
        for qid, label in first.items()
    ]


def qrels(labels: Sequence[LabelRow]) -> list[tuple[str, str, int]]:
    """``(query_id, passage_id, relevance)`` for every labelled pair (latest label wins)."""
    return sorted(
        (query_id(label.question, label.history), label.passage_id, int(label.relevant))
        for label in latest_labels(labels)
    )


def question_set_jsonl(items: Sequence[dict[str, object]]) -> str:
    """:func:`question_set` as the text of a ``qa eval --questions`` file."""
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)


def qrels_tsv(rows: Sequence[tuple[str, str, int]]) -> str:
    """:func:`qrels` as BEIR qrels: a header, then query id, passage id, grade."""
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
    "partly covered",
    "question",
    "other wordings",
    "never mentioned",
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
    partly_covered: int = 0  # answered, with a caution naming words the articles never mention
    missing_words: tuple[str, ...] = ()  # those words, the most often named first

    def cells(self) -> list[Any]:
        others = [w for w in self.wordings if w != self.question]
        return [
            self.count,
            self.newest,
            self.oldest,
            self.abstained,
            self.thumbs_down,
            self.partly_covered,
            self.question,
            " | ".join(others),
            ", ".join(self.missing_words),
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
                partly_covered=sum(r.reason == "partly_covered" for r in items),
                missing_words=tuple(word for word, _ in missing_word_counts(items)),
            )
        )
    groups.sort(key=lambda g: g.count, reverse=True)
    groups.sort(key=lambda g: g.newest, reverse=True)  # stable: ties keep the larger first
    return groups


def missing_word_counts(rows: Sequence[UnansweredRow]) -> list[tuple[str, int]]:
    """The words answers' cautions named ("pregnant"), case folded, with how many logged
    questions named each: most first, then alphabetical. What visitors ask about that no
    article mentions."""
    counts: dict[str, int] = {}
    for row in rows:
        for word in dict.fromkeys(w.casefold() for w in row.missing_words):
            counts[word] = counts.get(word, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def groups_csv(groups: Sequence[UnansweredGroup]) -> str:
    """The grouped questions as CSV with a header, safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(GROUP_HEADERS)
    for group in groups:
        writer.writerow([_defuse(c) if isinstance(c, str) else c for c in group.cells()])
    return out.getvalue()


def unanswered_csv(rows: Sequence[UnansweredRow]) -> str:
    """The unanswered log as CSV text with a header, safe to open in a spreadsheet.

    Questions are visitor text: a cell starting with ``= + - @`` (or a tab or carriage return)
    gets a leading apostrophe so a spreadsheet shows it instead of running it as a formula.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "created_at", "reason", "question", "index_version", "missing_words"])
    for row in rows:
        writer.writerow(
            [
                row.id,
                row.created_at,
                row.reason,
                _defuse(row.question),
                row.index_version,
                _defuse(" ".join(row.missing_words)),
            ]
        )
    return out.getvalue()


def _defuse(cell: str) -> str:
    """Neutralise spreadsheet formula injection (OWASP "CSV injection")."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
