"""Turning an Answer into JSON, plain text or Markdown: formatting only; the data stays put."""

from __future__ import annotations

import html
from typing import Any

from qa.passages import SECTION_JOINER
from qa.records import Answer, Citation

NOT_COVERED = "The articles here don't cover that."


def answer_json(answer: Answer) -> dict[str, Any]:
    """The stable JSON shape of ``qa search --json`` and the chat API."""
    return {
        "query": answer.question,
        "effective_query": answer.effective_query,
        "abstained": answer.abstained,
        "not_in_corpus": list(answer.not_in_corpus),
        "read_as_subject": answer.subject or None,
        "index_version": answer.index_version,
        "results": [
            {
                "rank": c.number,
                "score": round(c.score, 6),
                "scores": {k: round(v, 6) for k, v in hit.scores.items()},
                "passage_id": c.passage_id,
                "doc_id": c.doc_id,
                "title": c.title,
                "section": c.section,
                "text": c.text,
                "source": c.source,
                "start": c.start,
                "end": c.end,
                "highlight": list(c.highlight) if c.highlight else None,
            }
            for c, hit in zip(answer.citations, answer.hits, strict=True)
        ],
    }


def citation_label(citation: Citation) -> str:
    """``[1] Title — Section`` (the section is left out when the passage has none, and so is a
    heading that only repeats the title: "The Advantages — Advantages — Reduces Anxiety")."""
    title = _heading_key(citation.title)
    parts = [
        p for p in citation.section.split(SECTION_JOINER) if p and _heading_key(p) != title
    ]
    return SECTION_JOINER.join([f"[{citation.number}] {citation.title}", *parts])


def citation_location(citation: Citation) -> str:
    """Where the passage is: ``source.txt, characters 1028–1447`` (offsets into the file)."""
    return f"{citation.source}, characters {citation.start}–{citation.end}"


def _heading_key(heading: str) -> str:
    words = heading.casefold().split()
    return " ".join(words[1:] if words[:1] in (["the"], ["a"], ["an"]) else words)


def answer_text(answer: Answer) -> str:
    """Plain text for a terminal: numbered citations with their verbatim passages."""
    lines = []
    if answer.effective_query != answer.question:
        lines.append(f"Searching for: {answer.effective_query}")
    if answer.subject:
        lines.append(f"(read as a question about {answer.subject})")
    if answer.abstained:
        lines.append(NOT_COVERED)
        return "\n".join(lines) + "\n"
    if answer.not_in_corpus:
        lines += [not_in_corpus_text(answer.not_in_corpus), ""]
    for c in answer.citations:
        lines.append(citation_label(c))
        lines.append(f"    {c.source} [{c.start}:{c.end}]  score {c.score:.4f}")
        lines.extend("    " + line for line in c.text.splitlines())
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def not_in_corpus_text(words: tuple[str, ...]) -> str:
    """The caution above passages that cannot speak to some of the question's words."""
    quoted = [f"“{w}”" for w in words]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return (
        f"These articles never mention {listed}, so the passages below may not answer that "
        "part of your question."
    )


def escape(text: str) -> str:
    """HTML-escape untrusted text (corpus or visitor input) so it renders inert."""
    return html.escape(text, quote=True)


def highlighted_html(text: str, offset: int, highlight: tuple[int, int] | None) -> str:
    """Escaped ``text`` (which begins at source offset ``offset``) with the highlight in <mark>."""
    if not highlight:
        return escape(text)
    a = max(0, highlight[0] - offset)
    b = min(len(text), highlight[1] - offset)
    if a >= b:
        return escape(text)
    return f"{escape(text[:a])}<mark>{escape(text[a:b])}</mark>{escape(text[b:])}"
