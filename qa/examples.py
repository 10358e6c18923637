"""Example questions: how visitors ask for a passage, written down once and searched with it.

A corpus folder may hold ``.qa-examples.jsonl``, one example per line::

    {"question": "why does it have such a bad reputation", "evidence": "may face stigma"}

``evidence`` is a phrase copied from the body of the passage(s) that answer the question, matched
as the labelled question set's evidence is (case, whitespace and quote style folded: see
:func:`qa.questions.fold`), so an example follows its passage when the passages are cut
differently. Other keys (a note, who wrote it) are kept out of the way and ignored.

Visitors rarely use a passage's words: "bad reputation" for "stigma", "feel weird" for
"dissociation". A bi-encoder matches a question with another question far better than with the
passage that answers it (FAQ retrieval's question-question matching), and BM25 finds a
passage by words it never uses once they are indexed with it (doc2query's document expansion:
Nogueira et al., 2019, with questions people wrote instead of generated ones). So:

- BM25 indexes each passage with its examples' words (they do not count as words the corpus
  uses: the "never mentions" caution and the not-covered check still go by the documents);
- the examples are embedded as queries at build time, and the second stage gets two features
  per passage, the best cosine between the question (as searched, and in the visitor's own
  words) and the passage's examples (:data:`qa.settings.FEATURES` "example" and
  "example_own"); the passages whose examples come closest join the re-ranked candidates.
  A passage without examples stands in for its own example (its cosine with the question).

Examples only steer which passages are found. They are never shown, and abstention is still
judged on the cosine with the passages themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import CorpusError, InputError
from qa.questions import fold
from qa.records import Passage

#: The file, inside a corpus folder, that holds its example questions. Part of the corpus
#: fingerprint: editing it rebuilds the index.
EXAMPLES_FILE = ".qa-examples.jsonl"
#: Index files: the examples with the passages they belong to, and their unit vectors.
EXAMPLES_JSONL = "examples.jsonl"
EXAMPLE_VECTORS = "example_vectors.npy"

#: An embedder's encoding of texts as queries (no model import here).
Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Example:
    """One example question, the evidence that places it, and where it was read from."""

    question: str
    evidence: str
    line: int


def read_examples(corpus_dir: Path) -> list[Example]:
    """The corpus folder's example questions, in file order; [] without the file.

    A line that is not a JSON object with a non-empty "question" and "evidence" (strings) is an
    error naming the file and line: the build stops rather than index a part of the file."""
    from qa.beir import read_jsonl

    path = Path(corpus_dir) / EXAMPLES_FILE
    if not path.is_file():
        return []
    examples = []
    try:
        for number, row in read_jsonl(path):
            question, evidence = row.get("question"), row.get("evidence")
            if not (
                isinstance(question, str) and question.strip()
                and isinstance(evidence, str) and evidence.strip()
            ):
                raise CorpusError(
                    f'{path}, line {number}: needs {{"question": "...", "evidence": "..."}} '
                    "(both non-empty text)"
                )
            examples.append(Example(question.strip(), evidence.strip(), number))
    except InputError as exc:  # a corpus file: reported as the documents' errors are
        raise CorpusError(str(exc)) from exc
    return examples


class ExampleIndex:
    """Example questions' unit vectors and the passage rows each one belongs to."""

    def __init__(
        self, examples: Sequence[Example], rows: Sequence[Sequence[int]], vectors: np.ndarray
    ) -> None:
        if len(examples) != len(rows) or len(examples) != len(vectors) or vectors.ndim != 2:
            raise ValueError(
                f"{len(examples)} examples, {len(rows)} row lists and vectors of shape "
                f"{vectors.shape}"
            )
        self.examples = list(examples)
        self.rows = [tuple(int(r) for r in placed) for placed in rows]
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._of_row: dict[int, list[int]] = {}
        for n, placed in enumerate(self.rows):
            for row in placed:
                self._of_row.setdefault(row, []).append(n)

    def __len__(self) -> int:
        return len(self.examples)

    def encoded_by(self, encode: Encode) -> ExampleIndex:
        """The same examples with vectors from another model's ``encode``."""
        return ExampleIndex(self.examples, self.rows, encode([e.question for e in self.examples]))

    def expansions(self, passages: int) -> list[str]:
        """Per passage row, its example questions joined: what BM25 indexes with its text."""
        joined: list[list[str]] = [[] for _ in range(passages)]
        for example, rows in zip(self.examples, self.rows, strict=True):
            for row in rows:
                joined[row].append(example.question)
        return [" ".join(questions) for questions in joined]

    def fits(self, passages: int, dim: int) -> bool:
        """Whether these examples belong to an index of ``passages`` rows of ``dim`` numbers."""
        return self.vectors.shape[1] == dim and all(
            0 <= row < passages for rows in self.rows for row in rows
        )

    @classmethod
    def build(
        cls, examples: Sequence[Example], passages: Sequence[Passage], encode: Encode
    ) -> tuple[ExampleIndex, list[Example]]:
        """The index of the examples whose evidence some passage holds, and the others (their
        evidence is in no passage: mistyped, or the document changed)."""
        texts = [fold(p.text) for p in passages]
        placed, rows, unplaced = [], [], []
        for example in examples:
            phrase = fold(example.evidence)
            found = [row for row, text in enumerate(texts) if phrase in text]
            if found:
                placed.append(example)
                rows.append(found)
            else:
                unplaced.append(example)
        vectors = encode([e.question for e in placed]) if placed else np.zeros((0, 1))
        return cls(placed, rows, vectors), unplaced

    def similarities(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        """Cosines of each query vector with every example: (queries, examples)."""
        stacked = np.stack([np.asarray(q, dtype=np.float32) for q in queries])
        return stacked @ self.vectors.T

    def scores(self, sims: np.ndarray, rows: np.ndarray, fallback: np.ndarray) -> np.ndarray:
        """For each of ``rows``, the best of one query's cosines with the row's examples
        (``sims``, a row of :meth:`similarities`), or its ``fallback`` (the query's cosine with
        the passage itself) for a row without any."""
        out = np.asarray(fallback, dtype=np.float64).copy()
        for n, row in enumerate(rows):
            mine = self._of_row.get(int(row))
            if mine:
                out[n] = float(sims[mine].max())
        return out

    def nearest_rows(self, sims: np.ndarray, count: int) -> list[int]:
        """Up to ``count`` distinct passage rows whose examples come closest to any of the
        queries of ``sims`` (:meth:`similarities`), closest first."""
        if not len(self) or count <= 0:
            return []
        best = np.asarray(sims).max(axis=0)
        found: list[int] = []
        for n in np.argsort(-best, kind="stable"):
            for row in self.rows[int(n)]:
                if row not in found:
                    found.append(row)
            if len(found) >= count:
                break
        return found[:count]

    def save(self, folder: Path) -> list[str]:
        """Write plain files into ``folder``; returns their names (for the manifest)."""
        with (folder / EXAMPLES_JSONL).open("w", encoding="utf-8") as handle:
            for example, rows in zip(self.examples, self.rows, strict=True):
                row = {"question": example.question, "evidence": example.evidence,
                       "line": example.line, "rows": list(rows)}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        np.save(folder / EXAMPLE_VECTORS, self.vectors, allow_pickle=False)
        return [EXAMPLES_JSONL, EXAMPLE_VECTORS]

    @classmethod
    def load(cls, folder: Path) -> ExampleIndex | None:
        """The saved examples, or None for an index built without them."""
        path = folder / EXAMPLES_JSONL
        if not path.is_file():
            return None
        with path.open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        vectors = np.load(folder / EXAMPLE_VECTORS, allow_pickle=False)
        examples = [Example(r["question"], r["evidence"], int(r["line"])) for r in rows]
        return cls(examples, [r["rows"] for r in rows], vectors)
