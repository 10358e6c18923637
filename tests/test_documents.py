"""Reading the corpus: decoding, errors, furniture and titles (real corpus and a made-up page)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.documents import FURNITURE_PATTERNS, find_furniture, read_corpus, read_document
from qa.errors import CorpusError, EmptyCorpusError, UndecodableFileError
from qa.records import stable_id
from qa.settings import CorpusSettings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
ARTICLE = Path(__file__).resolve().parent / "data" / "furniture_article.txt"


@pytest.fixture(scope="module")
def corpus() -> dict[str, object]:
    return {d.source[:3]: d for d in read_corpus(CORPUS)}


def dropped_texts(document) -> list[str]:
    return [document.text[d.start : d.end] for d in document.dropped]


def test_corpus_is_read_in_path_order_with_exact_text() -> None:
    documents = read_corpus(CORPUS)
    sources = [d.source for d in documents]
    assert sources == sorted(p.name for p in CORPUS.glob("*.txt"))
    for document in documents:
        assert document.doc_id == stable_id(document.source)
        assert document.text == (CORPUS / document.source).read_text(encoding="utf-8")


def test_titles_are_recovered(corpus) -> None:
    assert corpus["000"].title == "Ketamine Effectively Treats Severe Depression"
    assert corpus["001"].title == "Ketamine"
    # 002 and 003 open with a paragraph and have hash-like file names: the first sentence, cut.
    assert corpus["002"].title == (
        "Ketamine therapy has gained significant attention in recent years…"
    )
    assert corpus["003"].title == "A unique approach to medical care has recently gained attention…"


def test_corpus_furniture_is_dropped_and_nothing_else(corpus) -> None:
    assert dropped_texts(corpus["000"]) == [
        "For more information visit our website.",
        "Leave a Reply",
        "Your email address will not be published. Required fields are marked *",
        "Back to top button",
    ]
    # The "Important Note" restates the opening paragraph: repetition is not furniture.
    assert dropped_texts(corpus["001"]) == ["-"] * 5 + ["Reviews", "There are no reviews yet."]
    assert dropped_texts(corpus["002"]) == []
    assert dropped_texts(corpus["003"]) == []


def test_made_up_article_furniture_is_dropped() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    document = read_document(text, "furniture_article.txt")
    dropped = dropped_texts(document)
    assert dropped == [
        "Skip to content",
        "Home » Kitchen » Cookware",
        "Posted on March 3, 2024",
        "Share this article",
        "Advertisement",
        "•",
        "•",
        "•",
        "We use cookies to improve your experience.",
        "Accept",
        "Related Posts",
        "Share this:",
        "Facebook",
        "Pinterest",
        "Kitchen Notes Staff",  # not a pattern: a short line after the last paragraph
        "© 2024 Kitchen Notes. All rights reserved.",
    ]
    reasons = {document.text[d.start : d.end]: d.reason for d in document.dropped}
    assert reasons["Kitchen Notes Staff"] == "short lines after the last paragraph"
    assert reasons["Accept"].startswith("furniture pattern: (accept|reject")
    assert reasons["Home » Kitchen » Cookware"] == "furniture pattern: home\\s*[»>›/|].*"
    assert document.title == "Caring for a Cast-Iron Skillet"


def test_extra_furniture_pattern_from_settings() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    line = "Kitchen Notes Weekly — Issue 42"
    assert line not in dropped_texts(read_document(text, "a.txt"))
    settings = CorpusSettings(extra_furniture=(r"kitchen notes weekly\b.*",))
    assert line in dropped_texts(read_document(text, "a.txt", settings))


def test_invalid_extra_pattern_is_a_corpus_error() -> None:
    with pytest.raises(CorpusError, match="invalid furniture pattern"):
        read_document("Text.", "a.txt", CorpusSettings(extra_furniture=("(unclosed",)))


@pytest.mark.parametrize(
    "line",
    [
        "Leave a reply if the dose made you dizzy, and we will answer within a day.",
        "Reviews of ketamine trials show rapid effects.",
        "We use ketamine only in clinics.",
        "Share your experience with your doctor.",
        "Back to top of the list, the next option is psychotherapy.",
    ],
)
def test_patterns_match_whole_lines_only(line: str) -> None:
    text = f"Title\n{line}\nA closing sentence of the article.\n"
    assert find_furniture(text) == ()


def test_builtin_patterns_are_documented_strings() -> None:
    assert all(isinstance(p, str) and p for p in FURNITURE_PATTERNS)
    for line in ["leave a reply", "BACK TO TOP", "Required fields are marked *", "-", "•", "–"]:
        text = f"Some sentence here.\n{line}\nAnother sentence here.\n"
        assert dropped_texts(read_document(text, "x.txt")) == [line]


def test_crlf_and_bom_keep_offsets_into_document_text(tmp_path: Path) -> None:
    body = "Caring for Pans\r\n\r\nKeep the pan dry.\r\nLeave a Reply\r\n\r\nOil it often.\r\n"
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    (document,) = read_corpus(tmp_path)
    assert document.text == body  # the byte-order mark is removed, nothing else
    assert dropped_texts(document) == ["Leave a Reply"]
    assert document.title == "Caring for Pans"


def test_undecodable_file_names_file_and_byte(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Fine text.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.txt").write_bytes(b"Caf\xe9 latin-1 text.")
    with pytest.raises(UndecodableFileError, match=r"sub/bad\.txt.*byte 3") as info:
        read_corpus(tmp_path)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value.__cause__, UnicodeDecodeError)


def test_empty_folder_is_an_empty_corpus(tmp_path: Path) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / ".hidden.txt").write_text("Hidden text.", encoding="utf-8")
    with pytest.raises(EmptyCorpusError, match=str(tmp_path)):
        read_corpus(tmp_path)


def test_all_empty_documents_are_an_empty_corpus(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("", encoding="utf-8")
    (tmp_path / "b.md").write_text(" \n\n\t\n", encoding="utf-8")
    with pytest.raises(EmptyCorpusError, match="empty"):
        read_corpus(tmp_path)


def test_missing_folder_or_file_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        read_corpus(tmp_path / "nope")
    (tmp_path / "a.txt").write_text("Text.", encoding="utf-8")
    with pytest.raises(CorpusError, match="not a folder"):
        read_corpus(tmp_path / "a.txt")


def test_recursive_hidden_skipped_extensions_honoured(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / "z.md").write_text("Markdown text.", encoding="utf-8")
    (tmp_path / "a.TXT").write_text("Upper-case suffix.", encoding="utf-8")
    (tmp_path / "c.rst").write_text("Not read.", encoding="utf-8")
    (tmp_path / ".git" / "x.txt").write_text("Hidden.", encoding="utf-8")
    (tmp_path / "b" / ".draft.md").write_text("Hidden.", encoding="utf-8")
    assert [d.source for d in read_corpus(tmp_path)] == ["a.TXT", "b/z.md"]
    only_md = CorpusSettings(extensions=(".md",))
    assert [d.source for d in read_corpus(tmp_path, only_md)] == ["b/z.md"]


def test_title_from_readable_file_name_or_first_sentence() -> None:
    paragraph = "Ketamine can ease chronic pain. It acts on NMDA receptors in the spinal cord."
    assert read_document(paragraph, "guides/ketamine-for-pain.md").title == "Ketamine for pain"
    assert read_document(paragraph, "007_9f8e7d6c5b4a3921.txt").title == (
        "Ketamine can ease chronic pain"
    )
    long_opening = (
        "Dr. Lee says that ketamine therapy is changing how clinics treat depression in adults "
        "and teenagers alike."
    )
    assert read_document(long_opening, "0a1b2c3d4e5f.txt").title == (
        "Dr. Lee says that ketamine therapy is changing how clinics…"
    )
    assert read_document("", "notes_2024.txt").title == "Notes 2024"


def test_front_matter_needs_metadata_lines() -> None:
    text = "---\ntitle: Pans\ntags:\n  - iron\n---\nKeep it dry.\n"
    document = read_document(text, "a.md")
    assert document.title == "Pans"
    assert [d.reason for d in document.dropped] == ["front matter"] * 5
    # A rule, then prose, then a rule: not front matter, nothing of the prose is dropped.
    prose = "---\nKeep the pan dry. Oil it often.\n---\nMore text here.\n"
    assert dropped_texts(read_document(prose, "b.md")) == ["---", "---"]
