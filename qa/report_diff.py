"""Two question-set reports compared question by question: what got better, what got worse.

``qa eval --questions ... --compare before.json`` and ``qa eval diff before.json after.json``
print it; ``--fail-on-worse`` turns a regression into an exit code for CI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qa.errors import InputError


def _outcome(row: Mapping[str, Any]) -> tuple[int, str]:
    """A comparable grade of one question's result (higher is better) and a short label."""
    if not row["answerable"]:
        return (1, "abstained") if row["abstained"] else (0, "answered")
    if row["abstained"]:
        return 0, "abstained"
    rank = row["first_relevant_rank"]
    if rank is None:
        return 1, "miss"
    return 100 - rank, f"rank {rank}"


def diff_reports(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Question by question, what got better and what got worse between two reports."""
    try:
        before = {row["id"]: row for row in old["per_question"]}
        after = {row["id"]: row for row in new["per_question"]}
    except (KeyError, TypeError) as exc:
        raise InputError("not a question-set report (no per_question list)") from exc
    better, worse = [], []
    unchanged = 0
    for qid in before.keys() & after.keys():
        (old_grade, old_label), (new_grade, new_label) = _outcome(before[qid]), _outcome(after[qid])
        change = {"id": qid, "question": after[qid]["question"], "before": old_label,
                  "after": new_label}
        if new_grade > old_grade:
            better.append(change)
        elif new_grade < old_grade:
            worse.append(change)
        else:
            unchanged += 1
    key = lambda c: str(c["id"])  # noqa: E731
    return {
        "before": {"index_version": old.get("index_version"), "settings": old.get("settings")},
        "after": {"index_version": new.get("index_version"), "settings": new.get("settings")},
        "better": sorted(better, key=key),
        "worse": sorted(worse, key=key),
        "unchanged": unchanged,
        "only_before": sorted(before.keys() - after.keys()),
        "only_after": sorted(after.keys() - before.keys()),
        "summary_before": old.get("summary", {}).get("all"),
        "summary_after": new.get("summary", {}).get("all"),
    }
