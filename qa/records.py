"""Immutable records that flow through the pipeline: documents, passages, hits, citations, answers.

Ids derive from content and position, never from chance, so the same corpus gives the same ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


def stable_id(*parts: object, length: int = 16) -> str:
    """A short hex id derived from ``parts`` (sha256), identical across runs and machines."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return digest[:length]


@dataclass(frozen=True)
class Dropped:
    """A span of a source file left out of passages, and why (for the staff document browser)."""

    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class Document:
    """One corpus file as read: its full decoded text, its recovered title and what was dropped."""

    doc_id: str
    source: str  # path relative to the corpus folder, with forward slashes
    title: str
    text: str
    dropped: tuple[Dropped, ...] = ()


@dataclass(frozen=True)
class Passage:
    """A retrievable unit: a verbatim slice ``document.text[start:end]`` under one section."""

    passage_id: str
    doc_id: str
    source: str
    title: str
    section: str  # "" when the passage sits before any heading
    start: int
    end: int
    text: str

    @staticmethod
    def make_id(source: str, start: int, end: int) -> str:
        """The id of the passage at ``source[start:end]``: stable for the same corpus."""
        return stable_id(source, start, end)

    def embedding_text(self) -> str:
        """What the dense model embeds: the passage text alone.

        Measured on the labelled question set, prefixing the title and section cut hit@1 from
        0.68 to 0.55 with all-MiniLM-L6-v2: in a corpus of articles on one topic the shared
        title pulls every passage of a document towards the same point.
        """
        return self.text

    def keyword_text(self) -> str:
        """What BM25 indexes: the section heading adds its words (an FAQ question, a label)."""
        return " \n".join(part for part in (self.section, self.text) if part)


@dataclass(frozen=True)
class Hit:
    """A passage returned for a query, with the evidence behind its rank.

    ``scores`` and ``ranks`` hold one entry per retriever that saw the passage ("dense", "bm25",
    "fused", ...); ranks are 1-based. ``highlight`` is the best-matching sentence as absolute
    offsets into the source text. ``cleared`` tells whether the passage passed the abstention
    threshold (its own cosine, or a question almost one of its examples). ``example`` is the
    passage's example question (:mod:`qa.examples`) closest to the query, where the second
    stage scored one: why an example pulled the passage up; ``example_cosine`` is its cosine
    with the query (the visitor's own words or the searched query, whichever is closer).
    """

    passage: Passage
    rank: int
    score: float
    scores: dict[str, float] = field(default_factory=dict, hash=False, compare=False)
    ranks: dict[str, int] = field(default_factory=dict, hash=False, compare=False)
    highlight: tuple[int, int] | None = None
    cleared: bool = True
    example: str | None = None
    example_cosine: float | None = None


@dataclass(frozen=True)
class Citation:
    """A numbered source in an answer: exactly what is shown and where it comes from."""

    number: int
    passage_id: str
    doc_id: str
    title: str
    section: str
    source: str
    start: int
    end: int
    text: str
    highlight: tuple[int, int] | None
    score: float


@dataclass(frozen=True)
class Answer:
    """The result of one search: the cited passages, or an abstention, never text of our own."""

    question: str
    effective_query: str
    abstained: bool
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...] = ()
    candidates: tuple[Hit, ...] = ()  # every candidate considered, for staff; empty unless asked
    index_version: str = ""
    #: Words of the question the corpus never uses ("pregnant"), as searched (a misspelling
    #: corrected, "pregnent" -> "pregnant"; otherwise as typed): the passages shown
    #: cannot speak to them, and the reader is told so. Empty when abstained.
    not_in_corpus: tuple[str, ...] = ()
    #: The earlier questions, as searched, that ``effective_query`` puts before this one (empty
    #: when the question stood alone): the chat quotes them one by one. One string when the
    #: context is not whole turns (a long one is cut at its start).
    context: tuple[str, ...] = ()
    #: When the question was tried as one about the corpus's subject (it would have abstained
    #: and named none; ``SearchSettings.read_as_subject``): the subject and how much closer the
    #: reading came to a passage than the subject alone, kept or not; for staff, who see why.
    subject_reading: tuple[str, float] | None = None
    #: For a follow-up that brings a topic of its own (:func:`qa.followup.new_topic`): whether
    #: its own words, read as a question about the corpus's subject, would be answered; None
    #: when that was not judged. A follow-up that abstained with the earlier turns although
    #: they would is read on its own words alone (``context`` is then empty).
    own_reading: bool | None = None

    @property
    def subject(self) -> str:
        """The corpus's subject ("ketamine") when the question named none and was answered as
        one about it (``effective_query`` then starts with it): a reading was tried and the
        answer is not an abstention (a reading that fell short keeps the abstention)."""
        return self.subject_reading[0] if self.subject_reading and not self.abstained else ""
