"""Retrieval quality on the labelled question set, with the real model: a regression fails CI.

The floors sit a few points under the figures measured with the engine as shipped (second stage
on with idf-weighted MaxSim, the corpus's example questions, and the weights learned from the
calibration split, the corpus's settings; evidence as pooled-judged, see tests/data/README.md):

    split        n   hit@1  hit@3  hit@5
    all        196   0.857  0.954  0.969   off-topic abstained 1.0, false abstention 0.010
    holdout     51   0.922  0.980  1.000
    test        77   0.753  0.922  0.935   (written blind, never tuned on)
    follow-ups  60   0.800  0.933  0.950

Without the example questions (corpus/.qa-examples.jsonl, eleventh session) the engine gave
all 0.750 0.898, holdout 0.843 0.902, test 0.662 0.870, follow-ups 0.683 0.867.

The eighth session added questions that name no subject ("how is it given", "thanks!"): 12
answerable and 12 off-topic ones in calibration, written after the browser session found two
wrongly abstained, and 26 answerable and 16 off-topic ones in holdout and test, written blind
by a helper who saw only the corpus. On the 213 questions before them the engine gives all
0.741 0.911, holdout 0.842 0.895, test 0.641 0.891 (the seventh session's: 0.747 0.918,
0.842 0.921, 0.656 0.891; with the fixed second stage, z(fused) + z(MaxSim) unweighted: all
0.696 0.861, holdout 0.763 0.868, test 0.578 0.812), so losing two or three answers fails.
Holdout now meets the issue's targets (hit@1 0.85, hit@3 0.95); the blind test split does not:
see the closing notes of issue 2.

tests/data/fresh.jsonl (twelfth session) was written blind after the test split had been looked
at for several choices, and run once on the frozen engine: answerable 60, hit@1 0.883, hit@3
0.933, false abstention 0.050, off-topic abstained 0.80 (0.90 since the contraction fix it
prompted), near-domain 0.10.

tests/data/fresh2.jsonl (thirteenth session), written blind before that session's fixes and run
once on the frozen engine: hit@1 0.750, hit@3 0.883 by the writer's phrases, 0.783 and 0.917
with the pooled ones; false abstention 0.033; off-topic abstained 1.00, near-domain 0.10.
Both sets are training data of the adapted model since the fourteenth session (split
"calibration"); the bundled model tested here never learned from them.

tests/data/fresh3.jsonl (fourteenth session), written blind and run once on the frozen engine:
hit@1 0.900, hit@3 0.950 with this model (the adapted one: tests/test_quality_adapted.py);
tests/data/fresh4.jsonl (fifteenth session), the same way: 0.833, 0.900; tests/data/fresh5.jsonl
(sixteenth session): 0.817, 0.900; tests/data/fresh6.jsonl (seventeenth session): 0.900, 0.967;
tests/data/fresh7.jsonl (the same, after that session's last change): 0.850, 0.950.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from quality_support import Floors, set_shortfalls

from qa.api import open_searcher
from qa.learn import fit_weights
from qa.questions import evaluate_questions, load_questions
from qa.search import Searcher

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
    assert everything["answerable"] >= 190
    assert everything["hit@1"] >= 0.83
    assert everything["hit@3"] >= 0.93
    assert everything["hit@5"] >= 0.94


def test_followups_are_answered_about_what_they_ask(report) -> None:  # type: ignore[no-untyped-def]
    # Half of them ask about a topic of their own ("how is it given?" after an addiction
    # question); searched as the resolved question alone they scored hit@1 0.38.
    followups = report["summary"]["follow-ups"]
    assert followups["answerable"] >= 50
    assert followups["hit@1"] >= 0.75
    assert followups["hit@3"] >= 0.88


def test_splits_kept_out_of_tuning_hold_their_floor(report) -> None:  # type: ignore[no-untyped-def]
    holdout = report["summary"]["holdout"]
    assert holdout["hit@1"] >= 0.88
    assert holdout["hit@3"] >= 0.94
    test = report["summary"]["test"]
    assert test["answerable"] >= 70
    assert test["hit@1"] >= 0.71
    assert test["hit@3"] >= 0.88


def test_the_highlight_lands_on_the_evidence(report) -> None:  # type: ignore[no-untyped-def]
    # Measured 0.78 of 343 relevant passages shown by token credit weighted by rarity, stop
    # words given no say (ninth session; 0.78 with them, 15 passages better, 14 worse), (0.79
    # of 271 before the eighth session's questions, 0.75 there unweighted). On the 190 shown
    # before the follow-ups were added: 0.74 unweighted, against 0.66 with the leave-one-out
    # rule and 0.63 with cosine alone.
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


def test_questions_naming_no_subject_are_answered_and_off_topic_ones_are_not(
    searcher, report,  # type: ignore[no-untyped-def]
) -> None:
    # "how is it given" is 0.18 from its best passage on its own words, as low as off-topic
    # questions ("wat time does the pharmacy close" 0.21); read as a question about ketamine,
    # the corpus's subject (the word its titles share), it is answered.
    assert searcher.subject() == "ketamine"
    rows = {row["id"]: row for row in report["per_question"]}
    for qid in ("a104", "s121"):  # "how is it given", "can you get hooked on it? ..."
        assert rows[qid]["first_relevant_rank"] is not None
        assert rows[qid]["first_relevant_rank"] <= 3
    assert rows["a104"]["read_as_subject"] == "ketamine"
    # s121 comes within 0.81 of the example question "can you get hooked on it": since
    # example_match 0.8 (fourteenth session) that clears its passage before any reading
    assert rows["s121"]["read_as_subject"] is None
    plain = replace(searcher.settings, read_as_subject=False)
    alone = Searcher(searcher.index, searcher.embedder, plain).search("how is it given")
    assert alone.abstained  # what answers it is the reading
    subjectless_off_topic = [
        row for row in report["per_question"]
        if row["kind"] == "off_topic" and "ketamine" not in row["question"]
    ]
    assert len(subjectless_off_topic) >= 40
    read = [row["id"] for row in subjectless_off_topic if row["read_as_subject"]]
    # measured: none of 52 ("who am i talking to, is this a real person" was read so until chat
    # about the chat became small talk)
    assert len(read) <= 1, read


@pytest.fixture(scope="module")
def fresh(searcher):  # type: ignore[no-untyped-def]
    return evaluate_questions(searcher, load_questions(ROOT / "tests/data/fresh.jsonl"))


def test_the_fresh_blind_set_holds_its_floor(fresh) -> None:  # type: ignore[no-untyped-def]
    blind = fresh["summary"]["all"]  # split "calibration" since the adapted model learns from it
    assert blind["answerable"] == 60
    assert blind["hit@1"] >= 0.83
    assert blind["hit@3"] >= 0.90
    assert blind["false_abstention"] <= 0.07
    # 9 of 10: "ok thanks. what's the weather ..." after a question abstains since the fix.
    assert blind["off_topic_abstained"] >= 0.9


@pytest.fixture(scope="module")
def fresh2(searcher):  # type: ignore[no-untyped-def]
    return evaluate_questions(searcher, load_questions(ROOT / "tests/data/fresh2.jsonl"))


def test_the_second_fresh_blind_set_holds_its_floor(fresh2) -> None:  # type: ignore[no-untyped-def]
    blind = fresh2["summary"]["all"]  # split "calibration" since the adapted model learns from it
    assert (blind["answerable"], blind["off_topic"], blind["near_domain"]) == (60, 10, 10)
    # measured with the pooled phrases: 0.783, 0.917 (47 and 55 of 60); 0.800, 0.933 since
    # example_match 0.8 (fourteenth session, "is one infusion enough"); two answers may go
    assert blind["hit@1"] >= 0.75
    assert blind["hit@3"] >= 0.88
    assert blind["false_abstention"] <= 0.05  # 2 of 60
    assert blind["off_topic_abstained"] >= 0.9  # 10 of 10


#: Sets written blind and run once on the frozen engine, from the fourteenth session on:
#: their floors (an off-topic floor under the target's 0.90 where a set was run once under it).
RUN_ONCE = {
    # run once: 0.900 and 0.950 (54 and 57 of 60), 0.917 and 0.967 with the pooled phrases the
    # file holds; one answerable question abstained on
    "fresh3.jsonl": Floors((60, 10, 10), 0.85, 0.92),
    # run once (fifteenth session): 0.833 and 0.900 (50 and 54 of 60), two answerable
    # questions abstained on
    "fresh4.jsonl": Floors((60, 15, 10), 0.78, 0.85),
    # run once (sixteenth session): 0.817 and 0.900 (49 and 54 of 60), one answerable question
    # abstained on
    "fresh5.jsonl": Floors((60, 15, 10), 0.77, 0.85),
    # run once (seventeenth session): 0.900 and 0.967 (54 and 58 of 60), two answerable
    # questions abstained on, one off-topic follow-up answered
    "fresh6.jsonl": Floors((60, 15, 10), 0.85, 0.92),
    # run once (seventeenth session, after the rule for continuations that stray): 0.850 and
    # 0.950 (51 and 57 of 60), one answerable question abstained on, 13 of 15 off-topic
    "fresh7.jsonl": Floors((60, 15, 10), 0.80, 0.90, off_topic=0.80),
}


@pytest.mark.parametrize("name", RUN_ONCE)
def test_the_blind_sets_run_once_hold_their_floors(searcher, name: str) -> None:  # type: ignore[no-untyped-def]
    """The bundled model on the sets written blind and run once."""
    assert set_shortfalls(searcher, name, RUN_ONCE[name]) == []


def test_followups_that_change_the_subject_are_not_covered(searcher) -> None:  # type: ignore[no-untyped-def]
    """tests/data/followups.jsonl (sixteenth session, tuned on): 40 answerable follow-ups and
    40 off-topic ones that open with "and", "ok so", "what about"... Before a follow-up's own
    words were read as a question about the subject, 0.700 / 0.800 with 7 of 40 wrongly
    abstained on, and 16 of 40 off-topic ones abstained on; after, 0.850 / 0.950, 1 and 34."""
    floors = Floors((40, 40, 0), 0.80, 0.90, off_topic=0.80)
    assert set_shortfalls(searcher, "followups.jsonl", floors, split="all") == []

