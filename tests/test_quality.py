"""Retrieval quality on the labelled question set, with the real model: a regression fails CI.

The floors sit a few points under the figures measured with the engine as shipped (second stage
on with idf-weighted MaxSim and the weights learned from the calibration split, the corpus's
settings; evidence as pooled-judged, see tests/data/README.md):

    split        n   hit@1  hit@3  hit@5
    all        158   0.747  0.918  0.949   off-topic abstained 1.0, false abstention 0
    holdout     38   0.842  0.921  0.974
    test        64   0.656  0.891  0.922   (written blind, never tuned on)
    follow-ups  60   0.683  0.867  0.917

(with the fixed second stage, z(fused) + z(MaxSim) unweighted: all 0.696 0.861 0.918, holdout
0.763 0.868, test 0.578 0.812), so losing two or three answers fails. They are below the issue's
targets (hit@1 0.85, hit@3 0.95): see the closing note of issue 2 for why and what would close
the gap.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.api import open_searcher
from qa.learn import fit_weights
from qa.questions import evaluate_questions, load_questions

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def searcher(real_embedder, tmp_path_factory):  # type: ignore[no-untyped-def]
    return open_searcher(
        ROOT / "corpus", tmp_path_factory.mktemp("quality") / "index", embedder=real_embedder
    )


@pytest.fixture(scope="module")
def report(searcher):  # type: ignore[no-untyped-def]
    return evaluate_questions(searcher, load_questions(ROOT / "tests/data/questions.jsonl"))


def test_answerable_questions_find_their_passage(report) -> None:  # type: ignore[no-untyped-def]
    everything = report["summary"]["all"]
    assert everything["answerable"] >= 150
    assert everything["hit@1"] >= 0.72
    assert everything["hit@3"] >= 0.89
    assert everything["hit@5"] >= 0.92


def test_followups_are_answered_about_what_they_ask(report) -> None:  # type: ignore[no-untyped-def]
    # Half of them ask about a topic of their own ("how is it given?" after an addiction
    # question); searched as the resolved question alone they scored hit@1 0.38.
    followups = report["summary"]["follow-ups"]
    assert followups["answerable"] >= 50
    assert followups["hit@1"] >= 0.63
    assert followups["hit@3"] >= 0.82


def test_splits_kept_out_of_tuning_hold_their_floor(report) -> None:  # type: ignore[no-untyped-def]
    holdout = report["summary"]["holdout"]
    assert holdout["hit@1"] >= 0.79
    assert holdout["hit@3"] >= 0.87
    test = report["summary"]["test"]
    assert test["answerable"] >= 60
    assert test["hit@1"] >= 0.61
    assert test["hit@3"] >= 0.84


def test_the_highlight_lands_on_the_evidence(report) -> None:  # type: ignore[no-untyped-def]
    # Measured 0.79 of 271 relevant passages shown by token credit weighted by rarity (0.75
    # unweighted over the same answers). On the 190 shown before the follow-ups were added:
    # 0.74 unweighted, against 0.66 with the leave-one-out rule and 0.63 with cosine alone.
    marked = report["highlight"]
    assert marked["judged"] >= 150
    assert marked["on_evidence"] >= 0.75


def test_off_topic_questions_are_abstained_on(report) -> None:  # type: ignore[no-untyped-def]
    for split in ("all", "holdout", "test"):
        summary = report["summary"][split]
        assert summary["off_topic"] >= 5
        assert summary["off_topic_abstained"] >= 0.90
        assert summary["false_abstention"] <= 0.05


def test_the_calibrated_threshold_is_the_default(report) -> None:  # type: ignore[no-untyped-def]
    # The threshold the engine ships with is one the calibration split rates as good as the
    # best: it abstains on as many off-topic questions, and wrongly on as few answerable ones. If
    # the model, passages or question set change, recalibrate (qa eval --questions ... --sweep).
    # The split leaves a wide gap (no off-topic question above 0.21, no answerable one below
    # 0.55) whose middle is about 0.38; 0.27 is kept at the low end, because a wrong abstention
    # hides an answer the articles hold (README, Quality).
    recommended = report["sweep"]["recommended"]
    assert recommended is not None
    low, high = recommended["equally_good"]
    assert low <= report["settings"]["abstain_threshold"] <= high


def test_the_shipped_weights_are_what_the_calibration_split_teaches(searcher) -> None:  # type: ignore[no-untyped-def]
    # corpus/.qa-search.json holds the second stage's weights learned by `qa eval fit` from the
    # calibration split alone; relearning gives them back (a changed model, passage cut or
    # question set shows here first: relearn with `qa eval fit ... --write`).
    fitted = fit_weights(searcher, load_questions(ROOT / "tests/data/questions.jsonl"))
    shipped = searcher.settings.reranker_weights()
    assert set(shipped) == set(fitted.weights)
    for name, weight in fitted.weights.items():
        assert shipped[name] == pytest.approx(weight, abs=0.02), name
