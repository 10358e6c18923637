"""The shape of a plain-text article: lines, sentences, title, headings, questions, paragraphs.

Saved web pages lose their markup, so structure is recovered from the look of each line:

- a **heading** is a short line (at most ``HEADING_MAX_WORDS`` words) that starts with a capital
  or a number and does not end like a sentence ("1. Understanding Severe Depression",
  "Treatment for Anxiety Disorders:", "Bottom Line:"); a Markdown ``#`` line is always one;
- an **FAQ question** is a single-sentence line ending in "?" that is followed by its answer;
- a **labelled paragraph** starts with a short label and a colon followed by sentences
  ("Form: Ketamine is available ...", "- Quick Relief: Unlike ..."): it is content, and its label
  names a sub-section;
- everything else is a **paragraph** (content). A line that ends mid-sentence continues into the
  next line when that line does not start a list item (hard-wrapped text).

Guards that keep content from being mistaken for headings: bulleted lines ("- Nasal spray") are
never headings; three or more heading-like lines in a row are a list of short items, hence
content; two questions in a row are content (a list of questions, not an FAQ); a line starting in
lower case after a heading-like line makes that line the start of a wrapped paragraph.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

HEADING_MAX_WORDS = 12  # the longest heading of the default corpus has 9 words
TITLE_MAX_WORDS = 16
QUESTION_MAX_WORDS = 25
LABEL_MAX_WORDS = 6

BULLET_CHARS = "-•*–—·"
_BULLET_RE = re.compile(r"[-•*–—·]\s+")
_ENUM_RE = re.compile(r"\(?\d{1,3}[.)]\s+")
_MD_HEADING_RE = re.compile(r"#{1,6}\s+")
_LABEL_RE = re.compile(r"(?P<label>[^:.!?;]{1,60}?):\s+(?P<rest>\S.*)", re.DOTALL)
_CLOSERS = "\"'”’)]»"
_SMALL_WORDS = frozenset(str.split("a an and as at by for from in of on or the to vs with"))


@dataclass(frozen=True)
class Line:
    """A non-blank line: ``text`` is ``source[start:end]``, trimmed of surrounding whitespace."""

    start: int
    end: int
    text: str


class Kind(StrEnum):
    TITLE = "title"
    HEADING = "heading"
    QUESTION = "question"
    PARAGRAPH = "paragraph"


@dataclass(frozen=True)
class Block:
    """A classified run of text: ``source[start:end]``, trimmed.

    ``name`` is the display name of a title, heading or question, and the label of a labelled
    paragraph ("" otherwise). ``listed`` tells whether a paragraph is a list item (bulleted,
    numbered, or after a lone bullet line). ``after_dropped`` marks a block that follows
    dropped furniture: passages never run across it.
    """

    kind: Kind
    start: int
    end: int
    name: str = ""
    listed: bool = False
    after_dropped: bool = False  # dropped furniture lies between this block and the one before


def split_lines(text: str) -> list[Line]:
    """Every non-blank line of ``text`` with its trimmed span; any line ending (LF, CRLF, CR)."""
    lines = []
    for match in re.finditer(r"[^\r\n]+", text):
        raw = match.group()
        stripped = raw.strip()
        if stripped:
            start = match.start() + (len(raw) - len(raw.lstrip()))
            lines.append(Line(start, start + len(stripped), stripped))
    return lines


# ---------------------------------------------------------------------------------------- sentences

# Words whose trailing period does not end a sentence (compared lower case, without the period).
ABBREVIATIONS = frozenset(
    str.split(
        "e.g i.e eg ie dr mr mrs ms prof vs al cf fig figs no nos approx ca st jr sr inc ltd "
        "dept vol pp p a.m p.m ph.d u.s u.k m.d b.a"
    )
)
_END_RE = re.compile(r"([.!?…]+)[\"'”’)\]»]*(?=\s+[\"'“‘(\[«]?[A-Z0-9À-Ý])")
_DOTTED_RE = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")


def _ends_sentence(text: str, punct_start: int, punct: str, line_start: int) -> bool:
    """Whether the punctuation at ``punct_start`` ends a sentence, or belongs to a word."""
    if punct != ".":
        return True
    window = max(line_start, punct_start - 80)  # enough for a few words; keeps long lines linear
    before = text[window:punct_start].split()
    if not before:
        return True
    token = before[-1].lstrip("\"'“‘([«")
    if not token:
        return True
    if token.lower() in ABBREVIATIONS or _DOTTED_RE.fullmatch(token):
        return False
    if token.isdigit() and window == line_start and len(before) == 1:  # "1. Rapid ..."
        return False
    if len(token) == 1 and token.isupper():  # an initial ("J. Smith"), unless "vitamin D."
        previous = before[-2] if len(before) > 1 else ""
        return not (not previous or previous[:1].isupper() or previous[-1] in ".!?")
    return True


_NEWLINE_RE = re.compile(r"\r\n|\r|\n")
_NEXT_CHAR_RE = re.compile(r"[ \t]*(.?)", re.DOTALL)


def _line_start(text: str, position: int) -> int:
    return max(text.rfind("\n", 0, position), text.rfind("\r", 0, position)) + 1


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]`` as absolute ``(start, end)`` offsets, trimmed.

    A sentence ends at ".", "!", "?" or "…" (plus closing quotes or brackets) followed by space
    and a capital, a digit or an opening quote, unless the period belongs to an abbreviation
    ("e.g.", "Dr.", "vs.", "U.S."), an initial or a line's enumerator ("1."); decimals ("2.5")
    and hyphenated names ("N-methyl-D-aspartate") have no space after the dot, so they never
    split. A blank line always ends a sentence; a single line break does too unless the next
    line starts in lower case (hard-wrapped text). Decisions depend on the whole line, not on
    where the range starts, so a sub-range gives the same boundaries as its paragraph.
    """
    stop = len(text) if end is None else end
    cuts: list[int] = []
    line_starts = [_line_start(text, start)]
    for newline in _NEWLINE_RE.finditer(text, start, stop):
        line_starts.append(newline.end())
        following = _NEXT_CHAR_RE.match(text, newline.end(), stop)
        if not (following and following.group(1).islower()):
            cuts.append(newline.start())
    for match in _END_RE.finditer(text, start, stop):
        line_start = line_starts[bisect.bisect_right(line_starts, match.start()) - 1]
        if _ends_sentence(text, match.start(), match.group(1), line_start):
            cuts.append(match.end())
    spans = []
    previous = start
    for cut in [*sorted(set(cuts)), stop]:
        piece = text[previous:cut]
        if piece.strip():
            left = previous + len(piece) - len(piece.lstrip())
            spans.append((left, left + len(piece.strip())))
        previous = cut
    return spans


# ------------------------------------------------------------------------------------- line shapes


def strip_markup(text: str) -> str:
    """The text of a line without Markdown heading marks or surrounding emphasis."""
    text = _MD_HEADING_RE.sub("", text, count=1) if text.startswith("#") else text
    text = text.rstrip("#").strip()
    for mark in ("**", "__"):
        if text.startswith(mark) and text.endswith(mark) and len(text) > 2 * len(mark):
            text = text[len(mark) : -len(mark)].strip()
    return text


def is_bulleted(text: str) -> bool:
    """Whether a line is a bullet-list item ("- Quick Relief: ...", "• Nasal spray")."""
    return bool(_BULLET_RE.match(text))


def _unlisted(text: str) -> str:
    """The line without its bullet or enumerator."""
    return _ENUM_RE.sub("", _BULLET_RE.sub("", text, count=1), count=1)


def _final_char(text: str) -> str:
    return text.rstrip(_CLOSERS)[-1:] or text[-1:]


def label_of(text: str) -> str:
    """The label of a labelled paragraph ("Form: Ketamine is ..." gives "Form"), else ""."""
    match = _LABEL_RE.fullmatch(_unlisted(strip_markup(text)))
    if not match:
        return ""
    label = match.group("label").strip().strip("*_").strip()
    words = label.split()
    if not words or len(words) > LABEL_MAX_WORDS or not label[0].isupper():
        return ""
    title_case = all(w[0].isupper() or w.lower() in _SMALL_WORDS for w in words if w[0].isalpha())
    if not (title_case or len(words) <= 3):
        return ""
    rest = match.group("rest")
    sentence_like = _final_char(rest) in ".!?…" or len(rest.split()) >= 8
    return label if sentence_like else ""


def is_heading_like(text: str) -> bool:
    """Whether a line looks like a heading by itself (see the module docstring)."""
    if _MD_HEADING_RE.match(text):
        return True
    if is_bulleted(text) or label_of(text):
        return False
    bare = strip_markup(text)
    words = bare.split()
    if not words or len(words) > HEADING_MAX_WORDS:
        return False
    first = next((c for c in bare if c.isalnum()), "")
    return (first.isupper() or first.isdigit()) and _final_char(bare) not in ".!?…;,"


def is_question_like(text: str) -> bool:
    """Whether a line is a single short question ("2. How long do the effects ... last?")."""
    bare = strip_markup(text)
    if _final_char(bare) != "?" or len(bare.split()) > QUESTION_MAX_WORDS or is_bulleted(bare):
        return False
    return len(sentence_spans(bare)) == 1


def is_title_like(text: str) -> bool:
    """Whether the first line of a document reads as its title: short, and not a sentence."""
    if _MD_HEADING_RE.match(text):
        return True
    bare = strip_markup(text)
    return (
        0 < len(bare.split()) <= TITLE_MAX_WORDS
        and not is_bulleted(bare)
        and not label_of(bare)
        and _final_char(bare) not in ".!…;,:"  # a title may ask a question
        and (bare[0].isupper() or bare[0].isdigit())
    )


def heading_name(text: str) -> str:
    """How a heading or question is shown as a section: without markup or a trailing colon."""
    return strip_markup(text).rstrip(":").strip()


def ends_sentence(text: str) -> bool:
    """Whether a line ends like a sentence or a lead-in ("... advantages of ketamine therapy:")."""
    return _final_char(text) in ".!?…:;"


# ---------------------------------------------------------------------------------- classification


def _is_listed(text: str) -> bool:
    return is_bulleted(text) or bool(_ENUM_RE.match(text))


def classify(text: str, dropped: Sequence[tuple[int, int]] = ()) -> list[Block]:
    """The title, headings, questions and paragraphs of ``text``, in order.

    Lines overlapping a ``dropped`` span (page furniture) are left out and separate what is
    around them: a paragraph never runs across them.
    """
    lines = split_lines(text)
    kept: list[Line] = []
    broken: list[bool] = []  # a blank or dropped line comes before this kept line
    after_bullet: list[bool] = []  # a dropped lone bullet ("-") comes right before it
    after_dropped: list[bool] = []
    spans = sorted(dropped)
    j = 0
    previous_end, previous_bullet, gap, cut = 0, False, False, False
    for line in lines:
        between = text[previous_end : line.start]
        gap = gap or len(_NEWLINE_RE.findall(between)) >= 2
        while j < len(spans) and spans[j][1] <= line.start:
            j += 1
        if any(s < line.end for s, _ in spans[j : j + 1]):
            gap, cut, previous_bullet = True, True, not line.text.strip(BULLET_CHARS)
        else:
            kept.append(line)
            broken.append(gap or len(kept) == 1)
            after_bullet.append(previous_bullet)
            after_dropped.append(cut)
            gap, cut, previous_bullet = False, False, False
        previous_end = line.end
    kinds = [_shape(line.text) for line in kept]
    wrapped_start = len(kept) > 1 and not broken[1] and kept[1].text[:1].islower()
    if kept and is_title_like(kept[0].text) and not wrapped_start:
        kinds[0] = Kind.TITLE
    indented = [line.start > _line_start(text, line.start) for line in kept]
    joined = _join_wrapped(kept, kinds, broken, indented)
    _demote_lists(kinds, [line.text for line in kept])
    blocks: list[Block] = []
    for i, line in enumerate(kept):
        kind = kinds[i]
        if joined[i]:
            last = blocks[-1]
            blocks[-1] = Block(
                last.kind, last.start, line.end, last.name, last.listed, last.after_dropped
            )
        elif kind is Kind.PARAGRAPH:
            listed = _is_listed(line.text) or after_bullet[i]
            name = label_of(line.text)
            blocks.append(Block(kind, line.start, line.end, name, listed, after_dropped[i]))
        else:
            name = heading_name(line.text)
            blocks.append(Block(kind, line.start, line.end, name, False, after_dropped[i]))
    return blocks


def _shape(text: str) -> Kind:
    if is_heading_like(text):
        return Kind.HEADING
    if is_question_like(text):
        return Kind.QUESTION
    return Kind.PARAGRAPH


def _join_wrapped(
    kept: list[Line], kinds: list[Kind], broken: list[bool], indented: list[bool]
) -> list[bool]:
    """Mark lines that continue the paragraph above them (hard-wrapped text); fix their kinds.

    A line continues a paragraph when nothing separates them, the paragraph's last line ends
    mid-sentence, and the line does not start a list item or a Markdown heading; a list item
    only continues into an indented line (short items need no final period). A heading-like
    line directly followed by a line in lower case starts a wrapped paragraph.
    """
    joined = [False] * len(kept)
    for i, line in enumerate(kept):
        if kinds[i] is Kind.TITLE:
            continue
        follows = i + 1 < len(kept) and not broken[i + 1]
        if kinds[i] is not Kind.PARAGRAPH and follows and kept[i + 1].text[:1].islower():
            kinds[i] = Kind.PARAGRAPH
        if (
            i > 0
            and not broken[i]
            and kinds[i - 1] is Kind.PARAGRAPH
            and not ends_sentence(kept[i - 1].text)
            and not _is_listed(line.text)
            and not _MD_HEADING_RE.match(line.text)
            and (indented[i] or not _is_listed(kept[i - 1].text))
        ):
            kinds[i], joined[i] = Kind.PARAGRAPH, True
    return joined


def _demote_lists(kinds: list[Kind], texts: list[str]) -> None:
    """Turn runs that are lists, not structure, into paragraphs (content).

    A question not followed by a paragraph (its answer), or next to another question, is part
    of a list of questions; three or more headings in a row are a list of short items.
    """
    n = len(kinds)
    questions = [k is Kind.QUESTION for k in kinds]
    for i in range(n):
        if not questions[i]:
            continue
        answered = i + 1 < n and kinds[i + 1] is Kind.PARAGRAPH
        lonely = not (i > 0 and questions[i - 1]) and not (i + 1 < n and questions[i + 1])
        if not (answered and lonely):
            kinds[i] = Kind.PARAGRAPH
    i = 0
    while i < n:
        j = i
        while j < n and kinds[j] is Kind.HEADING and not _MD_HEADING_RE.match(texts[j]):
            j += 1
        if j - i >= 3:
            kinds[i:j] = [Kind.PARAGRAPH] * (j - i)
        i = max(j, i + 1)
