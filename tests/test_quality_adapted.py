"""Retrieval quality of the engine as ``make run`` serves it: the adapted model (``make model``,
README "The adapted model") on questions it never learned from. A regression fails CI.

The model learns from the calibration and holdout splits of tests/data/questions.jsonl, the two
read fresh sets and the corpus's example questions. What measures it is what it never saw: the
test split of questions.jsonl (77 answerable, 25 not covered), tests/data/fresh3.jsonl, written
blind for the fourteenth session, tests/data/fresh4.jsonl, written blind for the fifteenth, and
tests/data/fresh5.jsonl, for the sixteenth, and tests/data/fresh6.jsonl and fresh7.jsonl, for
the seventeenth; each new set was run once on the model the Makefile trained then:

    set          hit@1  hit@3  off-topic abstained  answerable wrongly abstained
    test split   0.818  0.922  0.933 (14 of 15)     0
    fresh3       0.917  0.950  1.00 (10)            0
    fresh4       0.850  0.933  1.00 (15)            0.017
    fresh5       0.933  0.950  1.00 (15)            0.017
    fresh6       0.900  0.967  0.867 (13 of 15)     0.033
    fresh7       0.950  0.967  0.933 (14 of 15)     0.017

against 0.753 / 0.922, 1.00, 0.013; 0.900 / 0.950, 1.00, 0.017; 0.833 / 0.900, 1.00, 0.033;
0.817 / 0.900, 1.00, 0.017; 0.900 / 0.967, 0.933, 0.033 and 0.850 / 0.950, 0.867, 0.017 with
the bundled model. The model is
retrained whenever the engine's code changes (the Makefile); the seventeenth session's retrain
moved some of the 257 earlier blind questions out of the first three and others back (README).
The fifteenth session's model (one more training query) ranks the test split 0.831 / 0.935; a
model trained with the examples spell-corrected first ranked it 0.831 / 0.961: a training run
moves a few answers either way, so the floors leave room.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from quality_support import Floors, set_shortfalls, shortfalls

from qa.adapt import ABOUT, model_embedder, served_search_settings
from qa.api import open_searcher
from qa.questions import evaluate_questions, load_questions

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "adapted"

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def about() -> dict:  # type: ignore[type-arg]
    if not (MODEL / ABOUT).is_file():
        pytest.fail(f"no adapted model at {MODEL}: `make test` trains it (`make model`)")
    return json.loads((MODEL / ABOUT).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def searcher(about, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The engine as `make run` serves it, on an index of its own."""
    return open_searcher(
        ROOT / "corpus",
        tmp_path_factory.mktemp("adapted") / "index",
        embedder=model_embedder(MODEL),
        search_settings=served_search_settings(ROOT / "corpus", MODEL),
    )


@pytest.fixture(scope="module")
def report(searcher):  # type: ignore[no-untyped-def]
    return evaluate_questions(searcher, load_questions(ROOT / "tests/data/questions.jsonl"))


def test_the_served_model_never_learned_from_the_test_split(about) -> None:  # type: ignore[no-untyped-def]
    assert about["split"] == ["calibration", "holdout"]
    assert about["settings"]["corpus_examples"] is True
    taught = about["questions"].split()
    assert "tests/data/questions.jsonl" in taught
    blind = ("fresh3", "fresh4", "fresh5", "fresh6", "fresh7")
    assert not any(name in path for path in taught for name in blind)


def test_the_test_split_holds_its_floor(report) -> None:  # type: ignore[no-untyped-def]
    # measured 0.818 and 0.922 (63 and 71 of 77); another training run gave 0.831 and 0.961
    test = report["summary"]["test"]
    assert shortfalls(test, counts=(77, 15, 10), hit1=0.77, hit3=0.88, false_abstention=0.03) == []


#: Sets written blind and run once on the frozen engine, from the fourteenth session on:
#: their floors (an off-topic floor under the target's 0.90 where a set was run once under it).
RUN_ONCE = {
    # run once, blind: 0.917 and 0.950 (55 and 57 of 60), nothing wrongly abstained on;
    # 0.933 and 0.967 with the pooled phrases the file holds
    "fresh3.jsonl": Floors((60, 10, 10), 0.87, 0.92),
    # run once, blind (fifteenth session): 0.850 and 0.933 (51 and 56 of 60), one answerable
    # question abstained on (pool judging added no phrase)
    "fresh4.jsonl": Floors((60, 15, 10), 0.80, 0.88),
    # run once, blind (sixteenth session): 0.933 and 0.950 (56 and 57 of 60), one answerable
    # question abstained on; all three misses are follow-ups
    "fresh5.jsonl": Floors((60, 15, 10), 0.88, 0.90),
    # run once, blind (seventeenth session, the model retrained with that session's follow-up
    # change): 0.900 and 0.967 (54 and 58 of 60), two answerable questions abstained on, and
    # two of the five off-topic follow-ups answered ("and what caused the great depression
    # back in 1929", "what about herbal tea, how long should a chamomile infusion steep");
    # 14 of 15 since the rule for continuations that stray, the floor leaves a retrain room
    "fresh6.jsonl": Floors((60, 15, 10), 0.85, 0.92, off_topic=0.80),
    # run once, blind (seventeenth session, the engine frozen at 86d07b4 after its change for
    # continuations that stray, the same model): 0.950 and 0.967 (57 and 58 of 60), one
    # answerable question abstained on, 14 of 15 off-topic abstained (all five follow-ups)
    "fresh7.jsonl": Floors((60, 15, 10), 0.90, 0.92),
}


@pytest.mark.parametrize("name", RUN_ONCE)
def test_the_blind_sets_run_once_hold_their_floors(searcher, name: str) -> None:  # type: ignore[no-untyped-def]
    assert set_shortfalls(searcher, name, RUN_ONCE[name]) == []
