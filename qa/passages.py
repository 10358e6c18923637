"""Cutting documents into passages: verbatim runs of whole sentences under one section each.

A passage is what the bot cites, so it must read well alone and be exact source text:

- one paragraph of up to ``max_words`` words is one passage; a longer one is split at sentence
  boundaries into balanced parts (a single sentence longer than ``max_words`` stays whole);
- a paragraph under ``min_words`` is merged with its neighbour under the same section while the
  sum stays within ``max_words``; the span then covers the blank lines between them, nothing
  else. A short paragraph alone under its heading stays a passage: content is never dropped;
- titles, headings and FAQ questions are never passages; they name sections. Dropped furniture
  is never inside a passage: it ends one.

A passage's section is the nearest heading or FAQ question above it (so an answer carries its
question). A labelled paragraph ("Form: Ketamine is ...") adds its label: a list item (bulleted,
numbered, or after a lone bullet line) becomes "Key Features — Form"; an unbulleted one is a
run-in heading and its label stands alone ("Conclusion"), unless it answers an FAQ question
("2. How long ...? — Short answer"). The label names only its own paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from qa.records import Document, Passage
from qa.settings import PassageSettings
from qa.structure import Block, Kind, classify, sentence_spans

__all__ = ["sentence_spans", "split_corpus", "split_passages"]

SECTION_JOINER = " — "
RUN_ON_FACTOR = 3  # a real sentence is rarely over 3 x 120 words; longer is unpunctuated text


@dataclass(frozen=True)
class _Unit:
    """A paragraph, or a part of a long one, ready to become (part of) a passage."""

    start: int
    end: int
    words: int
    section: str
    group: int  # units of different groups are never merged (a heading or furniture between)


def split_passages(
    document: Document, settings: PassageSettings = PassageSettings()
) -> list[Passage]:
    """The passages of ``document``, in order, non-overlapping, each ``text[start:end]``."""
    text = document.text
    passages = []
    for start, end, section in _merge(_units(document, settings), settings):
        passages.append(
            Passage(
                passage_id=Passage.make_id(document.source, start, end),
                doc_id=document.doc_id,
                source=document.source,
                title=document.title,
                section=section,
                start=start,
                end=end,
                text=text[start:end],
            )
        )
    return passages


def split_corpus(
    documents: Iterable[Document], settings: PassageSettings = PassageSettings()
) -> list[Passage]:
    """The passages of every document, document by document."""
    return [p for document in documents for p in split_passages(document, settings)]


def _units(document: Document, settings: PassageSettings) -> list[_Unit]:
    text = document.text
    blocks = classify(text, [(d.start, d.end) for d in document.dropped])
    units: list[_Unit] = []
    heading, heading_kind, group = "", Kind.HEADING, 0
    for block in blocks:
        if block.kind is not Kind.PARAGRAPH:
            # A first line that did not give the document its title (front matter did) heads
            # a section like any heading.
            if block.kind is not Kind.TITLE or block.name != document.title:
                heading, heading_kind = block.name, block.kind
            group += 1
        else:
            if block.after_dropped:
                group += 1
            section = _section(heading, heading_kind, block)
            for start, end in _split_long(text, block.start, block.end, settings.max_words):
                units.append(_Unit(start, end, _words(text[start:end]), section, group))
            if block.name or _words(text[block.start : block.end]) > settings.max_words:
                group += 1  # labelled and split paragraphs stand alone
    return units


def _section(heading: str, heading_kind: Kind, block: Block) -> str:
    if not block.name:
        return heading
    if not heading or not (block.listed or heading_kind is Kind.QUESTION):
        return block.name
    return f"{heading}{SECTION_JOINER}{block.name}"


def _words(text: str) -> int:
    return len(text.split())


def _split_long(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """``text[start:end]`` as one span, or split at sentences into balanced parts.

    The parts minimise the summed squared distance of their word counts from the ideal
    ``total / ceil(total / max_words)``; a part of several sentences over ``max_words`` is
    forbidden, so only a single over-long sentence can exceed it. A "sentence" over
    ``RUN_ON_FACTOR * max_words`` words is text without sentence punctuation (a dump, a long
    unpunctuated list): it is cut at line breaks, or failing that between words.
    """
    total = _words(text[start:end])
    if total <= max_words:
        return [(start, end)]
    sentences = []
    for s, e in sentence_spans(text, start, end):
        if _words(text[s:e]) > RUN_ON_FACTOR * max_words:
            sentences.extend(_hard_cut(text, s, e, max_words))
        else:
            sentences.append((s, e))
    counts = [_words(text[s:e]) for s, e in sentences]
    ideal = total / -(-total // max_words)
    n = len(sentences)
    best: list[float] = [0.0] + [float("inf")] * n  # best[i]: cost of cutting sentences[:i]
    cut_at = [0] * (n + 1)
    for i in range(1, n + 1):
        size = 0
        for j in range(i - 1, -1, -1):  # sentences[j:i] form the last part
            size += counts[j]
            if size > max_words and i - j > 1:
                break
            cost = best[j] + (size - ideal) ** 2
            if cost < best[i]:
                best[i], cut_at[i] = cost, j
    parts = []
    i = n
    while i > 0:
        j = cut_at[i]
        parts.append((sentences[j][0], sentences[i - 1][1]))
        i = j
    return parts[::-1]


def _hard_cut(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Cut unpunctuated ``text[start:end]`` into pieces of at most ``max_words`` words, at line
    breaks where a piece can end on one, else between words."""
    pieces: list[tuple[int, int]] = []
    words = list(re.finditer(r"\S+", text[start:end]))
    first = 0
    while first < len(words):
        last = min(first + max_words, len(words)) - 1
        if last + 1 < len(words):
            for k in range(last, first + max_words // 2, -1):  # prefer a line break
                gap = text[start + words[k].end() : start + words[k + 1].start()]
                if "\n" in gap or "\r" in gap:
                    last = k
                    break
        pieces.append((start + words[first].start(), start + words[last].end()))
        first = last + 1
    return pieces


def _merge(units: list[_Unit], settings: PassageSettings) -> list[tuple[int, int, str]]:
    """Merge short neighbouring units of one group while the sum stays within ``max_words``."""
    merged: list[tuple[int, int, str]] = []
    current: _Unit | None = None
    for unit in units:
        if (
            current is not None
            and unit.group == current.group
            and unit.section == current.section
            and (current.words < settings.min_words or unit.words < settings.min_words)
            and current.words + unit.words <= settings.max_words
        ):
            current = _Unit(
                current.start, unit.end, current.words + unit.words, unit.section, unit.group
            )
            continue
        if current is not None:
            merged.append((current.start, current.end, current.section))
        current = unit
    if current is not None:
        merged.append((current.start, current.end, current.section))
    return merged
