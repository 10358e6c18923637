"""Floors on a question set's summary (:func:`qa.questions.evaluate_questions`), shared by the
bundled model's and the served model's quality tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from qa.questions import evaluate_questions, load_questions
from qa.search import Searcher

DATA = Path(__file__).resolve().parent / "data"


def shortfalls(
    summary: Mapping[str, Any],
    *,
    counts: tuple[int, int, int],
    hit1: float,
    hit3: float,
    false_abstention: float = 0.05,
    off_topic: float = 0.9,
) -> list[str]:
    """What in ``summary`` falls below its floor (an empty list when nothing does); ``counts``
    are the answerable, off-topic and near-domain questions the set must hold."""
    found = []
    held = (summary["answerable"], summary["off_topic"], summary["near_domain"])
    if held != counts:
        found.append(f"answerable, off-topic, near-domain questions: {held}, not {counts}")
    for name, value, floor in (("hit@1", summary["hit@1"], hit1),
                               ("hit@3", summary["hit@3"], hit3),
                               ("off-topic abstained", summary["off_topic_abstained"], off_topic)):
        if value < floor:
            found.append(f"{name} {value:.3f} under {floor}")
    if summary["false_abstention"] > false_abstention:
        found.append(f"false abstention {summary['false_abstention']:.3f} over {false_abstention}")
    return found


class Floors(NamedTuple):
    """A question set's floors: the answerable, off-topic and near-domain questions it must
    hold, hit@1, hit@3, and the share of off-topic questions abstained on (the target's 0.90
    unless a set was run once under it)."""

    counts: tuple[int, int, int]
    hit1: float
    hit3: float
    off_topic: float = 0.9


def set_shortfalls(
    searcher: Searcher, name: str, floors: Floors, *, split: str = "test"
) -> list[str]:
    """:func:`shortfalls` of a split of ``tests/data/<name>`` (or "all") as ``searcher``
    answers it."""
    report = evaluate_questions(searcher, load_questions(DATA / name))
    return shortfalls(
        report["summary"][split],
        counts=floors.counts,
        hit1=floors.hit1,
        hit3=floors.hit3,
        off_topic=floors.off_topic,
    )
