"""What staff do in the staff view, without the page: search with a strategy, label a passage,
add an example question, export labels, group what the corpus does not cover.

:mod:`qa.staff_ui` wires these to the page and to its scripted API, so both go through the
same checks; tests call them without a browser.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from qa.errors import InputError
from qa.examples import EXAMPLES_FILE, add_example, suggest_for
from qa.lab import CandidateRow, answer_summary, candidate_rows, strategy
from qa.live import LiveSearcher
from qa.records import Passage
from qa.search import Searcher
from qa.staff_reports import (
    group_unanswered,
    label_cells,
    qrels,
    qrels_tsv,
    question_set,
    question_set_jsonl,
)
from qa.store import Store

EXPORTS = ("questions", "qrels")


class StrategySearchers:
    """A Searcher per strategy on one index (built once: each keeps its sentence cache)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Searcher] = {}
        self._lock = threading.Lock()

    def get(self, base: Searcher, name: str) -> tuple[Searcher, Any]:
        mode, settings = strategy(name, base.settings)
        if settings == base.settings:
            return base, mode
        key = (str(base.index.folder), name)
        with self._lock:
            searcher = self._cache.get(key)
            if searcher is None:
                # Drop searchers of replaced indexes, so an old index is not kept alive here.
                self._cache = {k: v for k, v in self._cache.items() if k[0] == key[0]}
                searcher = self._cache[key] = Searcher(base.index, base.embedder, settings)
        return searcher, mode


@dataclass
class StaffActions:
    """The staff view's operations over the visitors' live searcher and the feedback store."""

    live: LiveSearcher
    store: Store
    searchers: StrategySearchers = field(default_factory=StrategySearchers)

    def search(
        self, question: str, history: list[str], name: str, k: int, base: Searcher | None = None
    ) -> tuple[dict[str, Any], list[CandidateRow]]:
        """The summary and every candidate of one search with strategy ``name``."""
        searcher, mode = self.searchers.get(base or self.live.current, name)
        answer = searcher.search(question, history=history, k=k, mode=mode, with_candidates=True)
        summary = answer_summary(
            answer, name, k, searcher.second_stage_weights(mode), searcher.settings.subject_lift
        )
        return summary, candidate_rows(answer, k)

    def passage(self, passage_id: str) -> Passage:
        """A passage of the index being served, by id."""
        index = self.live.index
        row = index.passage_row().get(passage_id)
        if row is None:
            raise InputError(f"no passage {passage_id!r} in index {index.version}")
        return index.passages[row]

    def suggested_evidence(self, passage_id: str) -> str:
        """A phrase of the passage that no other passage of the index holds."""
        self.passage(passage_id)  # an unknown id is refused naming the index
        return suggest_for(passage_id, self.live.index.passages)

    def label(
        self, question: str, history: list[str], passage_id: str, relevant: bool
    ) -> dict[str, Any]:
        """Label a passage of the index being served relevant or not for a question."""
        index = self.live.index
        label_id = self.store.add_label(
            question=question,
            history=history,
            passage_id=passage_id,
            passage_text=self.passage(passage_id).text,
            relevant=relevant,
            index_version=index.version,
        )
        return {"id": label_id, "index_version": index.version}

    def add_example(
        self, question: str, passage_id: str, evidence: str | None = None, *,
        labelled: tuple[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        """Add ``question`` to the corpus's example questions, placed on ``passage_id`` by
        ``evidence`` (default: :meth:`suggested_evidence`), then rebuild the index so the next
        search uses it. ``labelled``, the (question, history) searched in the lab, is also
        labelled relevant to the passage: adding an example says the passage answers it.

        That question (or the example, without one) is then searched on the new index:
        "shown" says whether the passage is now in the answer. A passage whose own cosine with
        the question ("cosine") is under the threshold is shown only when the question comes
        within ``example_match`` of one of its examples ("example_cosine", the closest one's):
        an example in other words than the question reorders the candidates but clears
        nothing.

        The example is written before the rebuild; a rebuild that fails leaves it written and
        the old index serving (the error says so)."""
        self.passage(passage_id)  # an unknown id is refused naming the index
        if evidence is None or not evidence.strip():
            evidence = self.suggested_evidence(passage_id)
        example, rows, added = add_example(
            self.live.corpus_dir, question, evidence, self.live.index.passages,
            passage_id=passage_id, by="staff view",
        )
        placed = [self.live.index.passages[r].passage_id for r in rows]
        if labelled is not None:
            self.label(labelled[0], labelled[1], passage_id, True)
        if added:
            self.live.refresh()  # the example file is part of the corpus fingerprint
        asked, history = labelled or (example.question, [])
        answer = self.live.search(asked, history=history, with_candidates=True)
        mine = next((h for h in answer.candidates if h.passage.passage_id == passage_id), None)
        return {
            "shown": any(h.passage.passage_id == passage_id for h in answer.hits),
            "cosine": None if mine is None else mine.scores["dense"],
            "threshold": self.live.settings.abstain_threshold,
            "example_cosine": None if mine is None else mine.example_cosine,
            "example_match": self.live.settings.example_match,
            "added": added,
            "file": str(self.live.corpus_dir / EXAMPLES_FILE),
            "line": example.line,
            "question": example.question,
            "evidence": example.evidence,
            "passage_ids": placed,
            "index_version": self.live.index.version,
        }

    def labels_table(self, this_index: bool) -> list[list[Any]]:
        version = self.live.index.version if this_index else None
        return label_cells(self.store.labels(index_version=version))

    def export_text(self, fmt: str, all_versions: bool) -> tuple[str, str]:
        """A file name and the labels as a ``qa eval --questions`` file or BEIR qrels."""
        version = None if all_versions else self.live.index.version
        if fmt == "questions":
            items = question_set(self.store.labels(index_version=version))
            return "labelled-questions.jsonl", question_set_jsonl(items)
        if fmt == "qrels":
            return "labelled-qrels.tsv", qrels_tsv(qrels(self.store.labels(index_version=version)))
        raise InputError(f"format must be one of {', '.join(EXPORTS)}, not {fmt!r}")

    def groups(self, threshold: float, limit: int) -> list[Any]:
        """What visitors asked that the corpus does not cover, grouped by meaning."""
        return self.group(self.store.unanswered(limit=int(limit)), threshold)

    def group(self, rows: list[Any], threshold: float) -> list[Any]:
        return group_unanswered(rows, self.live.embedder, float(threshold))
