"""Follow-up resolution: which turns lean on earlier ones, and what query is searched for them."""

from __future__ import annotations

import pytest

from qa.followup import (
    content_words,
    is_followup,
    is_small_talk,
    new_topic,
    resolve_context,
    resolve_followup,
    shared_title_words,
    strays,
)

SIDE_EFFECTS = "What are the side effects of ketamine?"


@pytest.mark.parametrize(
    "question",
    [
        "do they go away?",
        "how long do they last?",
        "is it safe?",
        "How much does it cost?",
        "Can it help with anxiety?",
        "how does it compare to SSRIs?",
        "What about for depression?",
        "and for PTSD?",
        "why?",
        "tell me more",
        "anything else?",
        # apostrophes left out: "whats" and "thats" are function words, not topic
        "whats it like living with it, like what are the main sympotms",
        "thats normal right? whats it feel like",
        # asking for more of the answer before: "pills" is a guess, not a topic of its own
        "like what, pills?",
        "such as?",
        "for example?",
        "which conditions?",
        "which kinds of pain?",
        # "anything besides X?" asks for more than the answer before gave
        "anything besides mental health stuff?",
        "besides depression?",
    ],
)
def test_questions_that_lean_on_an_earlier_turn(question: str) -> None:
    assert is_followup(question)


@pytest.mark.parametrize(
    "question",
    [
        SIDE_EFFECTS,
        "What is esketamine?",
        "How does ketamine work in the brain?",
        "Does insurance cover ketamine treatment?",
        "Is ketamine therapy safe for people with high blood pressure?",
        # It says "it", but four content words carry a topic of their own.
        "what are the side effects of it for chronic pain patients?",
        # "which" with a topic of its own
        "which conditions can ketamine treat?",
        # one topic word and no pointer back: a question of its own, even if short
        "pizza?",
        "",
        "???",
    ],
)
def test_questions_that_stand_alone(question: str) -> None:
    assert not is_followup(question)


@pytest.mark.parametrize(
    ("question", "leans"),
    [
        # Pointing back with four or more content words: leans on the earlier turns unless
        # it names the corpus's subject.
        ("is that well proven yet or kinda experimental", True),
        ("i've been on 2 different meds for mine and neither did much, would it still help", True),
        ("my friend is in a bad place, is ketamine used for emergencies like that", False),
        ("what are the side effects of it for chronic pain patients?", True),
        # No pointer back: four content words stand alone, subject or not.
        ("how many sessions before you notice a difference", False),
        # Short ones lean on the earlier turn as before.
        ("is it safe?", True),
    ],
)
def test_a_long_question_pointing_back_leans_unless_it_names_the_subject(
    question: str, leans: bool
) -> None:
    assert is_followup(question, subject="ketamine") is leans
    # Without a known subject nothing says what "that" could be: it stands alone when long.
    long = len(content_words(question)) > 3
    assert is_followup(question) is (leans and not long)
    history = ["can ketamine help with ptsd"]
    resolved = resolve_followup(question, history, subject="ketamine")
    assert resolved == (f"{history[0]} {question}" if leans else question)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("and how do i bake bread?", "bake bread"),
        ("is that well proven yet or kinda experimental", "well proven yet kinda experimental"),
        ("is it safe?", ""),  # refers back with too few words to bring a topic
        ("do they go away?", ""),
        ("how many sessions before you notice a difference", ""),  # does not point back
    ],
)
def test_the_topic_a_follow_up_brings_of_its_own(question: str, topic: str) -> None:
    assert new_topic(question) == topic


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        # The canonical case: both the topic and the follow-up are searched.
        ([SIDE_EFFECTS], "do they go away?", f"{SIDE_EFFECTS} do they go away?"),
        # A standalone question is searched as it is, whatever came before.
        ([SIDE_EFFECTS], "What is esketamine?", "What is esketamine?"),
        (
            [SIDE_EFFECTS],
            "Does insurance cover ketamine treatment?",
            "Does insurance cover ketamine treatment?",
        ),
        # A chain of two follow-ups keeps the topic of the turn that started it.
        (
            [SIDE_EFFECTS, "do they go away?"],
            "how long do they last?",
            f"{SIDE_EFFECTS} do they go away? how long do they last?",
        ),
        # A new topic resets the context; a follow-up then attaches to the new topic only.
        (
            [SIDE_EFFECTS, "do they go away?", "Does insurance cover ketamine treatment?"],
            "how much does it cost?",
            "Does insurance cover ketamine treatment? how much does it cost?",
        ),
        # "what about X?" / "and X?" switch the refinement: they attach to the last question
        # that stood alone, instead of piling up every earlier refinement.
        (
            [SIDE_EFFECTS, "what about for anxiety?", "and for ptsd?"],
            "what about chronic pain?",
            f"{SIDE_EFFECTS} what about chronic pain?",
        ),
        (
            [SIDE_EFFECTS, "what about nausea?"],
            "how long does it last?",
            f"{SIDE_EFFECTS} what about nausea? how long does it last?",
        ),
        # Asking for examples continues the whole context, not only the last standalone turn.
        (
            [SIDE_EFFECTS, "do they go away?"],
            "like what, nausea?",
            f"{SIDE_EFFECTS} do they go away? like what, nausea?",
        ),
        # No history, or only blank turns: nothing to lean on.
        ([], "do they go away?", "do they go away?"),
        (["", "   "], "do they go away?", "do they go away?"),
        # Surrounding space is trimmed, inside the turns too.
        (["  " + SIDE_EFFECTS + "  "], "  do they go away?  ", f"{SIDE_EFFECTS} do they go away?"),
    ],
)
def test_resolve_followup(history: list[str], question: str, expected: str) -> None:
    assert resolve_followup(question, history) == expected


def test_resolved_followup_contains_both_turns() -> None:
    query = resolve_followup("do they go away?", [SIDE_EFFECTS]).lower()
    assert "side effects" in query and "ketamine" in query and "go away" in query


def test_long_chains_stay_bounded_and_end_with_the_latest_turn() -> None:
    history = [SIDE_EFFECTS] + [f"and what about case number {n}?" for n in range(40)]
    query = resolve_followup("and then?", history)
    assert len(query) <= 300 + len(" and then?")
    assert query.endswith("and what about case number 39? and then?")


def test_a_long_follow_up_is_kept_whole() -> None:
    question = "and what about " + "very " * 100 + "long ones?"
    assert resolve_followup(question, [SIDE_EFFECTS]).endswith(question)


def test_turns_without_a_topic_are_not_context() -> None:
    assert resolve_followup("do they go away?", ["hi", "thanks"]) == "do they go away?"
    assert resolve_followup("do they go away?", [SIDE_EFFECTS, "ok thanks"]) == (
        f"{SIDE_EFFECTS} do they go away?"
    )


def test_content_words_leave_out_stop_words_and_back_references() -> None:
    assert content_words("Do THEY go away?") == ["away"]
    assert content_words(SIDE_EFFECTS) == ["side", "effects", "ketamine"]
    assert content_words("it's what it is") == []
    # a contraction is judged as typed without its apostrophe ("whats" is a stop word)
    assert content_words("what’s the WEATHER, what's it like") == ["weather"]


@pytest.mark.parametrize(
    "text",
    [
        "thanks!", "ok cool", "Thank you so much", "hello", "bye", "hmm", "umm ok",
        # chat about the chat
        "how are you", "hi, how are you doing today?", "who am i talking to, is this a real person",
        "are you a bot?", "What’s your name?", "who are you", "hows it going",
    ],
)
def test_small_talk(text: str) -> None:
    assert is_small_talk(text)


@pytest.mark.parametrize(
    "text",
    [
        "ok so what about pruning?", "thanks, and do they go away?", "", "no side effects?",
        "how are you supposed to feel after it?", "who are you supposed to see for it",
        "are you able to drive after?", "what is it", "how is it", "is this real research?",
    ],
)
def test_questions_are_not_small_talk(text: str) -> None:
    assert not is_small_talk(text)


@pytest.mark.parametrize(
    ("history", "question", "context"),
    [
        ([SIDE_EFFECTS], "do they go away?", (SIDE_EFFECTS,)),
        ([SIDE_EFFECTS, "do they go away?"], "how long?", (SIDE_EFFECTS, "do they go away?")),
        # "what about X?" replaced the refinement: the turn left out is skipped
        ([SIDE_EFFECTS, "what about nausea?"], "and for ptsd?", (SIDE_EFFECTS,)),
        # a question that stands alone has no context
        ([SIDE_EFFECTS], "What is esketamine?", ()),
        ([], "do they go away?", ()),
    ],
)
def test_resolution_names_the_turns_a_follow_up_was_read_with(
    history: list[str], question: str, context: tuple[str, ...]
) -> None:
    query = resolve_followup(question, history)
    assert resolve_context(question, history) == (query, context)


def test_a_context_cut_at_its_start_is_one_string() -> None:
    history = ["why " * 100 + "is ketamine used for depression?"]
    _, context = resolve_context("do they go away?", history)
    assert len(context) == 1 and history[0].endswith(context[0]) and context[0] != history[0]


def test_the_subject_is_the_word_most_titles_share() -> None:
    titles = [
        "Ketamine Effectively Treats Severe Depression",
        "The Potential Advantages of Ketamine Therapy",
        "Ketamine",
        "What Conditions Can Ketamine Treat?",
    ]
    assert shared_title_words(titles) == "ketamine"
    assert shared_title_words(["Sleep Apnea Basics", "Sleep Apnea Treatment", "CPAP"]) == (
        "sleep apnea"  # tied words, in the order first seen
    )
    # no word in two titles, or in fewer than half of them: no subject
    assert shared_title_words(["Beekeeping", "Sourdough Bread", "Bicycle Maintenance"]) == ""
    assert shared_title_words(["Bee Care", "Bee Food", "Bread", "Bikes", "Boats"]) == ""
    assert shared_title_words(["Ketamine"]) == ""
    assert shared_title_words([]) == ""


@pytest.mark.parametrize(
    ("question", "unknown", "strayed"),
    [
        # Continuations with two or more words the articles never use, a third of their words
        ("so whats the best way to make a cold brew tea infusion", ["cold", "brew", "tea"], True),
        ("and what about car insurance for a 2009 civic", ["car", "civic"], True),
        # one unknown word is too little ("hooked" is the dependency the articles speak of)
        ("but cant you get hooked on it too", ["hooked"], False),
        # two of seven content words: under a third
        ("and is it safe for older people with heart trouble and bad knees", ["knees", "older"],
         False),
        # not a continuation: a question in its own right is never judged so
        ("whats the best way to make a cold brew tea infusion", ["cold", "brew", "tea"], False),
    ],
)
def test_a_continuation_strays_with_two_unknown_words_and_a_third_of_its_own(
    question: str, unknown: list[str], strayed: bool
) -> None:
    assert strays(question, unknown) is strayed

