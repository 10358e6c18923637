"""Example questions (qa.examples): read, placed on passages by their evidence, indexed with
them (BM25 expansion and vectors), and used to find passages a question never words alike."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.errors import CorpusError
from qa.examples import EXAMPLES_FILE, Example, ExampleIndex, read_examples
from qa.fusion import promote
from qa.index import build_index, check_fresh, load_index
from qa.keywords import KeywordIndex
from qa.records import Passage
from qa.search import Searcher
from qa.settings import FEATURES, SearchSettings
from tests.conftest import HashingEmbedder

# "pollen" and "nectar" are in none of the tiny corpus's documents; the example ties them to
# the passage on harvesting honey, by a phrase of its text typed in another case.
EXAMPLE = {"question": "pollen nectar gathering season",
           "evidence": "READY TO  harvest", "note": "from the front desk"}


def _write(corpus: Path, *rows: object) -> Path:
    path = corpus / EXAMPLES_FILE
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
        encoding="utf-8",
    )
    return path


def _passage(text: str) -> Passage:
    return Passage(
        passage_id=text[:8], doc_id="d", title="T", section="", source="t.txt", start=0,
        end=len(text), text=text,
    )


def test_no_file_means_no_examples(tmp_path: Path) -> None:
    assert read_examples(tmp_path) == []


def test_examples_are_read_in_order_other_keys_ignored(tmp_path: Path) -> None:
    _write(tmp_path, EXAMPLE, "", {"question": " is it safe ", "evidence": "safe"})
    assert read_examples(tmp_path) == [
        Example(EXAMPLE["question"], EXAMPLE["evidence"], 1),
        Example("is it safe", "safe", 3),
    ]


@pytest.mark.parametrize(
    "bad, says",
    [
        ("{not json", "line 2: not valid JSON"),
        ('{"question": "is it safe"}', "line 2: needs"),
        ('{"question": "", "evidence": "safe"}', "line 2: needs"),
        ('["is it safe", "safe"]', "line 2: expected a JSON object"),
        ('{"question": "is it safe", "evidence": 3}', "line 2: needs"),
    ],
)
def test_a_bad_line_is_named(tmp_path: Path, bad: str, says: str) -> None:
    _write(tmp_path, EXAMPLE, bad)
    with pytest.raises(CorpusError, match=says) as caught:
        read_examples(tmp_path)
    assert EXAMPLES_FILE in str(caught.value)


def test_examples_are_placed_by_their_evidence_folded() -> None:
    passages = [_passage("Bees make honey.\nIt’s sweet."), _passage("Wasps do not.")]
    examples = [Example("a", "it's  SWEET", 1), Example("b", "make honey", 2),
                Example("c", "in no passage", 3)]
    index, unplaced = ExampleIndex.build(examples, passages, lambda t: np.eye(len(t), 4))
    assert [e.question for e in index.examples] == ["a", "b"]
    assert index.rows == [(0,), (0,)]
    assert unplaced == [examples[2]]
    assert index.expansions(2) == ["a b", ""]


def test_a_passage_scores_by_its_closest_example_else_its_own_cosine() -> None:
    vectors = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    index = ExampleIndex(
        [Example("x", "e", 1), Example("y", "e", 2), Example("z", "e", 3)],
        [[0], [0, 2], [2]],
        vectors,
    )
    query = np.array([0.6, 0.8, 0.0], dtype=np.float32)
    (sims,) = index.similarities([query])
    scores = index.scores(sims, np.array([0, 1, 2]), np.array([0.1, 0.2, 0.3]))
    assert scores.tolist() == pytest.approx([0.8, 0.2, 0.8])  # row 1 has none: its fallback
    assert index.nearest_rows(index.similarities([query]), 2) == [0, 2]
    assert index.nearest_rows(index.similarities([np.array([0, 0, 1.0])]), 5) == [2, 0]


def test_examples_are_encoded_again_for_another_model() -> None:
    index = ExampleIndex([Example("x", "e", 1)], [[0]], np.array([[1.0, 0.0]]))
    again = index.encoded_by(lambda texts: np.array([[0.0, 1.0]] * len(texts)))
    assert again.rows == index.rows and again.examples == index.examples
    assert again.vectors.tolist() == [[0.0, 1.0]]


def test_rows_below_the_head_are_promoted_into_it() -> None:
    order = [(5, 0.9), (6, 0.8), (7, 0.7), (8, 0.6)]
    assert promote(order, [8, 5], 2) == ([(5, 0.9), (6, 0.8), (8, 0.6), (7, 0.7)], 3)
    assert promote(order, [9], 2) == (order, 2)  # not a candidate: nothing to move


def test_expansion_words_are_searched_but_not_the_corpus_s_words() -> None:
    keywords = KeywordIndex.build(
        ["Harvest honey when cells are capped.", "Clean the chain."],
        expansions=["pollen nectar", ""],
    )
    ids, _ = keywords.search(["pollen"], 2)[0]
    assert ids.tolist() == [0]
    assert not keywords.knows_any("pollen")
    assert keywords.unknown_words("is the pollen capped") == ("pollen",)
    assert keywords.knows_any("honey")


def test_the_index_keeps_the_examples_and_says_what_it_left_out(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    _write(tiny_corpus, EXAMPLE, {"question": "tyre colour?", "evidence": "no such words"})
    said: list[str] = []
    embedder = HashingEmbedder(dim=1024)
    built = build_index(tiny_corpus, tmp_path / "index", embedder, say=said.append)
    assert any("1 example questions left out" in line and "lines 2 of" in line for line in said)
    assert built.manifest["examples"] == {"count": 1, "left_out_lines": [2]}
    loaded = load_index(tmp_path / "index", embedder)
    assert loaded.examples is not None
    assert [e.question for e in loaded.examples.examples] == [EXAMPLE["question"]]
    (row,) = loaded.examples.rows[0]
    assert loaded.passages[row].section == "Harvesting Honey"
    assert np.array_equal(loaded.examples.vectors, built.examples.vectors)  # type: ignore[union-attr]

    # Editing the examples makes the index stale, as editing a document does.
    _write(tiny_corpus, EXAMPLE)
    with pytest.raises(Exception, match="changed since the index was built"):
        check_fresh(loaded, tiny_corpus)


def test_a_question_worded_like_an_example_finds_its_passage(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    embedder = HashingEmbedder(dim=1024)
    settings = SearchSettings(
        abstain_threshold=-1.0,  # hashed words: judge ranking only
        rerank_features=(("example", 1.0),),
        rerank_depth=2,
    )
    plain = Searcher(build_index(tiny_corpus, tmp_path / "plain", embedder), embedder, settings)
    question = "pollen nectar gathering"
    before = plain.search(question, with_candidates=True)
    _write(tiny_corpus, EXAMPLE)
    index = build_index(tiny_corpus, tmp_path / "index", embedder)
    after = Searcher(index, embedder, settings).search(question, with_candidates=True)
    assert before.hits[0].passage.section != "Harvesting Honey"
    top = after.hits[0]
    assert top.passage.section == "Harvesting Honey"
    # BM25 finds it by the example's words, and its example feature is that example's cosine.
    assert "bm25" in top.scores
    expected = float(index.examples.vectors[0] @ embedder.encode([question], "query")[0])  # type: ignore[union-attr]
    assert top.scores["example"] == pytest.approx(expected, abs=1e-5)


def test_without_examples_the_example_features_are_the_cosines(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search("How do I clean a bicycle chain?", with_candidates=True)
    head = [hit for hit in answer.candidates if "reranked" in hit.ranks]
    assert head
    for hit in head:
        assert hit.scores["example"] == pytest.approx(hit.scores["dense"])
        assert hit.scores["example_own"] == pytest.approx(hit.scores["dense"])
    assert {"example", "example_own"} <= set(FEATURES)
