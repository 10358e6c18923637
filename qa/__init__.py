"""Cited-passage question answering: the verbatim passages of a corpus that answer a question.

``import qa`` is cheap: the heavy parts (torch, faiss, bm25s) load when first used.

    >>> from qa import open_searcher
    >>> searcher = open_searcher("corpus", "index")
    >>> answer = searcher.search("does ketamine help with anxiety?")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "open_searcher": "qa.api",
    "Searcher": "qa.search",
    "Query": "qa.search",
    "build_index": "qa.index",
    "load_index": "qa.index",
    "ensure_index": "qa.index",
    "CorpusIndex": "qa.index",
    "read_corpus": "qa.documents",
    "split_passages": "qa.passages",
    "answer_json": "qa.render",
    "answer_text": "qa.render",
    "SentenceTransformerEmbedder": "qa.embedders",
    "HashingEmbedder": "qa.embedders",
    "SearchSettings": "qa.settings",
    "CorpusSettings": "qa.settings",
    "PassageSettings": "qa.settings",
    "IndexSettings": "qa.settings",
    "Answer": "qa.records",
    "Citation": "qa.records",
    "Hit": "qa.records",
    "Passage": "qa.records",
    "Document": "qa.records",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
