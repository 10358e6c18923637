"""Reading the corpus: decode each file, recover its title and mark the page furniture to leave out.

Web pages saved as text keep their furniture ("Leave a Reply", "Back to top button", share
buttons, lone bullet characters). Two rules find it, and both only ever drop whole lines:

1. **Patterns.** A line is furniture when, stripped, it fully matches (case-insensitive) one of
   :data:`FURNITURE_PATTERNS` or of ``CorpusSettings.extra_furniture``. Patterns are anchored to
   the whole line, so a sentence that merely mentions "reviews" or "cookies" is kept.
2. **Trailing block.** After the last line that reads as content, the remaining lines that
   look like captions (short, starting with a capital or a number, not ending like a
   sentence: "Reviews", "Share this:", "Facebook", "Kitchen Notes Staff") are furniture: a
   heading with nothing under it heads nothing. A list item, a labelled paragraph, a sentence
   or a line in lower case is content and ends the block; a document without any content line
   keeps everything.

Markdown front matter (a ``---`` block opening the file) is dropped too, and its ``title:``
becomes the document's title.

Repetition is deliberately not a signal: an article may restate a sentence on purpose (the
"Important Note" of one corpus document repeats its opening paragraph).

Offsets (``Dropped``, and later passages) index ``Document.text``: the file decoded as UTF-8 with
a leading byte-order mark removed and nothing else changed (line endings included).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from qa.errors import CorpusError, EmptyCorpusError, UndecodableFileError
from qa.records import Document, Dropped, stable_id
from qa.settings import CorpusSettings
from qa.structure import (
    Kind,
    Line,
    classify,
    heading_name,
    is_bulleted,
    is_heading_like,
    is_question_like,
    label_of,
    sentence_spans,
    split_lines,
)

FURNITURE_PATTERNS: tuple[str, ...] = (
    # comment forms and reviews
    r"leave a (reply|comment)",
    r"your email address will not be published\..*",
    r"required fields are marked \*?",
    r"(\d+ )?(comments?|responses?|replies)( \(\d+\))?",
    r"no comments( yet)?\.?",
    r"reviews( \(\d+\))?",
    r"there are no reviews yet\.?",
    r"be the first to review.*",
    r"(post|submit) (a )?comment",
    # navigation
    r"back to top( button)?",
    r"skip to (main )?content",
    r"(main )?menu",
    r"search( for)?:?",
    r"home\s*[»>›/|].*",
    r"(previous|next|prev\.?|older|newer) (post|article|page|story)\b.{0,80}",
    r"read more( »| ›|\.\.\.|…)?",
    r"continue reading.{0,80}",
    r"(related|recent|popular) (posts|articles|stories)",
    r"you (may|might) also like:?",
    # sharing and printing
    r"share( this)?( (post|article|page|story))?( on \w+)?:?",
    r"(facebook|twitter|x|linkedin|pinterest|whatsapp|reddit|telegram|email|e-mail|tweet|pin it)",
    r"print( this)?( (page|article|post))?",
    r"(copy|copied) link",
    # cookies, newsletters, legal
    r"(this (web)?site|we) uses? cookies.{0,200}",
    r"(accept|reject|decline|allow)( all)?( cookies)?",
    r"cookie (settings|policy|preferences)",
    r"privacy policy",
    r"terms (of (use|service)|(and|&) conditions)",
    r"subscribe( (now|today))?( to our newsletter)?\.?",
    r"sign up for our newsletter.{0,80}",
    r"(copyright )?(©|\(c\)) ?\d{4}.{0,100}",
    r"all rights reserved\.?",
    r"advertisement|sponsored( content)?",
    # calls to visit the publisher
    r"for more information,? visit our website\.?",
    r"(posted|published|updated|last updated)( on)?:? \w+ \d{1,2},? \d{4}",
    # lone bullet characters and horizontal rules
    r"[-•*–—·|]",
    r"[-*_=~]{3,}",
)


@lru_cache(maxsize=32)
def _compiled(extra: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for the built-in patterns plus ``extra``, each anchored to the whole line."""
    for pattern in extra:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CorpusError(f"invalid furniture pattern {pattern!r}: {exc}") from exc
    return re.compile("|".join(f"(?:{p})" for p in FURNITURE_PATTERNS + extra), re.IGNORECASE)


def find_furniture(text: str, extra: Iterable[str] = ()) -> tuple[Dropped, ...]:
    """The furniture lines of ``text`` (see the module docstring), in order."""
    pattern = _compiled(tuple(extra))
    lines = split_lines(text)
    dropped: dict[int, Dropped] = {}
    front = _front_matter(text)
    for line in split_lines(text[: front.end()]) if front else ():
        dropped[line.start] = Dropped(line.start, line.end, "front matter")
    for line in lines:
        if line.start in dropped:
            continue
        bare = heading_name(line.text)
        if pattern.fullmatch(line.text) or pattern.fullmatch(bare):
            which = next(
                p
                for p in (*FURNITURE_PATTERNS, *extra)
                if re.fullmatch(p, line.text, re.IGNORECASE) or re.fullmatch(p, bare, re.IGNORECASE)
            )
            dropped[line.start] = Dropped(line.start, line.end, f"{PATTERN_REASON}: {which}")
    trailing: list[Line] = []
    for line in reversed(lines):
        if line.start in dropped:
            continue
        if not _is_caption(line.text):
            # Only a block that follows content is furniture: a page of nothing but short
            # lines keeps them all.
            for caption in trailing:
                dropped[caption.start] = Dropped(caption.start, caption.end, TRAILING_REASON)
            break
        trailing.append(line)
    return tuple(sorted(dropped.values(), key=lambda d: d.start))


PATTERN_REASON = "furniture pattern"
TRAILING_REASON = "short lines after the last paragraph"
# Markdown front matter: "key: value" lines between "---" lines at the very start of a file.
_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(?:.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FRONT_LINE_RE = re.compile(r"[A-Za-z_][\w -]*:.*|\s.*|-\s.*|#.*|")
_FRONT_TITLE_RE = re.compile(r"^title:[ \t]*(.+?)[ \t]*\r?$", re.MULTILINE | re.IGNORECASE)


def _front_matter(text: str) -> re.Match[str] | None:
    """The front matter block, when the file opens with one made of metadata lines only."""
    front = _FRONT_MATTER_RE.match(text)
    if front is None:
        return None
    inner = re.split(r"\r\n|\r|\n", text[: front.end()])[1:-1]
    body = [line for line in inner if line.strip() != "---"]
    return front if all(_FRONT_LINE_RE.fullmatch(line) for line in body) else None


def _is_caption(text: str) -> bool:
    """Whether a line is a short caption ("Reviews", "Share this:") rather than content."""
    if is_bulleted(text) or label_of(text):
        return False
    return is_heading_like(text) or is_question_like(text)


def read_document(text: str, source: str, settings: CorpusSettings = CorpusSettings()) -> Document:
    """A Document from decoded ``text``: furniture found, title recovered (pure; no file access)."""
    dropped = find_furniture(text, settings.extra_furniture)
    return Document(
        doc_id=stable_id(source),
        source=source,
        title=dict(settings.titles).get(source) or recover_title(text, source, dropped),
        text=text,
        dropped=dropped,
    )


_STOP_AT_END = frozenset(
    str.split(
        "a an and are as at be by for from has have in is its of on or that the their to was "
        "were which with"
    )
)
_HASHY_RE = re.compile(r"(?=.*\d)(?=.*[a-z])[a-z0-9]{6,}", re.IGNORECASE)


def recover_title(text: str, source: str, dropped: Iterable[Dropped] = ()) -> str:
    """The title a visitor would recognise in a citation "[1] Title — Section".

    In order: a ``title:`` in Markdown front matter; the document's first line when it reads
    as a title (short, not a sentence); the file name when it is made of words
    ("ketamine-for-pain.md" gives "Ketamine for pain"); else the opening of the first sentence,
    cut at about ten words before a trailing small word and marked "…" ("Ketamine therapy has
    gained significant attention in recent years…").
    """
    front = _front_matter(text)
    named = _FRONT_TITLE_RE.search(text, 0, front.end()) if front else None
    if named and named.group(1).strip("\"' "):
        return named.group(1).strip("\"' ")
    blocks = classify(text, [(d.start, d.end) for d in dropped])
    if blocks and blocks[0].kind is Kind.TITLE:
        return blocks[0].name
    stem = Path(source).stem
    parts = [p for p in re.split(r"[-_.\s]+", stem) if p]
    if any(p.isalpha() for p in parts) and not any(_HASHY_RE.fullmatch(p) for p in parts):
        words = " ".join(parts)
        return words[:1].upper() + words[1:]
    if blocks:
        first = blocks[0]
        start, end = sentence_spans(text, first.start, first.end)[0]
        return _shorten(text[start:end]) or stem
    return stem


def _shorten(sentence: str, max_words: int = 10) -> str:
    """A sentence as a title: whole when short, else its first words and "…"."""
    words = sentence.rstrip(".!?…:;").split()
    if len(words) <= max_words + 2:
        return " ".join(words)
    words = words[:max_words]
    while len(words) > 3 and words[-1].lower().strip(",;:") in _STOP_AT_END:
        words.pop()
    return " ".join(words).rstrip(",;:") + "…"


def read_corpus(folder: Path, settings: CorpusSettings = CorpusSettings()) -> list[Document]:
    """Every document under ``folder`` (``settings.extensions``, recursively, hidden files and
    folders skipped), sorted by relative path so the same corpus always reads the same way.

    Raises CorpusError when ``folder`` is not a readable folder, UndecodableFileError (with the
    file and byte offset) for a file that is not UTF-8, and EmptyCorpusError when no document
    has any text.
    """
    folder = Path(folder)
    if not folder.exists():
        raise CorpusError(f"corpus folder not found: {folder}")
    if not folder.is_dir():
        raise CorpusError(f"corpus path is not a folder: {folder}")
    extensions = {e.lower() for e in settings.extensions}
    documents = [
        read_document(_decode(path, source), source, settings)
        for source, path in corpus_files(folder, settings)
    ]
    if not documents:
        raise EmptyCorpusError(
            f"no documents ({', '.join(sorted(extensions))}) in corpus folder {folder}"
        )
    if not any(d.text.strip() for d in documents):
        raise EmptyCorpusError(f"every document in corpus folder {folder} is empty")
    return documents


def corpus_files(folder: Path, settings: CorpusSettings) -> list[tuple[str, Path]]:
    """(relative path, path) of every corpus file under ``folder``, sorted by relative path:
    ``settings.extensions``, recursively, hidden files and folders skipped. A link to a file
    counts as the file it points to; links to folders are not followed (``Path.rglob``), so a
    link loop cannot hang a build."""
    extensions = {e.lower() for e in settings.extensions}
    return sorted(
        (p.relative_to(folder).as_posix(), p)
        for p in Path(folder).rglob("*")
        if p.suffix.lower() in extensions
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and p.is_file()
    )


def _decode(path: Path, source: str) -> str:
    """The file's text: UTF-8, a leading byte-order mark removed (offsets index what remains)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {source}: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UndecodableFileError(
            f"corpus file {source} is not valid UTF-8 (byte {exc.start}: {exc.reason})"
        ) from exc
    return text.removeprefix("\ufeff")
