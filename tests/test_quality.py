"""Retrieval quality on the labelled question set, with the real model: a regression fails CI.

The floors sit a few points under the figures measured with the engine as shipped (second stage
on, the corpus's settings; evidence as pooled-judged, see tests/data/README.md):

    split        n   hit@1  hit@3  hit@5
    all        120   0.725  0.875  0.917   off-topic abstained 1.0, false abstention 0.0
    holdout     32   0.781  0.875  0.969
    test        42   0.548  0.809  0.857   (written blind, never tuned on)

so losing two or three answers fails. They are below the issue's targets (hit@1 0.85, hit@3
0.95): see the closing note of issue 2 for why and what would close the gap.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.api import open_searcher
from qa.questions import evaluate_questions, load_questions

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def report(real_embedder, tmp_path_factory):  # type: ignore[no-untyped-def]
    searcher = open_searcher(
        ROOT / "corpus", tmp_path_factory.mktemp("quality") / "index", embedder=real_embedder
    )
    return evaluate_questions(searcher, load_questions(ROOT / "tests/data/questions.jsonl"))


def test_answerable_questions_find_their_passage(report) -> None:  # type: ignore[no-untyped-def]
    everything = report["summary"]["all"]
    assert everything["answerable"] >= 100
    assert everything["hit@1"] >= 0.68
    assert everything["hit@3"] >= 0.84
    assert everything["hit@5"] >= 0.88


def test_splits_kept_out_of_tuning_hold_their_floor(report) -> None:  # type: ignore[no-untyped-def]
    holdout = report["summary"]["holdout"]
    assert holdout["hit@1"] >= 0.70
    assert holdout["hit@3"] >= 0.81
    test = report["summary"]["test"]
    assert test["answerable"] >= 40
    assert test["hit@1"] >= 0.48
    assert test["hit@3"] >= 0.74


def test_the_highlight_lands_on_the_evidence(report) -> None:  # type: ignore[no-untyped-def]
    # Measured 0.74 of 190 relevant passages shown by token credit (0.66 with the leave-one-out
    # rule, 0.63 with cosine alone, in one harness over the same passages).
    marked = report["highlight"]
    assert marked["judged"] >= 150
    assert marked["on_evidence"] >= 0.70


def test_off_topic_questions_are_abstained_on(report) -> None:  # type: ignore[no-untyped-def]
    for split in ("all", "holdout", "test"):
        summary = report["summary"][split]
        assert summary["off_topic"] >= 5
        assert summary["off_topic_abstained"] >= 0.90
        assert summary["false_abstention"] <= 0.05


def test_the_calibrated_threshold_is_the_default(report) -> None:  # type: ignore[no-untyped-def]
    # The sweep on the calibration split recommends the threshold the engine ships with; if the
    # model, passages or question set change, recalibrate (qa eval --questions ... --sweep).
    recommended = report["sweep"]["recommended"]
    assert recommended is not None
    assert abs(recommended["threshold"] - report["settings"]["abstain_threshold"]) <= 0.05
