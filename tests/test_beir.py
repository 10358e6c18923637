"""BEIR loading, the cached index, running modes and run files, on a tiny synthetic data set."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa.beir import BeirDataset, load_beir, open_beir_index, read_qrels
from qa.beir_run import EVAL_MODES, run_queries, strictly_decreasing, write_run
from qa.embedders import HashingEmbedder, Kind
from qa.errors import InputError
from qa.metrics import evaluate_run
from qa.search import Query
from qa.settings import PassageSettings

CORPUS = [
    {"_id": _id, "title": title, "text": text}
    for _id, title, text in [
        ("d1", "Volcanoes", "Lava and magma erupt from volcanoes near tectonic plates."),
        ("d2", "Bees", "Honey bees pollinate flowers and make honey in hives."),
        ("d3", "", "Glaciers carve valleys as the ice slowly moves downhill."),
        ("d4", "Tides", "The moon pulls the oceans and causes the tides."),
        ("d5", "Coffee", "Roasted coffee beans are ground and brewed with hot water."),
        ("d6", "Chess", "A chess player moves the knight in an L shape."),
    ]
]
QUERIES = [
    {"_id": "q1", "text": "why do volcanoes erupt magma"},
    {"_id": "q2", "text": "how do bees make honey"},
    {"_id": "q3", "text": "what causes ocean tides"},
    {"_id": "q9", "text": "a dev query the test split never judges"},
]
QRELS = "query-id\tcorpus-id\tscore\r\nq1\td1\t2\r\nq2\td2\t1\r\nq3\td4\t1\r\nq3\td6\t0\r\n"


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in CORPUS))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    (folder / "qrels" / "test.tsv").write_bytes(QRELS.encode())
    return folder


class CountingEmbedder(HashingEmbedder):
    """Counts how many passages it encodes, to tell a cache hit from a rebuild."""

    def __init__(self) -> None:
        super().__init__(dim=64)
        self.passages = 0

    def encode(
        self, texts: Sequence[str], kind: Kind, *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        if kind == "passage":
            self.passages += len(texts)
        return super().encode(texts, kind, batch_size=batch_size, progress=progress)


@pytest.fixture
def dataset(tmp_path: Path) -> BeirDataset:
    return load_beir(write_beir(tmp_path / "beir"))


def test_load_keeps_only_judged_queries_and_joins_title_and_text(dataset: BeirDataset) -> None:
    assert dataset.doc_ids == ("d1", "d2", "d3", "d4", "d5", "d6")
    assert list(dataset.queries) == ["q1", "q2", "q3"]
    assert dataset.qrels == {"q1": {"d1": 2}, "q2": {"d2": 1}, "q3": {"d4": 1, "d6": 0}}
    assert dataset.doc_text(0) == f"Volcanoes {CORPUS[0]['text']}"
    assert dataset.doc_text(2) == CORPUS[2]["text"]  # no title: no leading space


def test_qrels_without_header_with_lf_and_trec_layout(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    path.write_text("q1\td1\t1\nq1\t0\td2\t2\n")
    assert read_qrels(path) == {"q1": {"d1": 1, "d2": 2}}


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda f: (f / "qrels" / "test.tsv").unlink(), "qrels file"),
        (lambda f: (f / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n\n{oops\n'),
         "line 3"),
        (lambda f: (f / "qrels" / "test.tsv").write_text("q\td\tgrade\nq1\td1\thigh\n"), "line 2"),
        (lambda f: (f / "queries.jsonl").write_text('{"_id": "q1", "text": "x"}\n'),
         "2 judged queries"),
    ],
)
def test_bad_input_files_are_named_input_errors(tmp_path: Path, breakage, message: str) -> None:
    folder = write_beir(tmp_path / "beir")
    breakage(folder)
    with pytest.raises(InputError, match=message):
        load_beir(folder)


def test_second_open_uses_the_cache_and_a_damaged_cache_is_rebuilt(
    dataset: BeirDataset, tmp_path: Path
) -> None:
    embedder = CountingEmbedder()
    first = open_beir_index(dataset, embedder, tmp_path / "cache")
    assert first.built and embedder.passages == 6
    second = open_beir_index(dataset, embedder, tmp_path / "cache")
    assert not second.built and embedder.passages == 6  # nothing encoded again
    assert second.folder == first.folder
    np.testing.assert_array_equal(second.dense.vectors, first.dense.vectors)

    np.save(first.folder / "vectors.npy", np.zeros((6, 64), dtype=np.float32))
    third = open_beir_index(dataset, embedder, tmp_path / "cache")
    assert third.built and embedder.passages == 12


def test_cache_folder_changes_with_the_embedder(dataset: BeirDataset, tmp_path: Path) -> None:
    a = open_beir_index(dataset, HashingEmbedder(64), tmp_path / "cache")
    b = open_beir_index(dataset, HashingEmbedder(128), tmp_path / "cache")
    assert a.folder != b.folder and b.built


def test_modes_find_the_relevant_documents(dataset: BeirDataset, tmp_path: Path) -> None:
    embedder = HashingEmbedder(256)
    index = open_beir_index(dataset, embedder, tmp_path / "cache")
    runs = run_queries(index, dataset, embedder, EVAL_MODES)
    for mode, result in runs.items():
        assert set(result.run) == {"q1", "q2", "q3"}, mode
        assert next(iter(result.run["q1"])) == "d1", mode
        scores = evaluate_run(dataset.qrels, result.run)
        assert scores["q1"]["ndcg@10"] == 1.0 and scores["q2"]["mrr@10"] == 1.0, mode
        assert result.seconds > 0
    for mode in ("hybrid", "hybrid-rrf", "hybrid-convex"):
        for docs in runs[mode].run.values():
            values = list(docs.values())
            assert all(a > b for a, b in pairwise(values)), mode
    # Dense ranks every document; BM25 only those sharing a word with the query.
    assert len(runs["dense"].run["q2"]) == 6
    assert set(runs["bm25"].run["q2"]) == {"d2"}


def test_depth_bounds_the_run(dataset: BeirDataset, tmp_path: Path) -> None:
    embedder = HashingEmbedder(64)
    index = open_beir_index(dataset, embedder, tmp_path / "cache")
    runs = run_queries(index, dataset, embedder, ["dense", "hybrid"], depth=2, fusion_depth=3)
    assert all(len(docs) == 2 for r in runs.values() for docs in r.run.values())
    with pytest.raises(InputError, match="unknown mode"):
        run_queries(index, dataset, embedder, ["rerank"])


def test_passage_splitting_scores_a_document_by_its_best_passage(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "beir")
    long_doc = {
        "_id": "d7",
        "title": "Bread",
        "text": " ".join(["Flour, water and yeast make a dough that rises overnight."] * 8)
        + "\n\n"
        + " ".join(["The crust browns in a very hot oven for forty minutes."] * 8),
    }
    with (folder / "corpus.jsonl").open("a") as handle:
        handle.write(json.dumps(long_doc) + "\n")
    dataset = load_beir(folder)
    embedder = HashingEmbedder(64)
    settings = PassageSettings(min_words=5, max_words=60)
    index = open_beir_index(dataset, embedder, tmp_path / "cache", passage_settings=settings)
    assert len(index.row_doc) > len(dataset.doc_ids)
    assert index.manifest["passages"] == settings.as_dict()
    runs = run_queries(index, dataset, embedder, ["dense"])
    for docs in runs["dense"].run.values():
        assert len(docs) == len(set(docs)) == 7


def test_strictly_decreasing_keeps_order_and_distinct_scores() -> None:
    out = strictly_decreasing([0.5, 0.5, 0.4, 0.4, 0.4, 0.1])
    assert out[0] == 0.5 and out[2] < 0.5 and out[-1] == 0.1
    assert all(a > b for a, b in pairwise(out))
    assert out[1] == pytest.approx(0.5) and out[3] == pytest.approx(0.4)


def test_run_file_round_trips_the_order(tmp_path: Path) -> None:
    run = {"q1": dict(zip(["b", "a", "c"], strictly_decreasing([1.0, 1.0, 0.5]), strict=True))}
    path = tmp_path / "run.trec"
    write_run(path, run, "hybrid")
    lines = [line.split() for line in path.read_text().splitlines()]
    assert [line[:4] for line in lines] == [["q1", "Q0", "b", "1"], ["q1", "Q0", "a", "2"],
                                            ["q1", "Q0", "c", "3"]]
    assert all(line[5] == "hybrid" for line in lines)
    scores = [float(line[4]) for line in lines]
    assert scores == list(run["q1"].values())


def test_cli_runs_modes_side_by_side_writes_report_and_run_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.embedders
    from qa.cli import main

    monkeypatch.setattr(qa.embedders, "default_embedder", lambda: HashingEmbedder(64))
    folder = write_beir(tmp_path / "beir")
    report = tmp_path / "report.json"
    args = ["eval", "--beir", str(folder), "--mode", "bm25", "--mode", "hybrid",
            "--cache", str(tmp_path / "cache"), "--report", str(report),
            "--run-out", str(tmp_path / "run.trec")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "nDCG@10" in result.output and "hybrid" in result.output and "bm25" in result.output
    data = json.loads(report.read_text())
    assert set(data["modes"]) == {"bm25", "hybrid"}
    assert data["modes"]["bm25"]["metrics"]["ndcg@10"] > 0.5
    assert set(data["modes"]["hybrid"]["per_query"]) == {"q1", "q2", "q3"}
    assert data["index"]["from_cache"] is False and data["index"]["documents_per_second"] > 0
    assert (tmp_path / "run.bm25.trec").is_file() and (tmp_path / "run.hybrid.trec").is_file()

    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert json.loads(report.read_text())["index"]["from_cache"] is True


def test_cli_reports_a_missing_qrels_file(tmp_path: Path) -> None:
    from qa.cli import main

    folder = write_beir(tmp_path / "beir")
    result = CliRunner().invoke(main, ["eval", "--beir", str(folder), "--split", "dev"])
    assert result.exit_code != 0
    assert "dev.tsv" in result.output


@pytest.mark.parametrize("rerank", [0.0, 1.0])
@pytest.mark.parametrize("fusion", ["rrf", "convex"])
def test_hybrid_ranks_exactly_like_the_chat_searcher(
    tmp_path: Path, fusion: str, rerank: float
) -> None:
    """What is evaluated is what runs: over the same retrievers, the BEIR path's hybrid order
    equals the order of the Searcher's candidates, with or without the second stage."""
    from qa.api import open_searcher
    from qa.beir import BeirIndex
    from qa.settings import SearchSettings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for doc in CORPUS:
        for n in range(2):  # near-identical passages, so the fused lists hold ties
            (corpus / f"{doc['_id']}-{n}.txt").write_text(
                f"{doc['text']} It is note {n} of the {doc['title'] or 'ice'} set.\n"
            )
    settings = SearchSettings(fusion=fusion, candidate_depth=2, resolve_followups=False,
                              rerank_weight=rerank, rerank_depth=3)
    searcher = open_searcher(corpus, tmp_path / "index", embedder=HashingEmbedder(64),
                             search_settings=settings)
    passages = searcher.index.passages
    questions = ["why do volcanoes erupt", "bees and honey", "the moon and the tide", "chess",
                 "honey magma knight coffee note 1", "ice glaciers and oceans"]
    dataset = BeirDataset(
        tmp_path, "test", tuple(p.passage_id for p in passages), ("",) * len(passages),
        tuple(p.text for p in passages), {f"q{i}": q for i, q in enumerate(questions)},
        {f"q{i}": {passages[0].passage_id: 1} for i in range(len(questions))},
    )
    index = BeirIndex(tmp_path, {}, np.arange(len(passages)), searcher.index.dense,
                      searcher.index.keywords, built=False)
    runs = run_queries(index, dataset, searcher.embedder, ["hybrid"], depth=1000,
                       fusion_depth=2, settings=settings)
    answers = searcher.search_many([Query(q) for q in questions], k=1, with_candidates=True)
    for i, answer in enumerate(answers):
        expected = [hit.passage.passage_id for hit in answer.candidates]
        assert list(runs["hybrid"].run[f"q{i}"]) == expected
    assert any(len(a.candidates) > 2 for a in answers)  # BM25-only candidates were fused in
    reranked = ["maxsim" in hit.scores for a in answers for hit in a.candidates]
    assert any(reranked) == (rerank > 0)


def test_cli_mode_choices_match_the_runner() -> None:
    from qa.cli import main

    eval_group = main.commands["eval"]
    mode_option = next(p for p in eval_group.params if p.name == "modes")
    assert tuple(mode_option.type.choices) == EVAL_MODES  # type: ignore[attr-defined]
