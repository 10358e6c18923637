"""Staff turn a search into a lasting fix: add the question as an example of the passage that
answers it (qa.staff_actions, and `qa staff add-example` / `qa staff examples`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.api import corpus_passages
from qa.cli import main
from qa.errors import InputError
from qa.examples import EXAMPLES_FILE, read_examples
from qa.live import LiveSearcher
from qa.search import Searcher
from qa.settings import SearchSettings
from qa.staff_actions import StaffActions
from qa.store import Store
from tests.conftest import HashingEmbedder

# Words none of the tiny corpus's documents use, asked about the passage on harvesting honey.
QUESTION = "pollen nectar gathering"
SETTINGS = SearchSettings(
    abstain_threshold=-1.0,  # hashed words: judge ranking only
    rerank_features=(("example", 1.0),),
    rerank_depth=2,
)


@pytest.fixture()
def actions(tiny_corpus: Path, tmp_path: Path) -> Iterator[StaffActions]:
    live = LiveSearcher(tiny_corpus, tmp_path / "index", HashingEmbedder(dim=1024), SETTINGS)
    with Store(tmp_path / "qa.sqlite3") as store:
        yield StaffActions(live, store)


def _harvest_id(actions: StaffActions) -> str:
    return next(p.passage_id for p in actions.live.index.passages
                if p.section == "Harvesting Honey")


def test_an_added_example_is_used_at_once_and_labelled(actions: StaffActions) -> None:
    live, pid = actions.live, _harvest_id(actions)
    before = live.search(QUESTION)
    assert before.hits[0].passage.passage_id != pid
    done = actions.add_example(QUESTION, pid, labelled=(QUESTION, []))
    assert done["added"] and done["passage_ids"] == [pid] and done["line"] == 1
    assert done["index_version"] == live.index.version != before.index_version
    assert done["shown"]
    phrase = done["evidence"]
    assert [p.passage_id for p in live.index.passages if phrase in p.text] == [pid]
    after = live.search(QUESTION)
    assert after.hits[0].passage.passage_id == pid and after.hits[0].example == QUESTION
    labels = actions.store.labels()
    assert [(x.question, x.passage_id, x.relevant) for x in labels] == [(QUESTION, pid, 1)]
    # The same example again is not written twice, and the index is not rebuilt for it.
    swaps = live.swaps
    again = actions.add_example(f"  {QUESTION.upper()} ", pid, phrase)
    assert not again["added"] and again["line"] == 1 and live.swaps == swaps
    assert len(read_examples(live.corpus_dir)) == 1


def test_an_example_clears_its_passage_for_a_question_asked_almost_as_it_is(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    """Under a threshold no passage's own cosine clears, the passage is shown for its example
    question (cosine 1 with it), and only for questions that come within example_match."""
    settings = replace(SETTINGS, abstain_threshold=0.99, example_match=0.9)
    live = LiveSearcher(tiny_corpus, tmp_path / "index", HashingEmbedder(dim=1024), settings)
    with Store(tmp_path / "qa.sqlite3") as store:
        actions = StaffActions(live, store)
        pid = _harvest_id(actions)
        done = actions.add_example(QUESTION, pid)
    assert done["added"] and done["shown"]
    assert done["cosine"] is not None and done["cosine"] < done["threshold"] == 0.99
    assert done["example_cosine"] == pytest.approx(1.0, abs=1e-5)
    asked = live.search(f"{QUESTION.upper()}?")
    assert not asked.abstained and [h.passage.passage_id for h in asked.hits] == [pid]
    # hashed words: two of three words shared is a cosine of about 0.82, under 0.9
    assert live.search("pollen nectar", with_candidates=True).abstained
    # with example_match 1, only the very question: the word order changes nothing hashed
    strict = Searcher(live.index, live.embedder, replace(settings, example_match=1.0))
    assert strict.search("gathering pollen nectar").hits
    assert strict.search("pollen nectar gathering honey").abstained


def test_staff_are_told_when_the_example_does_not_lift_its_passage_for_their_question(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    """Written in other words than the question searched in the lab, the example reorders
    candidates but does not clear the passage for that question: "shown" is false."""
    # hashed words: "pollen nectar" is 0.82 from "gathering pollen nectar", so a match of 0.9
    settings = replace(SETTINGS, abstain_threshold=0.99, example_match=0.9)
    live = LiveSearcher(tiny_corpus, tmp_path / "index", HashingEmbedder(dim=1024), settings)
    with Store(tmp_path / "qa.sqlite3") as store:
        actions = StaffActions(live, store)
        pid = _harvest_id(actions)
        done = actions.add_example(QUESTION, pid, labelled=("pollen nectar", []))
    assert done["added"] and not done["shown"]
    assert done["example_cosine"] is not None and done["example_cosine"] < done["example_match"]
    answer = live.search("pollen nectar", with_candidates=True)
    assert answer.abstained and answer.candidates[0].passage.passage_id == pid


def test_a_refused_example_changes_nothing(actions: StaffActions) -> None:
    live = actions.live
    version, pid = live.index.version, _harvest_id(actions)
    with pytest.raises(InputError, match="no passage 'nope'"):
        actions.add_example(QUESTION, "nope")
    with pytest.raises(InputError, match="not in passage"):
        actions.add_example(QUESTION, pid, "fold the dough every half hour")  # bread
    assert not (live.corpus_dir / EXAMPLES_FILE).exists()
    assert live.index.version == version and actions.store.labels() == []


def test_the_cli_adds_and_lists_examples(tiny_corpus: Path) -> None:
    runner = CliRunner()
    pid = next(p.passage_id for p in corpus_passages(tiny_corpus)
               if p.section == "Harvesting Honey")
    corpus = ["--corpus", str(tiny_corpus)]
    out = runner.invoke(main, ["staff", "add-example", QUESTION, "--passage", pid, *corpus])
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"Added line 1 of {tiny_corpus / EXAMPLES_FILE}")
    out = runner.invoke(main, ["staff", "examples", "--json", *corpus])
    assert out.exit_code == 0, out.output
    row = json.loads(out.stdout)
    assert (row["line"], row["question"]) == (1, QUESTION)
    assert [p["passage_id"] for p in row["passages"]] == [pid]
    assert "1 example questions" in out.stderr and "on 1 of" in out.stderr
    # An example whose passage was edited away is named as placed nowhere.
    (tiny_corpus / EXAMPLES_FILE).write_text(
        json.dumps({"question": "tyres?", "evidence": "no such words"}) + "\n", encoding="utf-8"
    )
    out = runner.invoke(main, ["staff", "examples", *corpus])
    assert "NOT PLACED" in out.stdout and "lines 1" in out.stderr


@pytest.mark.parametrize(
    "args, says",
    [
        ([QUESTION], "--passage ID or --evidence PHRASE"),
        ([QUESTION, "--passage", "nope"], "no passage nope"),
        ([QUESTION, "--evidence", "the"], "passages: use a longer phrase"),
        (["", "--evidence", "capped cells"], "question is empty"),
    ],
)
def test_the_cli_refuses_a_bad_example(tiny_corpus: Path, args: list[str], says: str) -> None:
    out = CliRunner().invoke(main, ["staff", "add-example", *args, "--corpus", str(tiny_corpus)])
    assert out.exit_code == 2 and says in out.output
    assert not (tiny_corpus / EXAMPLES_FILE).exists()


def test_the_cli_asks_for_the_passage_before_reading_the_documents(tiny_corpus: Path) -> None:
    (tiny_corpus / "broken.txt").write_bytes(b"\xff\xfe not utf-8 \x80")
    out = CliRunner().invoke(main, ["staff", "add-example", QUESTION, "--corpus", str(tiny_corpus)])
    assert out.exit_code == 2 and "--passage ID or --evidence PHRASE" in out.output
    assert "broken.txt" not in out.output
