"""``qa adapt``: fine-tuning the model on labelled questions about one corpus (:mod:`qa.adapt`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import qa.embedders
from qa.adapt import ABOUT, AdaptSettings, adapt_model, model_embedder
from qa.cli import main
from qa.embedders import HashingEmbedder, SentenceTransformerEmbedder
from qa.errors import IndexMismatchError, InputError
from qa.index import build_index, load_index
from qa.questions import Question
from qa.search import Searcher

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

    adapted = model_embedder(out)
    before, after = _margins(real_embedder, searcher), _margins(adapted, searcher)
    assert after.mean() > before.mean() + 0.02, (before, after)
    # named by what it was trained from: an index of the bundled model is not served with it
    assert adapted.name != real_embedder.name
    with pytest.raises(IndexMismatchError):
        load_index(tmp_path / "index", adapted)
