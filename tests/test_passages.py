"""Passage splitting: exact spans, sections, sizes, furniture as boundaries; sentences."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.documents import read_corpus, read_document
from qa.passages import sentence_spans, split_corpus, split_passages
from qa.records import Document, Passage
from qa.settings import PassageSettings
from qa.structure import Kind, classify

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = Path(__file__).resolve().parent / "data" / "furniture_article.txt"
DEFAULT = PassageSettings()


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    return read_corpus(ROOT / "corpus")


@pytest.fixture(scope="module")
def passages(documents) -> list[Passage]:
    return split_corpus(documents)


def words(text: str) -> int:
    return len(text.split())


def find(passages: list[Passage], phrase: str) -> Passage:
    (match,) = [p for p in passages if phrase in p.text]
    return match


def check_invariants(document: Document, found: list[Passage], settings=DEFAULT) -> None:
    """What must hold for any document: exact, ordered spans; no furniture, no headings inside;
    every paragraph covered; over-long passages are single sentences."""
    blocks = classify(document.text, [(d.start, d.end) for d in document.dropped])
    previous_end = 0
    for p in found:
        assert p.text == document.text[p.start : p.end]
        assert p.text and p.text == p.text.strip()
        assert p.start >= previous_end
        previous_end = p.end
        assert p.passage_id == Passage.make_id(document.source, p.start, p.end)
        assert (p.doc_id, p.source, p.title) == (document.doc_id, document.source, document.title)
        for d in document.dropped:
            assert d.end <= p.start or p.end <= d.start, (p.text, d)
        for b in blocks:
            if b.kind is not Kind.PARAGRAPH:
                assert b.end <= p.start or p.end <= b.start, (p.text, b)
        if words(p.text) > settings.max_words:
            assert len(sentence_spans(document.text, p.start, p.end)) == 1, p.text
    covered = set()
    for p in found:
        covered.update(range(p.start, p.end))
    for b in blocks:
        if b.kind is Kind.PARAGRAPH:  # never drop content: every visible character is in a passage
            missing = [i for i in range(b.start, b.end) if i not in covered]
            assert all(document.text[i].isspace() for i in missing), b


# ------------------------------------------------------------------------------------ real corpus


def test_corpus_invariants(documents, passages) -> None:
    for document in documents:
        check_invariants(document, [p for p in passages if p.doc_id == document.doc_id])


def test_corpus_passage_count_and_sizes(passages) -> None:
    assert 55 <= len(passages) <= 75
    assert all(words(p.text) <= DEFAULT.max_words for p in passages)
    # The documented exception to min_words: a short paragraph alone under its section (an FAQ
    # answer, a labelled list item) stays a passage. Neighbours then have another section.
    for i, p in enumerate(passages):
        if words(p.text) < DEFAULT.min_words:
            neighbours = passages[max(i - 1, 0) : i] + passages[i + 1 : i + 2]
            assert all(n.section != p.section or n.doc_id != p.doc_id for n in neighbours), p.text
    short = sum(words(p.text) < DEFAULT.min_words for p in passages)
    assert short <= 12


def test_faq_answer_carries_its_question(passages) -> None:
    answer = find(passages, "The duration of ketamine’s effects can vary")
    assert answer.section == "2. How long do the effects of ketamines treatment last?"
    assert answer.text.startswith("The duration of ketamine’s effects")
    assert find(passages, "Insurance coverage for ketamines").section == (
        "5. Is ketamines treatment covered by insurance?"
    )


@pytest.mark.parametrize(
    ("phrase", "section"),
    [
        ("Severe depression, also known as major", "1. Understanding Severe Depression"),
        ("In recent years, the treatment of severe depression", ""),
        ("Ketamine is a versatile and rapidly acting", "Description"),
        ("Form: Ketamine is available in various forms", "Key Features — Form"),
        ("Safety Profile: When administered", "Key Features — Safety Profile"),
        ("Important Note: While ketamine shows promise", "Important Note"),
        ("Conclusion: Ketamine represents a groundbreaking", "Conclusion"),
        ("- Quick Relief: Unlike traditional", "1. Rapid Antidepressant Effects — Quick Relief"),
        ("Moreover, ketamine therapy offers an alternative", "Managing Chronic Pain"),
        (
            "1. Promotes Neuroplasticity: Ketamine",
            "Potential Advantages of Ketamine Therapy — Promotes Neuroplasticity",
        ),
        ("Here are some additional advantages", "Potential Advantages of Ketamine Therapy"),
        ("Anxiety disorders including post-traumatic", "Treatment for Anxiety Disorders"),
        ("Its quick beginning of action", "Bottom Line"),
    ],
)
def test_sections(passages, phrase: str, section: str) -> None:
    assert find(passages, phrase).section == section


def test_no_passage_is_a_heading_title_or_question(documents, passages) -> None:
    for document in documents:
        names = {
            document.text[b.start : b.end]
            for b in classify(document.text, [(d.start, d.end) for d in document.dropped])
            if b.kind is not Kind.PARAGRAPH
        }
        assert len(names) >= 4
        texts = {p.text for p in passages if p.doc_id == document.doc_id}
        assert not names & texts
        assert document.title not in texts


def test_ids_are_stable_and_follow_the_span(documents) -> None:
    first = split_corpus(documents)
    again = split_corpus(read_corpus(ROOT / "corpus"))
    assert [p.passage_id for p in first] == [p.passage_id for p in again]
    assert len({p.passage_id for p in first}) == len(first)
    document = documents[0]
    shifted = read_document("Preface\n" + document.text, document.source)
    moved = split_passages(shifted)
    assert moved[0].text == first[0].text
    assert moved[0].passage_id != first[0].passage_id


def test_made_up_article(tmp_path: Path) -> None:
    document = read_document(ARTICLE.read_text(encoding="utf-8"), "furniture_article.txt")
    found = split_passages(document)
    check_invariants(document, found)
    assert find(found, "Oil: A thin coat of flaxseed").section == "What You Will Need — Oil"
    assert (
        find(found, "- Heat Drying: Put the pan").section == "Step 1. Scrub and Dry — Heat Drying"
    )
    assert find(found, "Tip: Repeat the oil-and-bake").section == "Tip"
    assert find(found, "Modern dish soap").section == "Can I use soap on cast iron?"
    # Short bullet items without periods are content, merged, never taken for headings.
    dishes = find(found, "- Cornbread")
    assert dishes.text == "- Cornbread\n- Seared steak\n- Shallow-fried potatoes"
    assert dishes.section == "Good First Dishes"
    # "Advertisement" sits between two short paragraphs of one section: they stay apart.
    assert find(found, "Seasoning is not a single coat").end < find(found, "A well-seasoned").start
    # The long opening paragraph (139 words) is split at a sentence into balanced parts.
    opening = [p for p in found if p.section == ""]
    assert len(opening) == 2
    assert all(40 <= words(p.text) <= DEFAULT.max_words for p in opening)
    assert opening[1].text.startswith("It draws on advice from cookware restorers and from Dr. Ana")


# ---------------------------------------------------------------------------------- size rules


def sentence(n: int, i: int) -> str:
    return " ".join(["Word"] + [f"w{i}x{k}" for k in range(n - 2)] + ["end."])


def test_long_paragraph_is_split_into_balanced_whole_sentences() -> None:
    paragraph = " ".join(sentence(10, i) for i in range(25))  # 250 words
    document = read_document(f"Heading\n{paragraph}\n", "long.txt")
    found = split_passages(document)
    assert sorted(words(p.text) for p in found) == [80, 80, 90]  # ceil(250 / 120) = 3 parts
    assert " ".join(p.text for p in found) == paragraph
    assert all(p.text.endswith("end.") for p in found)


def test_single_overlong_sentence_stays_whole() -> None:
    long_sentence = sentence(200, 0)
    text = f"Heading\n{sentence(10, 1)} {long_sentence} {sentence(10, 2)}\n"
    found = split_passages(read_document(text, "x.txt"))
    assert long_sentence in [p.text for p in found]
    assert all(long_sentence == p.text or words(p.text) <= 120 for p in found)


def test_short_paragraphs_merge_within_a_section_only() -> None:
    text = (
        "Title Line\n\nFirst Part\n\nOne short paragraph here.\n\nAnother short one.\n\n"
        "Second Part\nA third short paragraph.\n"
    )
    found = split_passages(read_document(text, "x.txt"))
    assert [(p.section, p.text) for p in found] == [
        ("First Part", "One short paragraph here.\n\nAnother short one."),
        ("Second Part", "A third short paragraph."),
    ]


def test_paragraphs_at_min_words_are_not_merged() -> None:
    a, b = sentence(30, 1), sentence(30, 2)
    found = split_passages(read_document(f"Part\n{a}\n{b}\n", "x.txt"))
    assert [p.text for p in found] == [a, b]


def test_settings_change_the_cut() -> None:
    paragraph = " ".join(sentence(10, i) for i in range(6))
    document = read_document(paragraph, "x.txt")
    assert len(split_passages(document)) == 1
    assert len(split_passages(document, PassageSettings(min_words=5, max_words=25))) == 3


# ------------------------------------------------------------------------------------- sentences


def sentences_of(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        (
            "Use e.g. salt, i.e. coarse salt. Dr. Smith agrees vs. Mr. Jones. It is 2.5 mm.",
            [
                "Use e.g. salt, i.e. coarse salt.",
                "Dr. Smith agrees vs. Mr. Jones.",
                "It is 2.5 mm.",
            ],
        ),
        (
            "Ketamine acts on the N-methyl-D-aspartate (NMDA) receptors. It helps.",
            ["Ketamine acts on the N-methyl-D-aspartate (NMDA) receptors.", "It helps."],
        ),
        (
            "Trials in the U.S. Were small. J. R. Tolkien wrote.",
            ["Trials in the U.S. Were small.", "J. R. Tolkien wrote."],
        ),
        ("Take vitamin D. Then rest.", ["Take vitamin D.", "Then rest."]),
        (
            "1. Promotes Neuroplasticity: Ketamine works. More.",
            ["1. Promotes Neuroplasticity: Ketamine works.", "More."],
        ),
        ("She said “Stop.” Then left.", ["She said “Stop.”", "Then left."]),
        ("Heading\nA paragraph follows.", ["Heading", "A paragraph follows."]),
        ("A wrapped line that\ncontinues here.", ["A wrapped line that\ncontinues here."]),
        ("depression.\u00a0Ketamine helps.", ["depression.", "Ketamine helps."]),
        ("   ", []),
    ],
)
def test_sentence_spans(text: str, expected: list[str]) -> None:
    assert sentences_of(text) == expected


def test_sentence_spans_are_absolute_within_a_range() -> None:
    text = "Skip me. First one. Second one. Skip too."
    start, end = text.index("First"), text.index(" Skip too")
    assert [text[s:e] for s, e in sentence_spans(text, start, end)] == [
        "First one.",
        "Second one.",
    ]


def test_corpus_sentences_do_not_split_inside_nmda(documents) -> None:
    document = documents[0]
    spans = sentence_spans(document.text)
    phrase = "N-methyl-D-aspartate (NMDA) receptors"
    assert any(phrase in document.text[s:e] for s, e in spans)
    assert all(document.text[s:e].strip() == document.text[s:e] for s, e in spans)


# --------------------------------------------------------------------------------------- property

_WORD = st.one_of(
    st.sampled_from(
        ["ketamine", "dose", "café", "naïve", "日本語", "🙂", "2.5", "e.g.", "Dr.", "(NMDA)"]
    ),
    st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8),
)
_SENTENCE = st.builds(
    lambda first, rest, end: " ".join([first, *rest]) + end,
    st.sampled_from(["The", "It", "Ketamine", "Most", "Über"]),
    st.lists(_WORD, max_size=12),
    st.sampled_from([".", "!", "?", ".”", ""]),
)
_PARAGRAPH = st.lists(_SENTENCE, min_size=1, max_size=8).map(" ".join)
_LINE = st.one_of(
    _PARAGRAPH,
    _PARAGRAPH.map(lambda p: "- Label Here: " + p),
    _PARAGRAPH.map(lambda p: "Note: " + p),
    st.sampled_from(
        [
            "Side Effects",
            "1. Background",
            "Treatment for Pain:",
            "## Dosage",
            "Frequently Asked Questions",
            "How long does it last?",
            "- short item",
            "Leave a Reply",
            "Back to top button",
            "-",
            "•",
            "Share this",
            "Reviews",
            "There are no reviews yet.",
        ]
    ),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
)
_BREAK = st.sampled_from(["\n", "\n\n", "\r\n", "\n \n", "\n\t\n\n", "\r\n\r\n"])


@st.composite
def generated_documents(draw) -> str:
    lines = draw(st.lists(_LINE, max_size=20))
    breaks = draw(st.lists(_BREAK, min_size=len(lines), max_size=len(lines)))
    return "".join(line + br for line, br in zip(lines, breaks, strict=True))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    generated_documents(),
    st.sampled_from([DEFAULT, PassageSettings(min_words=5, max_words=20)]),
)
def test_property_passages_are_exact_ordered_and_furniture_free(text: str, chosen) -> None:
    document = read_document(text, "gen/doc.txt")
    found = split_passages(document, chosen)
    check_invariants(document, found, chosen)
    assert [p.passage_id for p in split_passages(document, chosen)] == [p.passage_id for p in found]


# ------------------------------------------------------------------------------ other page shapes


def test_markdown_front_matter_wrapped_lines_and_lists() -> None:
    text = (
        '---\ntitle: "Ketamine and Pain"\ndate: 2024-01-01\n---\n\n# Overview\n\n'
        "Ketamine can ease pain when\nother drugs fail. It acts on\nNMDA receptors.\n\n"
        "## Risks\n\n- nausea\n- dizziness\n"
    )
    document = read_document(text, "notes/pain.md")
    assert document.title == "Ketamine and Pain"
    assert [text[d.start : d.end] for d in document.dropped][1] == 'title: "Ketamine and Pain"'
    found = split_passages(document)
    check_invariants(document, found)
    assert [(p.section, p.text) for p in found] == [
        ("Overview", "Ketamine can ease pain when\nother drugs fail. It acts on\nNMDA receptors."),
        ("Risks", "- nausea\n- dizziness"),
    ]


def test_unpunctuated_text_is_kept_and_cut_at_line_breaks() -> None:
    text = "".join(f"note {i} about the dose and the timing of it all\n" for i in range(100))
    document = read_document(text, "notes.txt")
    assert document.dropped == ()  # lower-case lines are content, not a trailing block
    found = split_passages(document)
    check_invariants(document, found)
    assert len(found) > 1
    assert all(words(p.text) <= DEFAULT.max_words for p in found)
    assert all(p.text.startswith("note ") and p.text.endswith("all") for p in found)


def test_page_of_short_lines_only_keeps_them() -> None:
    text = "Opening Hours\nMonday to Friday\nWeekends Closed\nCall Us\n"
    document = read_document(text, "hours.txt")
    assert document.dropped == ()
    found = split_passages(document)
    check_invariants(document, found)
    assert "Monday to Friday" in found[0].text


def test_questions_in_a_row_are_content_not_sections() -> None:
    text = (
        "Mood Check\n\nScreening\n\nDo you feel sad?\nDo you lose interest?\n\n"
        "Then ask a doctor about it.\n"
    )
    found = split_passages(read_document(text, "q.txt"))
    assert [(p.section, p.text) for p in found] == [
        ("Screening", "Do you feel sad?\nDo you lose interest?\n\nThen ask a doctor about it.")
    ]


def test_wrapped_opening_line_is_not_a_title() -> None:
    text = "Ketamine is a drug that helps\nmany patients with depression.\n"
    document = read_document(text, "0f9e8d7c6b5a.txt")
    assert document.title == "Ketamine is a drug that helps many patients with depression"
    assert [p.text for p in split_passages(document)] == [text.strip()]
