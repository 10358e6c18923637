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

Staff add to the file from the retrieval lab or ``qa staff add-example`` (:func:`add_example`):
a question a visitor asked, placed on the passage that answers it by a phrase of that passage
(:func:`suggest_evidence` proposes one that no other passage holds).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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

#: A suggested evidence phrase's length in words: long enough to name one passage, short
#: enough to survive an edit of the text around it.
PHRASE_WORDS = (6, 12)
#: An added example whose phrase is in more passages than this is refused: the phrase is too
#: common to say which passage answers (a repeated sentence sits in two or three).
MAX_PLACES = 3
#: Longer questions are refused: an example is a question, not a pasted document.
MAX_QUESTION_CHARS = 500

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
            found = place(example.evidence, texts)
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

    def closest(self, sims: np.ndarray, row: int) -> tuple[Example, float] | None:
        """The example of passage ``row`` nearest to any of the queries of ``sims``
        (:meth:`similarities`), with that cosine, or None when the passage has none: what the
        lab names, and what clears a passage asked almost word for word."""
        mine = self._of_row.get(int(row))
        if not mine:
            return None
        best = np.asarray(sims)[:, mine].max(axis=0)
        n = int(np.argmax(best))
        return self.examples[mine[n]], float(best[n])

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


# --- adding examples -------------------------------------------------------------------------


def suggest_evidence(text: str, others: Sequence[str]) -> str:
    """A phrase of ``text`` (its words joined by single spaces) that none of ``others`` holds,
    for placing an example on this passage: the shortest of :data:`PHRASE_WORDS` words, as
    early in the text as there is one. A text too short, or repeated elsewhere word for word,
    gives its first words (the example then goes to every passage that repeats them)."""
    words = text.split()
    folded = [fold(other) for other in others]
    shortest, longest = PHRASE_WORDS
    for start in range(max(1, len(words) - shortest + 1)):
        for length in range(shortest, min(longest, len(words) - start) + 1):
            phrase = " ".join(words[start:start + length])
            if not place(phrase, folded):
                return phrase
    return " ".join(words[:longest])


def suggest_for(passage_id: str, passages: Sequence[Passage]) -> str:
    """:func:`suggest_evidence` for the passage ``passage_id`` among ``passages`` (others with
    the very same text are not counted against it)."""
    chosen = next((p for p in passages if p.passage_id == passage_id), None)
    if chosen is None:
        raise InputError(f"no passage {passage_id}")
    return suggest_evidence(chosen.text, [p.text for p in passages if p.text != chosen.text])


def place(evidence: str, folded: Sequence[str]) -> list[int]:
    """The rows of the ``folded`` passage texts (:func:`qa.questions.fold`) that hold
    ``evidence``, folded the same way: how an example is placed."""
    phrase = fold(evidence)
    return [row for row, text in enumerate(folded) if phrase and phrase in text]


def add_example(
    corpus_dir: Path,
    question: str,
    evidence: str,
    passages: Sequence[Passage],
    *,
    passage_id: str | None = None,
    by: str = "",
) -> tuple[Example, list[int], bool]:
    """Append an example question to the corpus's :data:`EXAMPLES_FILE`.

    ``evidence`` must be in one to :data:`MAX_PLACES` of ``passages`` (the index's, so the
    example is placed when the index is rebuilt), and in the passage ``passage_id`` when one is
    named. Returns the example, the rows it is placed on, and whether it was added: the same
    question with the same phrase already there is not written twice. Errors are
    :class:`~qa.errors.InputError` and leave the file as it was.

    The line is appended under an exclusive lock and flushed to disk, so two staff adding at
    once both land, and an existing file is never rewritten."""
    question, evidence = " ".join(question.split()), " ".join(evidence.split())
    if not question:
        raise InputError("the example question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(
            f"the example question is {len(question)} characters; at most {MAX_QUESTION_CHARS}"
        )
    if not evidence:
        raise InputError("the evidence phrase is empty: copy a few words of the passage")
    rows = place(evidence, [fold(p.text) for p in passages])
    if passage_id is not None and passage_id not in {passages[r].passage_id for r in rows}:
        raise InputError(
            f"the phrase {evidence!r} is not in passage {passage_id}: copy it from its text"
        )
    if not rows:
        raise InputError(f"the phrase {evidence!r} is in no passage: copy it from a passage")
    if len(rows) > MAX_PLACES:
        raise InputError(
            f"the phrase {evidence!r} is in {len(rows)} passages: use a longer phrase that "
            "names the one that answers"
        )
    path = Path(corpus_dir) / EXAMPLES_FILE
    row = {"question": question, "evidence": evidence,
           "added": datetime.now(UTC).isoformat(timespec="seconds")}
    if by:
        row["by"] = by
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        handle.seek(0)
        existing = handle.read()
        lines = existing.count(b"\n") + (0 if existing.endswith(b"\n") or not existing else 1)
        key = (fold(question), fold(evidence))
        for example in read_examples(corpus_dir):  # refuses to append to a malformed file
            if (fold(example.question), fold(example.evidence)) == key:
                return example, rows, False
        start = b"\n" if existing and not existing.endswith(b"\n") else b""
        handle.write(start + json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return Example(question, evidence, lines + 1), rows, True
