"""``qa adapt``: fine-tuning the model on labelled questions about one corpus (:mod:`qa.adapt`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import qa.adapt
import qa.embedders
from qa.adapt import (
    ABOUT,
    AdaptSettings,
    adapt_model,
    choose_calibration,
    model_embedder,
    model_search_settings,
    served_search_settings,
    training_examples,
)
from qa.api import corpus_search_settings, update_corpus_search_settings
from qa.cli import main
from qa.embedders import HashingEmbedder, SentenceTransformerEmbedder
from qa.errors import IndexMismatchError, InputError
from qa.index import build_index, load_index
from qa.questions import Candidate, Question
from qa.search import Searcher
from qa.settings import SearchSettings

# Paraphrases of the tiny corpus's answers, in other words than the passages use.
TAUGHT = [
    ("how often do i have to look in on the bees", "an inspection by the beekeeper every week"),
    ("when is the honey ready to take out", "capped at least eighty percent of the cells"),
    ("why does my loaf come out with a soft top", "traps steam so the crust stays soft"),
    ("my bike screeches when i stop", "Worn pads squeal"),
]
OFF_TOPIC = ["what is the capital of peru", "who won the football game last night"]


def _questions(split: str = "calibration") -> list[Question]:
    taught = [
        Question(f"t{n}", q, (), (evidence,), True, split) for n, (q, evidence) in enumerate(TAUGHT)
    ]
    off = [
        Question(f"o{n}", q, (), (), False, split, "off_topic") for n, q in enumerate(OFF_TOPIC)
    ]
    return taught + off


def test_an_adapted_model_needs_its_description(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=ABOUT):
        model_embedder(tmp_path)
    (tmp_path / ABOUT).write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="unreadable"):
        model_embedder(tmp_path)


def test_settings_refuse_what_cannot_train() -> None:
    with pytest.raises(InputError):
        AdaptSettings(epochs=0)
    with pytest.raises(InputError):
        AdaptSettings(learning_rate=0)
    with pytest.raises(InputError, match="2 folds"):
        AdaptSettings(folds=1)


def _pooled(off_topic_cosine: float) -> tuple[list[Question], list[list[Candidate]]]:
    """Twenty answerable questions (first candidate relevant, cosines 0.30-0.49) and ten
    off-topic ones whose best candidate has ``off_topic_cosine``."""
    questions, candidates = [], []
    for n in range(20):
        questions.append(Question(f"a{n}", "q", (), ("e",), True, "calibration"))
        candidates.append([Candidate(0.30 + 0.01 * n, True), Candidate(0.2, False)])
    for n in range(10):
        questions.append(Question(f"o{n}", "q", (), (), False, "calibration", "off_topic"))
        candidates.append([Candidate(off_topic_cosine, False)])
    return questions, candidates


def test_calibration_takes_the_reading_that_keeps_off_topic_questions_out() -> None:
    # Read as about the subject, off-topic questions come as close as answerable ones (0.40):
    # no threshold keeps them out without costing answerable ones. Unread, they stay at 0.10.
    chosen = choose_calibration({True: _pooled(0.40), False: _pooled(0.10)}, folds=4)
    assert chosen is not None
    assert chosen["read_as_subject"] is False and chosen["folds"] == 4
    assert 0.10 < chosen["abstain_threshold"] <= 0.30
    assert chosen["out_of_fold"] == {"answerable": 20, "off_topic": 10, "hit@1": 1.0,
                                     "hit@3": 1.0, "off_topic_abstained": 1.0,
                                     "false_abstention": 0.0}
    # with the reading harmless, equal on abstention, the better ranking wins (here a tie:
    # the first reading given stays)
    assert choose_calibration({True: _pooled(0.10), False: _pooled(0.10)}, folds=2)[
        "read_as_subject"] is True
    # nothing to weigh without off-topic questions
    questions, candidates = _pooled(0.10)
    assert choose_calibration({False: (questions[:20], candidates[:20])}, folds=2) is None


def test_a_calibrated_model_brings_its_threshold_and_reading(tmp_path: Path) -> None:
    settings = SearchSettings(abstain_threshold=0.22, read_as_subject=True)
    assert model_search_settings(settings, None) == settings  # the bundled model
    about = {"digest": "abc", "calibration": None}
    (tmp_path / ABOUT).write_text(json.dumps(about), encoding="utf-8")
    assert model_search_settings(settings, tmp_path) == settings  # adapted, not calibrated
    about["calibration"] = {"abstain_threshold": 0.27, "read_as_subject": False}
    (tmp_path / ABOUT).write_text(json.dumps(about), encoding="utf-8")
    served = model_search_settings(settings, tmp_path)
    assert (served.abstain_threshold, served.read_as_subject) == (0.27, False)
    assert served.rerank_features == settings.rerank_features  # the rest stays the corpus's
    about["calibration"] = {"abstain_threshold": "high", "read_as_subject": False}
    (tmp_path / ABOUT).write_text(json.dumps(about), encoding="utf-8")
    with pytest.raises(InputError, match="unreadable"):
        model_search_settings(settings, tmp_path)


def test_a_corpus_is_served_with_its_settings_and_the_model_s_calibration(tmp_path: Path) -> None:
    corpus, model = tmp_path / "corpus", tmp_path / "model"
    corpus.mkdir()
    model.mkdir()
    update_corpus_search_settings(corpus, {"fusion": "convex", "abstain_threshold": 0.22})
    assert served_search_settings(corpus, None) == corpus_search_settings(corpus)
    calibration = {"abstain_threshold": 0.3, "read_as_subject": False}
    about = {"digest": "abc", "calibration": calibration}
    (model / ABOUT).write_text(json.dumps(about), encoding="utf-8")
    served = served_search_settings(corpus, model)
    assert (served.fusion, served.abstain_threshold, served.read_as_subject) == (
        "convex", 0.3, False)


def test_adapting_starts_from_the_bundled_model_only(tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "a", "question": "q", "evidence": ["e"]}\n', encoding="utf-8")
    args = ["--model", str(tmp_path), "adapt", "--questions", str(questions),
            "--out", str(tmp_path / "m"), "--index", str(tmp_path / "index")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "bundled model" in result.output
    assert not (tmp_path / "index").exists()


def test_a_split_with_no_evidence_in_the_corpus_is_refused(tiny_searcher: Searcher) -> None:
    questions = [Question("x", "what is it", (), ("words no passage holds",), True, "calibration")]
    with pytest.raises(InputError, match="nothing to adapt"):
        adapt_model(tiny_searcher, questions, Path("unused"))
    with pytest.raises(InputError, match="nothing to adapt"):  # the holdout split is not taught
        adapt_model(tiny_searcher, _questions("holdout"), Path("unused"))


def test_the_command_refuses_an_unknown_split_before_loading_anything(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qa.embedders, "default_embedder", lambda: HashingEmbedder(1024))
    questions = tmp_path / "q.jsonl"
    row = {"id": "a", "question": "bees?", "evidence": ["no passage says this"]}
    questions.write_text(json.dumps(row) + "\n", encoding="utf-8")
    args = ["adapt", "--questions", str(questions), "--out", str(tmp_path / "m"),
            "--corpus", str(tiny_corpus), "--index", str(tmp_path / "index")]
    result = CliRunner().invoke(main, [*args, "--split", "training"])
    assert result.exit_code == 2 and "--split" in result.output
    assert not (tmp_path / "index").exists()
    result = CliRunner().invoke(main, args)  # calibration is the default split; none is there
    assert result.exit_code == 2 and "nothing to adapt" in result.output


def test_several_splits_and_the_corpus_examples_are_taught(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    example = {"question": "what stops a bike", "evidence": "Worn pads squeal"}
    (tiny_corpus / ".qa-examples.jsonl").write_text(json.dumps(example) + "\n", encoding="utf-8")
    embedder = HashingEmbedder(1024)
    index = build_index(tiny_corpus, tmp_path / "index", embedder)
    searcher = Searcher(index, embedder, SearchSettings())
    questions = _questions("calibration")[:2] + _questions("holdout")[2:]
    one, _ = training_examples(searcher, questions, "calibration")
    assert [e.query for e in one] == [TAUGHT[0][0], TAUGHT[1][0]]
    both, off_topic = training_examples(searcher, questions, ["calibration", "holdout"])
    assert [e.query for e in both] == [q for q, _ in TAUGHT]
    assert off_topic == OFF_TOPIC  # the holdout split's off-topic questions too
    taught, _ = training_examples(searcher, questions, "calibration", corpus_examples=True)
    assert [e.query for e in taught] == [TAUGHT[0][0], TAUGHT[1][0], example["question"]]
    (row,) = taught[-1].positives  # the passage the example was placed on
    assert "Worn pads squeal" in index.passages[row].text
    with pytest.raises(InputError, match="at least one split"):
        training_examples(searcher, questions, [])


def test_question_ids_repeated_across_files_are_refused_for_folds(tiny_searcher: Searcher) -> None:
    twice = _questions() + _questions()[:1]
    with pytest.raises(InputError, match="repeat across the question files: t0"):
        adapt_model(tiny_searcher, twice, Path("unused"), settings=AdaptSettings(folds=2))


class _Weights:
    """Stands in for a trained model: its save writes weights, or fails halfway through."""

    def __init__(self, text: str, fail: bool = False) -> None:
        self.text, self.fail = text, fail

    def save(self, folder: str) -> None:
        (Path(folder) / "model.safetensors").write_text(self.text, encoding="utf-8")
        if self.fail:
            raise KeyboardInterrupt  # killed while writing


def test_a_save_killed_halfway_leaves_the_previous_model_whole(
    tiny_searcher: Searcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "models" / "adapted"
    settings = AdaptSettings(folds=0)
    monkeypatch.setattr(qa.adapt, "_train", lambda *args, **kwargs: _Weights("first"))
    first = adapt_model(tiny_searcher, _questions(), out, settings=settings)
    assert (out / "model.safetensors").read_text(encoding="utf-8") == "first"
    monkeypatch.setattr(qa.adapt, "_train", lambda *args, **kwargs: _Weights("second", True))
    with pytest.raises(KeyboardInterrupt):
        adapt_model(tiny_searcher, _questions(), out, settings=AdaptSettings(folds=0, epochs=2))
    assert (out / "model.safetensors").read_text(encoding="utf-8") == "first"
    assert json.loads((out / ABOUT).read_text(encoding="utf-8")) == first
    monkeypatch.setattr(qa.adapt, "_train", lambda *args, **kwargs: _Weights("third"))
    third = adapt_model(tiny_searcher, _questions(), out, settings=AdaptSettings(folds=0, epochs=2))
    assert (out / "model.safetensors").read_text(encoding="utf-8") == "third"
    assert json.loads((out / ABOUT).read_text(encoding="utf-8")) == third != first
    assert [p.name for p in out.parent.iterdir()] == ["adapted"]  # nothing staged is left


def _margins(embedder: SentenceTransformerEmbedder, searcher: Searcher) -> np.ndarray:
    """Per taught question, its cosine with its passage minus its best with any other."""
    passages = searcher.index.passages
    vectors = embedder.encode([p.embedding_text() for p in passages], "passage")
    margins = []
    for question, evidence in TAUGHT:
        cosines = vectors @ embedder.encode([question], "query")[0]
        own = [evidence in p.text for p in passages]
        margins.append(cosines[own].max() - cosines[np.logical_not(own)].max())
    return np.array(margins)


@pytest.mark.model
def test_adapting_brings_taught_questions_closer_to_their_passages(
    tiny_corpus: Path, tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    searcher = Searcher(build_index(tiny_corpus, tmp_path / "index", real_embedder), real_embedder)
    settings = AdaptSettings(epochs=3, learning_rate=5e-5, batch_size=4)
    out = tmp_path / "model"
    about = adapt_model(searcher, _questions(), out, settings=settings)
    assert json.loads((out / ABOUT).read_text(encoding="utf-8")) == about
    assert about["examples"] == len(TAUGHT) and about["off_topic"] == len(OFF_TOPIC)
    # calibrated out of fold: each question answered once, by a model that never saw it
    calibration = about["calibration"]
    assert calibration["folds"] == settings.folds
    held = calibration["out_of_fold"]
    assert (held["answerable"], held["off_topic"]) == (len(TAUGHT), len(OFF_TOPIC))
    served = model_search_settings(searcher.settings, out)
    assert served.abstain_threshold == calibration["abstain_threshold"]

    adapted = model_embedder(out)
    before, after = _margins(real_embedder, searcher), _margins(adapted, searcher)
    assert after.mean() > before.mean() + 0.02, (before, after)
    # named by what it was trained from: an index of the bundled model is not served with it
    assert adapted.name != real_embedder.name
    with pytest.raises(IndexMismatchError):
        load_index(tmp_path / "index", adapted)
