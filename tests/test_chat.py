"""The chat's handler logic, without a browser: answers, abstention, follow-ups, crisis replies,
limits, hostile text and votes."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from chat_support import EXAMPLES, OFF_TOPIC, make_searcher

from qa.chat import ChatService, ChatSettings, Turn, chat_messages, turn_index_at
from qa.chat_html import NOTICE, crisis_html, searching_for_html, source_page_html
from qa.errors import EmptyQuestionError, InputError
from qa.records import Answer, Citation
from qa.render import NOT_COVERED, citation_label, escape
from qa.safety import CRISIS_MESSAGE, CRISIS_MESSAGE_TEXT
from qa.search import Searcher
from qa.store import Store

CRISIS = "i wanna kil myself"
CRISIS_AND_TOPIC = "I want to end my life. How often should I water tomato plants in hot weather?"
# Crisis words in a question about a topic, not about the writer: resources, then passages.
CRISIS_WORD_QUESTION = (
    "How often should tomato plants be watered in hot weather, and can gardening ease suicidal "
    "thoughts?"
)


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    return make_searcher(tmp_path_factory.mktemp("chat"))


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "qa.sqlite3") as s:
        yield s


@pytest.fixture()
def service(searcher: Searcher, store: Store) -> ChatService:
    return ChatService(searcher, store, ChatSettings(examples=EXAMPLES))


def tags(fragment: str) -> set[str]:
    """The element names in an HTML fragment."""
    return {t.lower() for t in re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", fragment)}


# Our own markup; anything else in a reply came from corpus or visitor text unescaped.
OUR_TAGS = {"div", "p", "strong", "q", "blockquote", "mark", "a", "ul", "li", "h1", "em"}


def test_answer_shows_numbered_cards_with_verbatim_passage_and_highlight(
    service: ChatService, searcher: Searcher
) -> None:
    turn = service.respond("How often should I water tomato plants?")
    assert turn.kind == "answer" and not turn.crisis
    first = turn.answer.citations[0]
    assert first.section == "Watering"
    reply = turn.reply_html
    assert "[1] Growing Tomatoes at Home — Watering" in reply
    # The passage is shown verbatim: unescaping the card gives back the source slice.
    card = re.search(r'<blockquote class="qa-passage">(.*?)</blockquote>', reply, re.S).group(1)
    document = searcher.index.documents[first.doc_id]
    assert (
        html.unescape(card.replace("<mark>", "").replace("</mark>", ""))
        == (document.text[first.start : first.end])
    )
    marked = re.search(r"<mark>(.*?)</mark>", card, re.S).group(1)
    a, b = first.highlight
    assert html.unescape(marked) == document.text[a:b]
    assert f'href="source/{first.passage_id}#qa-passage"' in reply
    # The exact location, as offsets a reader can check in the file.
    assert f"{first.source}, characters {first.start}–{first.end}" in reply
    assert 'aria-label="Open the article at passage 1"' in reply
    assert "Searching for" not in reply  # not a follow-up
    assert tags(reply) <= OUR_TAGS


def test_off_topic_question_gets_not_covered_with_titles_and_examples(
    service: ChatService, store: Store
) -> None:
    turn = service.respond(OFF_TOPIC)
    assert turn.kind == "not_covered"
    assert turn.answer.abstained and turn.answer.citations == ()
    reply = turn.reply_html
    assert escape(NOT_COVERED) in reply
    assert "qa-card" not in reply  # no unrelated passage dressed as an answer
    assert "Growing Tomatoes at Home" in reply and "Compost Bins and Strange Markup" in reply
    for example in service.examples:
        assert escape(example) in reply
    assert [(r.question, r.reason) for r in store.unanswered()] == [(OFF_TOPIC, "abstained")]


def test_examples_the_corpus_does_not_answer_are_dropped(searcher: Searcher) -> None:
    service = ChatService(searcher, None, ChatSettings(examples=(*EXAMPLES, OFF_TOPIC)))
    assert service.examples == EXAMPLES


def test_follow_up_is_resolved_and_the_query_run_is_shown(service: ChatService) -> None:
    first = service.respond("How often should I water tomato plants?")
    turn = service.respond("and pruning them?", [first])
    assert turn.answer.effective_query != turn.answer.question
    assert "water tomato plants" in turn.answer.effective_query
    # The line quotes the earlier question, not the two glued together.
    earlier = escape("How often should I water tomato plants?")
    assert f"Read with your earlier question: <q>{earlier}</q>" in turn.reply_html
    assert "Pruning" in [c.section for c in turn.answer.citations]


def test_a_corrected_question_says_what_was_searched(service: ChatService) -> None:
    turn = service.respond("How often should I water tomato plantts?")
    assert turn.answer is not None and not turn.answer.abstained
    searched = "How often should I water tomato plants?"
    assert f"Searching for: <q>{escape(searched)}</q>" in turn.reply_html


SIDE = "What are the side effects of ketamine?"


@pytest.mark.parametrize(
    ("typed", "effective", "context", "line"),
    [
        # one earlier question, quoted on its own
        ("do they go away?", f"{SIDE} do they go away?", (SIDE,),
         f"Read with your earlier question: <q>{escape(SIDE)}</q>"),
        # a chain: each earlier question quoted apart, not glued into one
        ("how long?", f"{SIDE} do they go away? how long?", (SIDE, "do they go away?"),
         f"Read with your earlier questions: <q>{escape(SIDE)}</q>, then "
         "<q>do they go away?</q>"),
        # a corrected question says what was searched
        ("side efects", "side effects", (), "Searching for: <q>side effects</q>"),
        # a corrected follow-up says both
        ("what about anxeity?", "bipolar what about anxiety?", ("bipolar",),
         "Searching for: <q>what about anxiety?</q>, read with your earlier question: "
         "<q>bipolar</q>"),
        # a question that named no subject, read as one about the corpus's
        ("is it safe?", "ketamine is it safe?", (), "Read as a question about <q>ketamine</q>"),
        ("how is it givn", "ketamine how is it given", (),
         "Searching for: <q>how is it given</q>, read as a question about <q>ketamine</q>"),
        ("and for pets?", "ketamine hello and for pets?", ("hello",),
         "Read with your earlier question: <q>hello</q>, read as a question about "
         "<q>ketamine</q>"),
    ],
)
def test_the_query_line_says_what_was_searched_and_with_what(
    typed: str, effective: str, context: tuple[str, ...], line: str
) -> None:
    reading = ("ketamine", 0.1) if effective.startswith("ketamine ") else None
    answer = Answer(question=typed, effective_query=effective, abstained=False, citations=(),
                    context=context, subject_reading=reading)
    assert searching_for_html(answer) == f'<p class="qa-query">{line}</p>'
    standalone = Answer(question=SIDE, effective_query=SIDE, abstained=False, citations=())
    assert searching_for_html(standalone) == ""


def test_a_corrected_follow_up_names_the_earlier_question(service: ChatService) -> None:
    first = service.respond("How often should I water tomato plantts?")
    turn = service.respond("and prunning them?", [first])
    assert turn.answer is not None
    assert turn.answer.context == ("How often should I water tomato plants?",)
    assert "Searching for: <q>and pruning them?</q>" in turn.reply_html
    earlier = escape("How often should I water tomato plants?")
    assert f"read with your earlier question: <q>{earlier}</q>" in turn.reply_html


def test_history_skips_turns_that_ran_no_search(service: ChatService) -> None:
    asked = service.respond("How often should I water tomato plants?")
    empty = service.respond("   ")
    too_long = service.respond("x " * 2000)
    assert service.history([asked, empty, too_long]) == [asked.question]


def test_crisis_reply_starts_with_resources_then_passages(service: ChatService) -> None:
    turn = service.respond(CRISIS_WORD_QUESTION)
    assert turn.kind == "crisis" and turn.crisis
    assert turn.reply_html.startswith('<div class="qa-crisis" role="alert">')
    assert "988" in turn.reply_html and "findahelpline.com" in turn.reply_html
    crisis_end = turn.reply_html.index("</div>")
    assert turn.reply_html.index("qa-card") > crisis_end
    assert "Watering" in turn.reply_html


@pytest.mark.parametrize(
    "message",
    [
        CRISIS,
        "I don't want to be alive anymore",
        "thinking about ending it all tonight",
        "how many pills would it take to never wake up",
        "i keep cutting my arms",
        "I feel like everyone would be better off without me",
        "I'm so tired of living",
    ],
)
def test_crisis_paraphrases_get_the_resources(service: ChatService, message: str) -> None:
    turn = service.respond(message)
    assert turn.crisis
    assert turn.reply_html.startswith('<div class="qa-crisis"')


@pytest.mark.parametrize(
    "message",
    [
        "How often should I water tomato plants?",
        "I'm dying to know how compost works",
        "does pruning kill the plant?",
    ],
)
def test_ordinary_questions_get_no_crisis_message(service: ChatService, message: str) -> None:
    assert not service.respond(message).crisis


@pytest.mark.parametrize(
    "message",
    [
        CRISIS,
        CRISIS_AND_TOPIC,  # about the writer: no passage, even on a topic the corpus covers
        "how much fertilizer would it take to kill me",
        "what is a lethal dose of tomato leaves",  # lethal means, whoever it is about
        "I took 30 pills, does watering tomatoes in the morning help",
    ],
)
def test_a_crisis_of_ones_own_or_lethal_means_gets_only_the_resources(
    service: ChatService, store: Store, message: str
) -> None:
    turn = service.respond(message)
    assert turn.kind == "crisis" and turn.crisis and turn.answer is None  # not even searched
    assert turn.reply_html == crisis_html(CRISIS_MESSAGE)
    assert service.history([turn]) == []
    service.vote(turn, "down")
    assert store.unanswered() == [] and store.feedback() == []  # crisis text is never stored


def test_the_turns_after_a_crisis_keep_the_resources_first(
    service: ChatService, store: Store
) -> None:
    crisis = service.respond(CRISIS)
    # Leaning on the crisis turn: the resources alone, and the crisis is never its context.
    that = service.respond("would pruning help with that?", [crisis])
    assert that.crisis and that.answer is None and that.reply_html == crisis.reply_html
    # A question of its own: the resources first, then its passages, searched without the crisis.
    own = service.respond("How often should I water tomato plants?", [crisis, that])
    assert own.crisis and own.reply_html.startswith('<div class="qa-crisis"')
    assert "qa-card" in own.reply_html
    assert own.answer is not None and own.answer.effective_query == own.question
    service.vote(own, "up")
    assert store.feedback() == []
    # A follow-up to that question leans on it, not on the crisis: its passages are shown.
    pruning = service.respond("and pruning them?", [crisis, that, own])
    assert pruning.crisis and "qa-card" in pruning.reply_html
    assert pruning.answer is not None and own.question in pruning.answer.effective_query
    assert CRISIS not in pruning.answer.effective_query
    thanks = service.respond("thanks!", [crisis, that, own, pruning])
    assert thanks.kind == "small_talk" and thanks.answer is None and thanks.crisis
    # Right after a crisis message: a question that points back at it, or at the writer's
    # state, gets the resources alone; a question the articles do not cover says so.
    for leaning in ("how quickly would pruning help with these feelings",
                    "could watering help someone in my situation right now?"):
        turn = service.respond(leaning, [crisis])
        assert turn.crisis and turn.answer is None, leaning
    other = service.respond(OFF_TOPIC, [crisis])
    assert other.crisis and other.answer is not None and other.answer.abstained
    assert "qa-not-covered" in other.reply_html and store.unanswered() == []
    # The crisis_turns turns after the crisis message carry it; then the chat is ordinary.
    turns = [crisis, that, own]
    while len(turns) <= service.settings.crisis_turns + 1:
        turns.append(service.respond("How often should I water tomato plants?", turns))
    assert all(t.crisis and t.carried for t in turns[1:-1]) and not turns[-1].crisis
    assert CRISIS not in " ".join(service.history(turns))


def test_small_talk_is_not_searched_nor_a_follow_up(service: ChatService) -> None:
    asked = service.respond("How often should I water tomato plants?")
    for message in ("thanks!", "ok cool", "Thank you so much", "hello"):
        turn = service.respond(message, [asked])
        assert turn.kind == "small_talk" and turn.answer is None
        assert "qa-card" not in turn.reply_html and "qa-not-covered" not in turn.reply_html
    follow = service.respond("ok so what about pruning them?", [asked])
    assert follow.kind == "answer"


def test_unanswered_questions_are_not_a_follow_ups_context(service: ChatService) -> None:
    unanswered = service.respond(OFF_TOPIC)
    asked = service.respond("How often should I water tomato plants?")
    assert unanswered.answer.abstained
    assert service.history([unanswered, asked]) == [asked.question]


def test_over_long_input_gets_a_friendly_limit_and_no_search(searcher: Searcher) -> None:
    class Counting(Searcher):
        calls = 0

        def search(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            Counting.calls += 1
            return super().search(*args, **kwargs)

    counting = Counting(searcher.index, searcher.embedder, searcher.settings)
    service = ChatService(counting, None, ChatSettings(examples=()))
    turn = service.respond("tomato " * 20_000)
    assert turn.kind == "too_long"
    assert "140,000 characters" in turn.reply_html and "1,000 characters" in turn.reply_html
    assert Counting.calls == 0
    assert len(turn.question) == 1001  # the bubble shows the start, not 140,000 characters


def test_crisis_is_checked_even_in_over_long_input(service: ChatService) -> None:
    turn = service.respond("tomato " * 500 + "and honestly I want to kill myself " + "x " * 500)
    assert turn.kind == "too_long" and turn.crisis
    assert turn.reply_html.startswith('<div class="qa-crisis"')


def test_empty_input_gets_a_gentle_prompt_and_no_bubble(service: ChatService) -> None:
    for message in ("", "   \n ", None):
        turn = service.respond(message)
        assert turn.kind == "empty"
        assert "Type a question" in turn.reply_html
        assert turn.user_message() is None
        assert [m["role"] for m in turn.messages()] == ["assistant"]


def test_search_failure_is_a_friendly_reply(searcher: Searcher) -> None:
    class Broken(Searcher):
        def search(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("disk on fire")

    broken = Broken(searcher.index, searcher.embedder, searcher.settings)
    service = ChatService.__new__(ChatService)  # skip the example check, which would search
    service.searcher, service.store, service.settings = broken, None, ChatSettings()
    service.examples = ()
    turn = service.respond("How often should I water tomato plants?")
    assert turn.kind == "error"
    assert "Please try again" in turn.reply_html and "disk on fire" not in turn.reply_html


HOSTILE_QUESTIONS = [
    '<img src=x onerror="window.__pwned=1">',
    '<div style="position:fixed;inset:0;background:red">compost</div>',
    "![tracker](http://127.0.0.1:9/pixel.png) compost bin",
    "<script>alert(1)</script> compost",
    '"><svg onload=alert(1)>',
]


@pytest.mark.parametrize("question", HOSTILE_QUESTIONS)
def test_html_in_a_question_is_shown_as_text(service: ChatService, question: str) -> None:
    turn = service.respond(question)
    for message in turn.messages():
        assert tags(message["content"]) <= OUR_TAGS, message["content"]
    assert turn.user_message()["content"] == f'<div class="qa-user">{escape(question)}</div>'


def test_html_in_a_passage_is_shown_as_text(service: ChatService) -> None:
    turn = service.respond("compost bin overlay heat weed seeds")
    assert turn.kind == "answer"
    overlay = [c for c in turn.answer.citations if "position:fixed" in c.text]
    assert overlay, "the hostile passage should be among the answers"
    reply = turn.reply_html
    assert tags(reply) <= OUR_TAGS
    assert "&lt;div style=&quot;position:fixed" in reply
    assert "&lt;script&gt;" in reply and "&lt;form action=" in reply
    assert "![compost tracker](http://127.0.0.1:9/markdown.png)" in reply  # literal, no <img>


def test_source_page_escapes_and_marks_the_passage(
    service: ChatService, searcher: Searcher
) -> None:
    turn = service.respond("compost bin overlay heat weed seeds")
    c = turn.answer.citations[0]
    page = source_page_html(searcher.index.documents[c.doc_id], c.start, c.end, "label")
    body = page.split("<body>", 1)[1]
    assert tags(body) <= {"h1", "p", "div", "mark"}
    marked = re.search(r'<mark id="qa-passage">(.*?)</mark>', body, re.S).group(1)
    assert html.unescape(marked) == c.text
    assert escape(NOTICE) in page


# --- votes --------------------------------------------------------------------------------


def test_thumbs_up_is_recorded_once(service: ChatService, store: Store) -> None:
    turn = service.respond("How often should I water tomato plants?")
    voted = service.vote(turn, "up")
    again = service.vote(voted, "up")
    assert again.vote == "up"
    [row] = store.feedback()
    assert row.vote == "up" and row.question == turn.question
    assert row.passage_ids == tuple(c.passage_id for c in turn.answer.citations)
    assert row.index_version == turn.answer.index_version
    assert row.answer_id == turn.answer_id
    assert store.unanswered() == []


def test_thumbs_down_is_recorded_and_logs_the_question(service: ChatService, store: Store) -> None:
    turn = service.vote(service.respond("How often should I water tomato plants?"), "up")
    turn = service.vote(turn, "down")  # a change of mind replaces the vote
    assert [r.vote for r in store.feedback()] == ["down"]
    assert [(r.question, r.reason) for r in store.unanswered()] == [(turn.question, "thumbs_down")]
    assert service.vote(turn, "down") == turn  # the same vote again records nothing
    turn = service.vote(turn, "up")  # the thumbs down is taken back with its log row
    assert [r.vote for r in store.feedback()] == ["up"] and store.unanswered() == []
    turn = service.vote(turn, None)  # withdrawn: nothing of it is left
    assert turn.vote is None and store.feedback() == [] and store.unanswered() == []


def test_thumbs_down_on_not_covered_logs_the_question_once(
    service: ChatService, store: Store
) -> None:
    turn = service.vote(service.respond(OFF_TOPIC), "down")
    assert [r.reason for r in store.unanswered()] == ["abstained"]
    assert [r.vote for r in store.feedback()] == ["down"] and turn.vote == "down"


def test_an_answer_with_a_caution_is_logged_for_staff_once(
    service: ChatService, store: Store
) -> None:
    turn = service.respond("How often should I water tomato plants on my balcony?")
    assert turn.kind == "answer"
    service.vote(turn, "down")
    (row,) = store.unanswered()
    assert (row.reason, row.missing_words) == ("partly_covered", ("balcony",))
    service.respond("How often should I water tomato plants?")  # no caution: nothing logged
    service.ask("How often should I water tomato plants on my terrace?")
    assert [r.missing_words for r in store.unanswered()] == [("terrace",), ("balcony",)]


def test_votes_on_crisis_or_unsearched_turns_are_not_stored(
    service: ChatService, store: Store
) -> None:
    for message in (CRISIS_AND_TOPIC, "   ", "x" * 5000):
        service.vote(service.respond(message), "down")
    assert store.feedback() == [] and store.unanswered() == []
    with pytest.raises(InputError):
        service.vote(service.respond("How often should I water tomato plants?"), "meh")  # type: ignore[arg-type]


def test_without_logging_votes_keep_no_visitor_text(searcher: Searcher, tmp_path: Path) -> None:
    with Store(tmp_path / "quiet.sqlite3", log_questions=False) as quiet:
        service = ChatService(searcher, quiet, ChatSettings(examples=()))
        service.vote(service.respond("How often should I water tomato plants?"), "down")
        service.respond(OFF_TOPIC)
        [row] = quiet.feedback()
        assert row.vote == "down" and row.question is None
        assert quiet.unanswered() == []


def test_messages_and_like_indices_map_back_to_turns(service: ChatService) -> None:
    turns: list[Turn] = [
        service.respond("How often should I water tomato plants?"),
        service.respond(""),  # assistant bubble only
        service.respond(OFF_TOPIC),
    ]
    messages = chat_messages(turns)
    assert [m["role"] for m in messages] == ["user", "assistant", "assistant", "user", "assistant"]
    assert [turn_index_at(turns, i) for i in range(6)] == [0, 0, 1, 2, 2, None]


# --- the structured answer for API users ---------------------------------------------------


def test_an_answer_names_the_words_its_articles_never_mention(service: ChatService) -> None:
    turn = service.respond("How often should I water tomato plants on my <b>balcony</b>?")
    assert turn.kind == "answer"
    reply = turn.reply_html
    caution = re.search(r'<p class="qa-missing" role="note">(.*?)</p>', reply)
    assert caution and "“balcony”" in caution.group(1)
    assert reply.index("qa-missing") < reply.index("qa-card"), "above the passages"
    assert "<b>" not in reply
    assert "qa-missing" not in service.respond("How often should I water tomato plants?").reply_html
    assert service.ask("How often should I water tomato plants on my balcony?")[
        "not_in_corpus"
    ] == ["balcony"]


def test_ask_returns_the_structured_answer(service: ChatService) -> None:
    data = service.ask("How often should I water tomato plants?")
    assert data["abstained"] is False and data["crisis"] is False
    assert data["crisis_message"] is None and data["not_covered"] is None
    first = data["results"][0]
    assert first["rank"] == 1 and first["section"] == "Watering"
    assert {"passage_id", "title", "text", "source", "start", "end", "highlight"} <= set(first)


def test_ask_flags_crisis_and_abstention(service: ChatService) -> None:
    data = service.ask(CRISIS)
    assert data["crisis"] is True and data["crisis_message"] == CRISIS_MESSAGE_TEXT
    assert data["withheld"] is True and data["results"] == [] and data["abstained"] is False
    after = service.ask("would pruning help with that?", [CRISIS])
    assert after["crisis"] is True and after["withheld"] is True and after["results"] == []
    own = service.ask("How often should I water tomato plants?", [CRISIS])
    assert own["crisis"] is True and own["withheld"] is False and own["results"]
    assert own["effective_query"] == own["query"]  # the crisis is not its context
    # As in the chat: small talk between does not change what a follow-up leans on; a
    # follow-up to an informational crisis question is answered; a long crisis message is
    # not an error; small talk is neither searched nor logged.
    assert service.ask("would pruning help with that?", [CRISIS, "thanks"])["withheld"] is True
    asked = service.ask("and pruning?", ["can tomato plants help with suicidal thoughts?"])
    assert asked["withheld"] is False and asked["crisis"] is True
    long = service.ask("I want to kill myself " + "x " * 1000)
    assert long["crisis"] is True and long["withheld"] is True
    thanks = service.ask("thanks!", ["How often should I water tomato plants?"])
    assert thanks["small_talk"] is True and thanks["results"] == [] and not thanks["abstained"]
    off = service.ask(OFF_TOPIC)
    assert off["abstained"] is True and off["results"] == [] and off["not_covered"] == NOT_COVERED


def test_ask_follow_up_uses_history(service: ChatService) -> None:
    data = service.ask("and pruning them?", ["How often should I water tomato plants?"])
    assert data["effective_query"] != data["query"]
    assert "Pruning" in [r["section"] for r in data["results"]]


def test_ask_rejects_empty_and_over_long_questions(service: ChatService) -> None:
    with pytest.raises(EmptyQuestionError):
        service.ask("  ")
    with pytest.raises(InputError, match="1,000 characters"):
        service.ask("x" * 1001)
    with pytest.raises(InputError):
        service.ask("fine", ["y" * 1001])


@pytest.mark.parametrize(
    ("title", "section", "label"),
    [
        ("Growing Tomatoes", "Watering", "[1] Growing Tomatoes — Watering"),
        ("Growing Tomatoes", "", "[1] Growing Tomatoes"),
        # a heading that only repeats the title is not said twice
        (
            "The Advantages of Compost",
            "Advantages of Compost — Richer Soil",
            "[1] The Advantages of Compost — Richer Soil",
        ),
        ("Compost", "compost", "[1] Compost"),
    ],
)
def test_citation_label(title: str, section: str, label: str) -> None:
    citation = Citation(1, "p", "d", title, section, "a.txt", 0, 1, "x", None, 0.0)
    assert citation_label(citation) == label
