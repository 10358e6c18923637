"""Per-corpus search settings: a hidden JSON file beside the documents, checked strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.api import (
    corpus_search_settings,
    corpus_settings_for,
    open_searcher,
    update_corpus_search_settings,
)
from qa.errors import InputError
from qa.index import corpus_fingerprint
from qa.rerank import FEATURES
from qa.settings import CORPUS_SETTINGS_FILE, CORPUS_TITLES_FILE, SearchSettings

ROOT = Path(__file__).resolve().parent.parent


def write(folder: Path, data: object) -> Path:
    path = folder / CORPUS_SETTINGS_FILE
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_no_file_means_the_engine_defaults(tmp_path: Path) -> None:
    assert corpus_search_settings(tmp_path) == SearchSettings()


def test_the_file_overrides_some_settings_and_notes_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, {"_about": "calibrated on ...", "fusion": "convex", "alpha": 1, "k": 3})
    settings = corpus_search_settings(tmp_path)
    assert settings.fusion == "convex" and settings.alpha == 1.0 and settings.k == 3
    assert settings.rrf_k == SearchSettings().rrf_k


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"alpah": 0.5}, "unknown search setting"),
        ({"alpha": "high"}, "alpha must be float"),
        ({"k": True}, "k must be int"),
        ({"resolve_followups": 1}, "resolve_followups must be bool"),
        ({"fusion": "max"}, "unknown value"),
        ({"abstain_threshold": 2}, "abstain_threshold must be between -1 and 1"),
        ({"candidate_depth": 0}, "candidate_depth must be between"),
        ({"alpha": 1.5}, "alpha must be between 0 and 1"),
        ({"max_query_chars": 0}, "max_query_chars must be between"),
        ({"rerank_features": [["fused", 1]]}, "rerank_features must be an object"),
        ({"rerank_features": {"cosine": 1}}, "unknown feature 'cosine'"),
        ({"rerank_features": {"bm25": "high"}}, "bm25 needs a number"),
        ({"rerank_features": {"bm25": True}}, "bm25 needs a number"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_settings_are_refused_with_the_file_named(
    tmp_path: Path, data: object, message: str
) -> None:
    path = write(tmp_path, data)
    with pytest.raises(InputError, match=message) as error:
        corpus_search_settings(tmp_path)
    assert str(path) in str(error.value) or message == "unknown value"


def test_broken_json_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / CORPUS_SETTINGS_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        corpus_search_settings(tmp_path)


def test_the_file_is_not_a_document_and_does_not_change_the_fingerprint(
    tiny_corpus: Path, tmp_path: Path, hashing_embedder
) -> None:  # type: ignore[no-untyped-def]
    before = corpus_fingerprint(tiny_corpus)
    write(tiny_corpus, {"k": 2, "abstain_threshold": 0.05})
    assert corpus_fingerprint(tiny_corpus) == before
    searcher = open_searcher(tiny_corpus, tmp_path / "index", embedder=hashing_embedder)
    assert searcher.settings.k == 2
    assert all(p.source != CORPUS_SETTINGS_FILE for p in searcher.index.passages)


def test_the_default_corpus_ships_calibrated_settings() -> None:
    settings = corpus_search_settings(ROOT / "corpus")
    assert settings != SearchSettings()
    assert 0 < settings.abstain_threshold < 1
    assert set(settings.reranker_weights()) == set(FEATURES)  # learned (qa eval fit)


def test_updating_the_file_keeps_the_other_settings_and_refuses_a_bad_value(
    tmp_path: Path,
) -> None:
    assert update_corpus_search_settings(tmp_path, {"k": 3}).name == CORPUS_SETTINGS_FILE
    update_corpus_search_settings(tmp_path, {"rerank_features": {"bm25": 0.5}})
    settings = corpus_search_settings(tmp_path)
    assert settings.k == 3 and settings.rerank_features == (("bm25", 0.5),)
    before = (tmp_path / CORPUS_SETTINGS_FILE).read_text()
    with pytest.raises(InputError, match="unknown feature 'cosine'"):
        update_corpus_search_settings(tmp_path, {"rerank_features": {"cosine": 1}})
    assert (tmp_path / CORPUS_SETTINGS_FILE).read_text() == before  # nothing written


def test_learned_weights_are_read_as_an_object_and_replace_the_fixed_sum(tmp_path: Path) -> None:
    assert SearchSettings(rerank_weight=2.0).reranker_weights() == {"fused": 1.0, "maxsim": 2.0}
    write(tmp_path, {"rerank_features": {"maxsim": 0.5, "bm25": -1}})
    settings = corpus_search_settings(tmp_path)
    assert settings.rerank_features == (("maxsim", 0.5), ("bm25", -1))
    assert settings.reranker_weights() == {"maxsim": 0.5, "bm25": -1.0}


def test_titles_file_names_documents_without_a_title_line(
    tiny_corpus: Path, tmp_path: Path, hashing_embedder
) -> None:  # type: ignore[no-untyped-def]
    source = sorted(p.name for p in tiny_corpus.glob("*.txt"))[0]
    (tiny_corpus / CORPUS_TITLES_FILE).write_text(
        json.dumps({source: "  A Title Chosen By Staff "}), encoding="utf-8"
    )
    assert corpus_settings_for(tiny_corpus).titles == ((source, "A Title Chosen By Staff"),)
    said: list[str] = []
    searcher = open_searcher(tiny_corpus, tmp_path / "index", embedder=hashing_embedder)
    titles = {d.source: d.title for d in searcher.index.documents.values()}
    assert titles[source] == "A Title Chosen By Staff"
    # Changing a title is a change of corpus settings: the index is rebuilt, saying why.
    (tiny_corpus / CORPUS_TITLES_FILE).write_text(json.dumps({source: "New"}), encoding="utf-8")
    searcher = open_searcher(
        tiny_corpus, tmp_path / "index", embedder=hashing_embedder, say=said.append
    )
    assert {d.source: d.title for d in searcher.index.documents.values()}[source] == "New"
    assert any("Rebuilding" in line for line in said)


@pytest.mark.parametrize("data", [["a.txt"], {"a.txt": ""}, {"a.txt": 3}])
def test_a_bad_titles_file_is_refused(tmp_path: Path, data: object) -> None:
    (tmp_path / CORPUS_TITLES_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="map file paths to titles"):
        corpus_settings_for(tmp_path)


def test_the_default_corpus_titles_name_real_files() -> None:
    titles = dict(corpus_settings_for(ROOT / "corpus").titles)
    assert titles and all((ROOT / "corpus" / source).is_file() for source in titles)
