"""Example questions (qa.examples): read, placed on passages by their evidence, indexed with
them (BM25 expansion and vectors), and used to find passages a question never words alike."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.errors import CorpusError, InputError
from qa.examples import (
    EXAMPLES_FILE,
    MAX_PLACES,
    Example,
    ExampleIndex,
    add_example,
    read_examples,
    suggest_evidence,
)
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
    assert not keywords.covers("pollen")
    assert keywords.unknown_words("is the pollen capped") == ("pollen",)
    assert keywords.covers("honey")


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
    assert top.example == EXAMPLE["question"]  # named, so staff see why it came up
    assert all(hit.example is None for hit in after.candidates if hit.passage is not top.passage)


def test_without_examples_the_example_features_are_the_cosines(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search("How do I clean a bicycle chain?", with_candidates=True)
    head = [hit for hit in answer.candidates if "reranked" in hit.ranks]
    assert head
    for hit in head:
        assert hit.scores["example"] == pytest.approx(hit.scores["dense"])
        assert hit.scores["example_own"] == pytest.approx(hit.scores["dense"])
    assert {"example", "example_own"} <= set(FEATURES)


def test_closest_names_the_passage_s_nearest_example() -> None:
    vectors = np.eye(3, dtype=np.float32)
    examples = [Example("a", "x", 1), Example("b", "x", 2), Example("c", "y", 3)]
    index = ExampleIndex(examples, [(0,), (0,), (1,)], vectors)
    sims = index.similarities([np.array([0.1, 0.2, 0.9]), np.array([0.3, 0.0, 0.0])])
    assert index.closest(sims, 0) == (examples[0], pytest.approx(0.3))  # beats 0.2
    assert index.closest(sims, 1) == (examples[2], pytest.approx(0.9))
    assert index.closest(sims, 2) is None


# --- adding examples -----------------------------------------------------------------------

TEXTS = [
    "Bees make honey from nectar. The beekeeper takes the honey in late summer.",
    "Bees make honey from nectar. The hive needs water in summer and shade at noon.",
    "Short text.",
]
PASSAGES = [_passage(t) for t in TEXTS]


def test_a_suggested_phrase_names_its_passage_alone() -> None:
    for n, text in enumerate(TEXTS[:2]):
        phrase = suggest_evidence(text, [t for m, t in enumerate(TEXTS) if m != n])
        assert 6 <= len(phrase.split()) <= 12 and phrase in text
        assert [t for t in TEXTS if phrase in t] == [text]
    # The shared first sentence is skipped: the phrase starts where the texts differ.
    assert suggest_evidence(TEXTS[0], [TEXTS[1]]).endswith("beekeeper")
    assert suggest_evidence("Short text.", TEXTS[:2]) == "Short text."
    assert suggest_evidence(TEXTS[0], [TEXTS[0] + " More."]) == " ".join(TEXTS[0].split()[:12])


def test_an_example_is_appended_placed_and_not_written_twice(tmp_path: Path) -> None:
    (tmp_path / EXAMPLES_FILE).write_text(json.dumps(EXAMPLE), encoding="utf-8")  # no newline
    example, rows, added = add_example(
        tmp_path, "  when do you\ttake the honey ", "the BEEKEEPER takes", PASSAGES,
        passage_id=PASSAGES[0].passage_id, by="test",
    )
    assert added and rows == [0]
    assert example == Example("when do you take the honey", "the BEEKEEPER takes", 2)
    assert read_examples(tmp_path) == [Example(EXAMPLE["question"], EXAMPLE["evidence"], 1),
                                       example]
    again = add_example(tmp_path, "When do you take the honey", "the beekeeper takes", PASSAGES)
    assert again == (example, [0], False)
    assert len(read_examples(tmp_path)) == 2
    written = json.loads((tmp_path / EXAMPLES_FILE).read_text(encoding="utf-8").splitlines()[1])
    assert written["by"] == "test" and written["added"]


@pytest.mark.parametrize(
    "question, evidence, passage_id, says",
    [
        (" ", "the beekeeper takes", None, "question is empty"),
        ("q" * 501, "the beekeeper takes", None, "501 characters"),
        ("when", "  ", None, "evidence phrase is empty"),
        ("when", "no such words", None, "in no passage"),
        ("when", "the beekeeper takes", "Short te", "not in passage Short te"),
    ],
)
def test_a_bad_example_is_refused_and_the_file_kept(
    tmp_path: Path, question: str, evidence: str, passage_id: str | None, says: str
) -> None:
    path = _write(tmp_path, EXAMPLE)
    before = path.read_bytes()
    with pytest.raises(InputError, match=says):
        add_example(tmp_path, question, evidence, PASSAGES, passage_id=passage_id)
    assert path.read_bytes() == before


def test_a_phrase_too_common_to_name_a_passage_is_refused(tmp_path: Path) -> None:
    copies = [_passage(TEXTS[0])] * MAX_PLACES
    assert add_example(tmp_path, "when", "Bees make honey", copies)[2]  # a repeated sentence
    with pytest.raises(InputError, match=f"in {MAX_PLACES + 1} passages: use a longer phrase"):
        add_example(tmp_path, "why", "Bees make honey", [*copies, _passage(TEXTS[1])])
    assert len(read_examples(tmp_path)) == 1


def test_nothing_is_appended_to_a_malformed_file(tmp_path: Path) -> None:
    path = _write(tmp_path, EXAMPLE, "{broken")
    with pytest.raises(CorpusError, match="line 2"):
        add_example(tmp_path, "when", "the beekeeper takes", PASSAGES)
    assert path.read_text(encoding="utf-8").splitlines()[1] == "{broken"
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_examples_added_at_once_all_land(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def add(n: int) -> None:
        add_example(tmp_path, f"question number {n}", "the beekeeper takes", PASSAGES)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(add, range(40)))
    asked = read_examples(tmp_path)
    assert sorted(e.question for e in asked) == sorted(f"question number {n}" for n in range(40))
    assert [e.line for e in asked] == list(range(1, 41))
