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
    r"what else|anything else|anything (?:besides|but|other than|apart from)|besides|apart from|"
    r"other than|any other|tell me more|more about|why( not)?\??$|how come|"
    r"really|ok(?:ay)?|and for|for)\b",
    re.IGNORECASE,
)
# Openings that ask for more of the answer before, without a topic of their own: "like what,
# pills?", "such as?", "for example?", "which conditions?". They continue the whole context (as
# "do they go away?" does), so "pills" is a guess at the answer, not a new topic to check.
_ELABORATION = re.compile(
    r"^\s*(?:like (?:what|which|how|who|when|where)|such as|for (?:example|instance)|e\.?g\b|"
    r"which)\b",
    re.IGNORECASE,
)
#: At most this many content words after an elaboration opening: "which conditions does
#: ketamine treat?" has three and stands alone.
_ELABORATION_WORDS = 2
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
        # prepositions carry no topic either ("what about during pregnancy?")
        "during",
        "after",
        "before",
        "while",
        "without",
        "within",
        "between",
        "through",
        "since",
        "until",
        "again",
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
    """Lower-cased words that carry topic (not stop words, not back-references). A contraction
    is judged without its apostrophe, as visitors type it either way: "what's" is "whats"."""
    return [
        w
        for w in _WORD.findall(text.lower())
        if len(w) > 1 and not {w, w.replace("'", "").replace("’", "")} & (_STOP | _ANAPHORA)
    ]


def shared_title_words(titles: Sequence[str]) -> str:
    """The corpus's subject as its titles name it: the content words in the most titles, if
    in at least two and at least half of them ("ketamine" for the default corpus's four
    articles), in the order first seen; "" when the titles share no such word."""
    seen: dict[str, int] = {}
    for title in titles:
        for word in dict.fromkeys(content_words(title)):
            seen[word] = seen.get(word, 0) + 1
    top = max(seen.values(), default=0)
    if top < 2 or 2 * top < len(titles):
        return ""
    return " ".join(word for word, count in seen.items() if count == top)


def refers_back(question: str) -> bool:
    """Whether the question points at something said before ("it", "these", "that")."""
    return any(w in _ANAPHORA for w in _WORD.findall(question.lower()))


#: A follow-up that points back with more content words than this brings a topic of its own.
_OWN_TOPIC_WORDS = 3


def new_topic(question: str) -> str:
    """The topic a follow-up brings of its own (its content words, joined): a "what about X?"
    / "and X?" one's, or one's that points back with more than three content words ("is that
    well proven yet or kinda experimental"); "" for any other question."""
    topical = content_words(question)
    if _CONTINUATION.match(question) is None and not (
        refers_back(question) and len(topical) > _OWN_TOPIC_WORDS
    ):
        return ""
    return " ".join(topical)


#: A follow-up opening as a continuation strays from the corpus with this many words the
#: articles never use (and at least a third of its content words): see :func:`strays`.
_STRAY_WORDS = 2


def strays(question: str, unknown: Sequence[str]) -> bool:
    """Whether a follow-up that opens as a continuation ("and", "so", "what about") has left
    the corpus's subject, given its words the articles never use and no passage shown comes
    near (``unknown``, :attr:`qa.records.Answer.not_in_corpus`): at least two, and at least a
    third of its content words. "so whats the best way to make a cold brew tea infusion" after
    "what is ketamine infusion therapy" names "cold", "brew" and "tea" of four."""
    if _CONTINUATION.match(question) is None:
        return False
    return len(unknown) >= _STRAY_WORDS and 3 * len(unknown) >= len(content_words(question))


def is_followup(question: str, subject: str = "") -> bool:
    """True when the question leans on an earlier turn to be understood. ``subject``: the
    corpus's subject (:func:`shared_title_words`), "" when it has none or it is not known."""
    words = _WORD.findall(question.lower())
    if not words:
        return False
    if _CONTINUATION.match(question):
        return True
    topical = content_words(question)
    if _ELABORATION.match(question) and len(topical) <= _ELABORATION_WORDS:
        return True
    if not refers_back(question):
        return len(topical) == 0
    # "is it safe to stay on it long term?" refers back with three content words. One with
    # more can lean on the turns before as much: "is that well proven yet or kinda
    # experimental" after two turns on PTSD, "would it still be worth a try" after one on OCD.
    # It stands alone when it names the corpus's subject ("my friend is in a bad place, is
    # ketamine used for emergencies like that"), or when the subject is not known.
    if len(topical) <= _OWN_TOPIC_WORDS:
        return True
    return bool(subject) and not set(topical) & set(content_words(subject))


def resolve_followup(question: str, history: Sequence[str], subject: str = "") -> str:
    """The query to search: the question, prefixed by the topic of the turns before it.

    A follow-up continues the whole resolved turn before it ("do they go away?"), except one
    that opens a new topic ("what about anxiety?", "and for ptsd?"): that one attaches to the
    last question that stood alone, replacing the earlier refinements instead of piling them
    up, so after "side effects?" and "what about anxiety?", "and ptsd?" is searched as
    "side effects? and ptsd?". Turns without a single content word ("hi", "thanks") carry no
    topic and are skipped. ``subject``: the corpus's subject, as :func:`is_followup` takes it.
    """
    return resolve_context(question, history, subject)[0]


def resolve_context(
    question: str, history: Sequence[str], subject: str = ""
) -> tuple[str, tuple[str, ...]]:
    """:func:`resolve_followup`'s query, and the earlier turns it puts before the question, in
    order (turns it left out are not there): () when the question stands alone, the kept
    context as one string when a long one was cut at its start."""
    base = context = ""
    turns: tuple[str, ...] = ()
    for turn in history:
        turn = turn.strip()
        if content_words(turn):
            base, context, turns = _resolve(turn, base, context, turns, subject)
    question = question.strip()
    if not base:
        return question, ()
    _, query, turns = _resolve(question, base, context, turns, subject)
    if query == question:
        return query, ()
    kept = query[: -len(question)].rstrip()
    earlier = turns[:-1]
    return query, earlier if " ".join(earlier) == kept else (kept,)


def _resolve(
    turn: str, base: str, context: str, turns: tuple[str, ...], subject: str
) -> tuple[str, str, tuple[str, ...]]:
    """(last standalone question, resolved query, the turns it joins) after ``turn``."""
    if not base or not is_followup(turn, subject):
        return turn, turn, (turn,)
    new_topic = _CONTINUATION.match(turn) is not None and bool(content_words(turn))
    if new_topic:
        return base, _join(base, turn), (base, turn)
    return base, _join(context, turn), (*turns, turn)


_PLEASANTRY = frozenset(
    {
        "hi", "hello", "hey", "hiya", "thanks", "thank", "you", "thx", "ty", "cheers", "ok",
        "okay", "k", "cool", "great", "nice", "good", "awesome", "perfect", "excellent",
        "brilliant", "fine", "alright", "got", "it", "bye", "goodbye", "see", "ya", "morning",
        "evening", "lol", "haha", "wow", "oh", "ah", "yes", "yeah", "yep", "no", "nope", "sure",
        "much", "very", "so", "a", "lot", "that", "this", "helps", "helped", "helpful", "was",
        "is", "appreciate", "appreciated", "there", "one", "answer", "interesting", "for", "the",
        "help", "info", "information", "understood", "makes", "sense", "later", "hmm", "hm",
        "hmmm", "um", "umm", "uh", "huh", "mhm",
    }
)


#: Chat about the chat: how it is going, who or what is answering ("how are you", "are you a
#: bot?", "who am i talking to"). An exploratory session found "how are you" answered with a
#: passage on emotional well-being.
_PHATIC = re.compile(
    r"(?:(?:hi|hello|hey|ok|okay|so)\s+)*(?:"
    r"how\s+(?:are|r)\s+(?:you|u|ya)(?:\s+doing)?(?:\s+today)?|how\s*(?:'s|s|is)\s+it\s+going|"
    r"what\s*(?:'s|s|is)\s+up|sup|how\s+do\s+you\s+do|"
    r"who\s+(?:are|r)\s+(?:you|u)|what\s+(?:are|r)\s+(?:you|u)|"
    r"who\s+am\s+i\s+(?:talking|speaking|chatting)\s+(?:to|with)|"
    r"(?:are\s+(?:you|u)|is\s+this)\s+(?:a\s+|an\s+)?(?:real\s+)?"
    r"(?:bot|robot|ai|human|person|chatbot|real)|"
    r"what\s*(?:'s|s|is)\s+your\s+name"
    r")",
)


def is_small_talk(text: str) -> bool:
    """A greeting, thanks or acknowledgement ("thanks!", "that helps", "hello", "👍"), or chat
    about the chat ("how are you?", "who am i talking to, is this a real person"): nothing to
    search, and not a follow-up to the question before it."""
    lowered = text.lower().replace("’", "'")
    words = _WORD.findall(lowered)
    if not words:  # only emoji or punctuation ("👍", ":)"), not an empty message
        return bool(text.strip()) and len(text.strip()) <= 12
    if len(words) <= 6 and all(w in _PLEASANTRY for w in words):
        return True
    clauses = [c.strip() for c in re.split(r"[,;.!?]+", lowered) if c.strip()]
    return len(words) <= 12 and all(
        _PHATIC.fullmatch(c) or all(w in _PLEASANTRY for w in _WORD.findall(c)) for c in clauses
    )


#: How much earlier context a resolved query keeps; the turn itself is always kept whole.
CONTEXT_CHARS = 300


def _join(context: str, turn: str) -> str:
    # Over a long chat the context would grow without bound: keep its last CONTEXT_CHARS
    # characters (the latest refinements of the topic), cut at a word boundary.
    if len(context) > CONTEXT_CHARS:
        context = context[-CONTEXT_CHARS:]
        context = context[context.find(" ") + 1 :] if " " in context else context
    return f"{context} {turn}"
