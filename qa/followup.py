"""Follow-up resolution: a question that leans on earlier turns is searched with their context.

"do they go away?" after "What are the side effects of ketamine?" is searched as
"What are the side effects of ketamine? do they go away?". The rule is deliberately simple and
explainable (the effective query is shown to the visitor): a turn is a follow-up when it refers
back (a pronoun or "what about ..."), or has too few content words to stand alone. Each earlier
turn is resolved the same way, so chains of follow-ups keep their topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")

# Words that point back at something said before.
_ANAPHORA = frozenset(
    [
        "it",
        "its",
        "it's",
        "itself",
        "they",
        "them",
        "their",
        "theirs",
        "those",
        "these",
        "this",
        "that",
        "there",
        "he",
        "she",
        "him",
        "her",
        "one",
        "ones",
        "such",
        # typed without the apostrophe, as visitors do
        "thats",
        "theyre",
        "theres",
    ]
)
# Openings that only make sense as a continuation.
_CONTINUATION = re.compile(
    r"^\s*(?:and|but|also|so|then|what about|how about|what if|and what about|same for|"
    r"what else|anything else|any other|tell me more|more about|why( not)?\??$|how come|"
    r"really|ok(?:ay)?|and for|for)\b",
    re.IGNORECASE,
)
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "can",
        "could",
        "will",
        "would",
        "shall",
        "should",
        "may",
        "might",
        "must",
        "i",
        "me",
        "my",
        "you",
        "your",
        "we",
        "our",
        "us",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "about",
        "as",
        "into",
        "like",
        "than",
        "then",
        "so",
        "and",
        "or",
        "but",
        "if",
        "not",
        "no",
        "yes",
        "just",
        "very",
        "really",
        "much",
        "many",
        "more",
        "most",
        "some",
        "any",
        "all",
        "each",
        "every",
        "other",
        "also",
        "too",
        "only",
        "own",
        "same",
        "there",
        "here",
        "get",
        "got",
        "go",
        "goes",
        "going",
        "gone",
        "make",
        "makes",
        "take",
        "takes",
        "work",
        "works",
        "worked",
        "long",
        "fast",
        "soon",
        "often",
        "way",
        "thing",
        "things",
        "lot",
        "please",
        "tell",
        "know",
        "want",
        "need",
        "anyone",
        "someone",
        "okay",
        "ok",
        "thanks",
        "thank",
        "hi",
        "hello",
        "hey",
        # contractions typed without the apostrophe ("whats", "dont"): still only function words
        "whats",
        "hows",
        "whos",
        "wheres",
        "whens",
        "whys",
        "im",
        "ive",
        "id",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "cant",
        "wont",
        "wouldnt",
        "shouldnt",
        "couldnt",
    ]
)


def content_words(text: str) -> list[str]:
    """Lower-cased words that carry topic (not stop words, not back-references)."""
    return [
        w
        for w in _WORD.findall(text.lower())
        if w not in _STOP and w not in _ANAPHORA and len(w) > 1
    ]


def is_followup(question: str) -> bool:
    """True when the question leans on an earlier turn to be understood."""
    words = _WORD.findall(question.lower())
    if not words:
        return False
    if _CONTINUATION.match(question):
        return True
    topical = content_words(question)
    refers_back = any(w in _ANAPHORA for w in words)
    # "is it safe to stay on it long term?" refers back with three content words; a question
    # with four or more has enough topic of its own to stand alone even if it says "it".
    return (refers_back and len(topical) <= 3) or len(topical) == 0


def resolve_followup(question: str, history: Sequence[str]) -> str:
    """The query to search: the question, prefixed by the resolved topic of the turn before it.

    Turns without a single content word ("hi", "thanks") carry no topic and are skipped.
    """
    context = ""
    for turn in history:
        turn = turn.strip()
        if not content_words(turn):
            continue
        context = _join(context, turn) if (context and is_followup(turn)) else turn
    if context and is_followup(question):
        return _join(context, question.strip())
    return question.strip()


#: How much earlier context a resolved query keeps; the turn itself is always kept whole.
CONTEXT_CHARS = 300


def _join(context: str, turn: str) -> str:
    # Over a long chat the context would grow without bound: keep its last CONTEXT_CHARS
    # characters (the latest refinements of the topic), cut at a word boundary.
    if len(context) > CONTEXT_CHARS:
        context = context[-CONTEXT_CHARS:]
        context = context[context.find(" ") + 1 :] if " " in context else context
    return f"{context} {turn}"
