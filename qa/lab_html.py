"""The staff view's HTML: a search's summary line and a document shown the way it was split.

Corpus text and questions are untrusted (a scraped page can hold markup); every piece goes
through :func:`qa.render.escape`, and the only tags are this module's own.

The staff page shows these fragments with ``gr.Markdown`` (Gradio 6's HTML component evaluates
its template with ``new Function()``, which the CSP forbids). Markdown passes an HTML block
through untouched only up to the first blank line, so every fragment is a single line: line
breaks of the source become ``&#10;`` references, which ``white-space: pre-wrap`` still shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qa.lab import Segment
from qa.render import escape as _escape


def escape(text: str) -> str:
    """:func:`qa.render.escape`, with line breaks as character references (see above)."""
    return _escape(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "&#10;")


def table_options(headers: Sequence[str]) -> dict[str, Any]:
    """How a lab table is laid out: fixed column widths (a header never wraps letter by
    letter), the passage column wide, and the first two columns pinned while the scores
    scroll into view."""
    widths = {"passage": "360px", "document": "180px", "section": "180px", "passage id": "170px"}
    return {
        "headers": list(headers),
        "column_widths": [widths.get(h, "100px") for h in headers],
        "pinned_columns": 2,
        "interactive": False,
        "wrap": True,
    }


CSS = """
.lab-summary { margin: 0; font-size: .95rem; }
.lab-summary code { overflow-wrap: anywhere; }
.lab-doc { white-space: pre-wrap; overflow-wrap: anywhere; font-family: inherit;
  line-height: 1.5; margin: 0; }
.lab-p { border-radius: 3px; padding: 0 .1em; }
.lab-p0 { background: #dbeafe; color: #111827; }
.lab-p1 { background: #dcfce7; color: #111827; }
.lab-n { font-size: .7rem; font-weight: 600; color: #1e3a8a; vertical-align: super; }
.lab-drop { background: #fee2e2; color: #7f1d1d; }
.lab-out { color: #6b7280; font-style: italic; }
.lab-legend span { margin-right: 1rem; }
"""


def summary_html(summary: Mapping[str, Any]) -> str:
    """One line per search: strategy, effective query, outcome and index version."""
    outcome = (
        "abstained (no candidate cleared the threshold)"
        if summary["abstained"]
        else f"{summary['shown']} passage(s) shown"
    )
    return (
        '<p class="lab-summary">'
        f"<strong>{escape(str(summary['strategy']))}</strong>, k={int(summary['k'])}: "
        f"{escape(outcome)}; {int(summary['cleared'])} of {int(summary['candidates'])} "
        "candidates cleared the threshold. "
        f"Effective query: <code>{escape(str(summary['effective_query']))}</code>. "
        f"{escape(_subject_reading(summary.get('subject_reading')))}"
        f"{escape(_own_reading(summary.get('own_reading')))}"
        f"{escape(_second_stage(summary.get('second_stage') or {}))} "
        f"Index <code>{escape(str(summary['index_version']))}</code>.</p>"
    )


def _subject_reading(reading: Mapping[str, Any] | None) -> str:
    """Whether a question naming no subject was read as one about the corpus's, and why."""
    if not reading:
        return ""
    subject, lift, needed = reading["subject"], float(reading["lift"]), reading.get("needed")
    bar = "" if needed is None else f" (needs {float(needed):.3f})"
    said = (
        f"It named no subject; read as a question about “{subject}”, it came {lift:+.3f} "
        f"closer to a passage than “{subject}” alone{bar}"
    )
    return f"{said}. " if reading["kept"] else f"{said}; it stays abstained. "


def _own_reading(passed: bool | None) -> str:
    """Whether a follow-up's own words, read as a question about the corpus's subject, would
    be answered: a follow-up with a topic of its own is "not covered" when they would not."""
    if passed is None:
        return ""
    if passed:
        return (
            "A follow-up with a topic of its own: its own words, read as a question about the "
            "subject, would be answered. "
        )
    return (
        "A follow-up with a topic of its own: its own words, read as a question about the "
        "subject, would not be answered, so it is not covered. "
    )


def _second_stage(weights: Mapping[str, Any]) -> str:
    """The second stage's weights as a sentence ("second-stage score" in the table is their sum
    over the standardised features)."""
    if not weights:
        return "No second stage."
    terms = ", ".join(f"{name} {float(w):+.2f}" for name, w in weights.items())
    return f"Second stage orders the first candidates by: {terms}."


def legend_html() -> str:
    return (
        '<p class="lab-legend">'
        '<span class="lab-p lab-p0">passage</span>'
        '<span class="lab-p lab-p1">next passage</span>'
        '<span class="lab-drop">dropped furniture (hover: why)</span>'
        '<span class="lab-out">in no passage (headings)</span></p>'
    )


def document_html(text: str, segments: Sequence[Segment]) -> str:
    """The full document text with passages numbered and shaded, dropped spans marked with
    their reason, and the whitespace between segments kept as it is in the source."""
    parts = [legend_html(), '<div class="lab-doc">']
    position = 0
    number = 0
    for seg in segments:
        if seg.start > position:
            parts.append(escape(text[position : seg.start]))
        body = escape(seg.text)
        if seg.kind == "passage":
            number += 1
            title = f"{seg.passage_id} · {seg.label}" if seg.label else seg.passage_id
            parts.append(
                f'<span class="lab-p lab-p{(number - 1) % 2}" title="{escape(title)}">'
                f'<span class="lab-n">[{number}]</span>{body}</span>'
            )
        elif seg.kind == "dropped":
            parts.append(f'<del class="lab-drop" title="dropped: {escape(seg.label)}">{body}</del>')
        else:
            parts.append(f'<span class="lab-out">{body}</span>')
        position = max(position, seg.end)
    parts.append(escape(text[position:]))
    parts.append("</div>")
    return "".join(parts)


def passage_html(title: str, section: str, passage_id: str, text: str) -> str:
    """The full text of the candidate a staff member selected, ready to label."""
    label = f"{title} — {section}" if section else title
    return (
        f"<p><strong>{escape(label)}</strong> <code>{escape(passage_id)}</code></p>"
        f'<div class="lab-doc">{escape(text)}</div>'
    )
