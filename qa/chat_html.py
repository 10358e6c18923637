"""The chat's HTML: answers as numbered source cards, the not-covered reply, the source page.

Every piece of corpus or visitor text goes through :func:`qa.render.escape` here and nowhere
else, so a passage or a question holding ``<img onerror=...>``, an inline ``style`` overlay or a
Markdown image reaches the page as inert text. The only markup is this module's own. The chat
shows it with Markdown rendering off (Markdown in a passage stays literal text); Gradio's
sanitizer then runs over it as a second line of defence, not the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import quote

from qa.records import Answer, Citation, Document
from qa.render import (
    NOT_COVERED,
    citation_label,
    citation_location,
    escape,
    highlighted_html,
    not_in_corpus_text,
)

NOTICE = (
    "This is information from the articles listed here, not medical advice. For advice about "
    "your own health, talk to a doctor or another healthcare professional."
)
SOURCE_ROUTE = "source"  # the source page lives at <app root>/source/<passage id>
PASSAGE_ANCHOR = "qa-passage"


def _line(text: str) -> str:
    """Escaped text on one line (a blank line would end an HTML block inside Markdown)."""
    return escape(" ".join(text.split()))


def notice_html() -> str:
    """The always-visible notice that this is not medical advice."""
    return f'<p class="qa-notice" role="note">{escape(NOTICE)}</p>'


def intro_html(title: str, titles: Sequence[str]) -> str:
    """What the bot covers: its name, what it does, and the documents it answers from."""
    docs = "".join(f"<li>{_line(t)}</li>" for t in titles)
    return (
        f'<div class="qa-intro"><h1>{_line(title)}</h1>'
        "<p>Ask a question and get the passages of these articles that answer it, word for "
        "word, with their source. The bot writes nothing of its own.</p>"
        f'<details class="qa-docs"><summary>The articles ({len(titles)})</summary>'
        f"<ul>{docs}</ul></details></div>"
    )


def user_html(text: str) -> str:
    """A visitor's message as they typed it, as text (line breaks kept by CSS)."""
    return f'<div class="qa-user">{escape(text)}</div>'


def source_href(citation: Citation) -> str:
    """Relative link to the source page at this passage (relative, so a root path works)."""
    return f"{SOURCE_ROUTE}/{quote(citation.passage_id, safe='')}#{PASSAGE_ANCHOR}"


def card_html(citation: Citation) -> str:
    """One numbered source card: label, verbatim passage with its best sentence marked, link."""
    passage = highlighted_html(citation.text, citation.start, citation.highlight)
    return (
        f'<div class="qa-card" data-passage-id="{escape(citation.passage_id)}">'
        f'<div class="qa-cite">{escape(citation_label(citation))}</div>'
        f'<blockquote class="qa-passage">{passage}</blockquote>'
        f'<div class="qa-where">{escape(citation_location(citation))} · '
        f'<a class="qa-open" href="{escape(source_href(citation))}" '
        f'aria-label="Open the article at passage {citation.number}">'
        "Open the article at this passage</a></div></div>"
    )


def searching_for_html(answer: Answer) -> str:
    """The line that says what was searched, shown only when it is not the question as typed.

    A follow-up names the earlier questions it was read with, each quoted on its own ("Read
    with your earlier questions: “What are the side effects of ketamine?”, then “do they go
    away?”"); a corrected question says what was searched instead ("Searching for: “side
    effects”"); a corrected follow-up says both. A question that named no subject and was
    answered as one about the corpus's says so ("Read as a question about “ketamine”")."""
    query = answer.effective_query
    if query == answer.question:
        return ""
    context = answer.context
    subject = answer.subject
    if subject:
        query = query[len(subject) :].strip()
    searched = query[len(" ".join(context)) :].strip() if context else query
    parts = []
    if searched != answer.question:
        parts.append(f"Searching for: <q>{escape(searched)}</q>")
    if context:
        quoted = ", then ".join(f"<q>{escape(t)}</q>" for t in context)
        label = "question" if len(context) == 1 else "questions"
        read = "read" if parts else "Read"
        parts.append(f"{read} with your earlier {label}: {quoted}")
    if subject:
        read = "read" if parts else "Read"
        parts.append(f"{read} as a question about <q>{escape(subject)}</q>")
    return f'<p class="qa-query">{", ".join(parts)}</p>'


def not_in_corpus_html(answer: Answer) -> str:
    """The caution line when the articles never use some words of the question."""
    if not answer.not_in_corpus:
        return ""
    text = escape(not_in_corpus_text(answer.not_in_corpus))
    return f'<p class="qa-missing" role="note">{text}</p>'


def not_covered_html(titles: Sequence[str], examples: Sequence[str]) -> str:
    """The abstention: a plain "not covered", what the articles do cover, questions to try."""
    parts = [f'<p class="qa-not-covered"><strong>{escape(NOT_COVERED)}</strong></p>']
    if titles:
        docs = "".join(f"<li>{escape(t)}</li>" for t in titles)
        parts.append(f'<p>They cover:</p><ul class="qa-topics">{docs}</ul>')
    if examples:
        # A link to the question box: the page script asks the question when it is clicked
        # (or Enter is pressed on it); without the script it only moves focus to the box.
        asks = "".join(
            f'<li><a class="qa-ask" href="#qa-question">{escape(q)}</a></li>' for q in examples
        )
        parts.append(f'<p>You could ask, for example:</p><ul class="qa-examples">{asks}</ul>')
    return "".join(parts)


def answer_html(answer: Answer, titles: Sequence[str], examples: Sequence[str]) -> str:
    """An answer: the query line if rewritten, then the source cards or the not-covered reply."""
    body = (
        not_covered_html(titles, examples)
        if answer.abstained
        else not_in_corpus_html(answer) + "".join(card_html(c) for c in answer.citations)
    )
    return f'<div class="qa-answer">{searching_for_html(answer)}{body}</div>'


@lru_cache(maxsize=4)
def crisis_html(markdown: str) -> str:
    """The fixed, reviewed crisis wording (trusted Markdown) as HTML; raw HTML in it is not
    honoured, so even this text cannot inject markup."""
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark", {"html": False}).render(markdown).strip()
    # The chat shows line breaks as such: drop those between tags, soft breaks become spaces.
    rendered = rendered.replace(">\n<", "><").replace("\n", " ")
    return f'<div class="qa-crisis" role="alert">{rendered}</div>'


def message_html(text: str) -> str:
    """A short plain reply of our own (empty question, too long, busy, error)."""
    return f'<p class="qa-info">{escape(text)}</p>'


# --- the source page: the whole document with the passage marked, opened at that place ------

SOURCE_CSS = """
body { font: 16px/1.55 system-ui, sans-serif; margin: 0 auto; max-width: 46rem;
       padding: 1rem; color: #1f2937; background: #fff; }
h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
.meta { color: #4b5563; font-size: .9rem; margin: 0 0 1rem; }
.notice { background: #fef3c7; border-left: 4px solid #d97706; padding: .5rem .75rem;
          font-size: .9rem; }
.doc { white-space: pre-wrap; overflow-wrap: anywhere; }
mark { background: #fde68a; scroll-margin-top: 30vh; padding: .1em 0; }
@media (prefers-color-scheme: dark) {
  body { background: #111827; color: #f3f4f6; } .meta { color: #9ca3af; }
  .notice { background: #3b2f0b; } mark { background: #854d0e; color: #fff; } }
"""


def source_page_html(document: Document, start: int, end: int, label: str) -> str:
    """A standalone page with the whole document, the passage ``[start:end]`` marked and
    anchored so the browser opens it at that place (no script needed)."""
    text = document.text
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    body = (
        f'{escape(text[:start])}<mark id="{PASSAGE_ANCHOR}">{escape(text[start:end])}</mark>'
        f"{escape(text[end:])}"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(document.title)}</title><style>{SOURCE_CSS}</style></head><body>"
        f"<h1>{escape(document.title)}</h1>"
        f'<p class="meta">{escape(label)} · source file {escape(document.source)}</p>'
        f'<p class="notice">{escape(NOTICE)}</p>'
        f'<div class="doc">{body}</div></body></html>'
    )


def missing_source_html() -> str:
    """The source page for a passage that is no longer in the index (it was rebuilt)."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found</title>'
        f"<style>{SOURCE_CSS}</style></head><body><h1>This passage is no longer here</h1>"
        "<p>The articles were updated since this answer was given. Ask the question again "
        "to see the current passages.</p></body></html>"
    )
