"""Crisis-language detection, run on every question before retrieval so that help comes first.

A visitor who writes about suicide, self-harm, wanting to die or an overdose is shown
:data:`CRISIS_MESSAGE` before any passage. Missing distress is the costly mistake; showing the
resources above the passages of a legitimate question ("does ketamine help with suicidal
thoughts?", "can you overdose on ketamine?") is intended. Decisions that follow from this:

- Negation is not a reason to stay quiet: "I'm not suicidal but..." still shows the resources,
  because people in crisis often play it down and the cost of showing them is a few lines.
- Idioms that are never about the speaker's death stay quiet: "I'm dying to know", "kill the
  pain", "the drug killed the bacteria", "die-hard", "dead tired". "This pain is killing me"
  stays quiet too: a very common way to describe pain, and pain is a topic of the corpus. A
  wish or a plan next to it ("I wish this pain would kill me") does trigger.

How: pure Python, linear time, no model. The text is cut into word tokens, each mapped to a
canonical spelling: case, accents, curly apostrophes, leetspeak ("k1ll"), runs of one letter
("diiiie"), letters spelled out ("k i l l"), a list of known misspellings, and one edit
(Damerau-Levenshtein distance 1) against a few long keywords that have no common English word
one edit away. Phrase rules, written in a small word-level notation (:mod:`qa.safety_rules`),
then run as regular expressions over the canonical tokens; every gap in them is bounded, so
matching cannot backtrack catastrophically.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from qa.safety_rules import FUZZY, NOT_TYPOS, RULES, SETS, SPLITS, TYPOS

# The resources come first, so that a small phone shows all three without scrolling; why the
# bot cannot help follows them.
CRISIS_MESSAGE = """\
**You are not alone, and help is available right now.** Please reach out to people who can help:

- **In the US:** call or text **988** (988 Suicide & Crisis Lifeline), free and confidential, \
any time.
- **Outside the US:** find a helpline in your country at \
[findahelpline.com](https://findahelpline.com), an international directory.
- **If you are in immediate danger or it is an emergency:** call **911** or your local \
emergency number now.

This is an information bot: it can only show passages from articles, and it cannot help in a \
crisis.
"""

# The same words for plain-text outputs (CLI, JSON): no bold, the link written out.
CRISIS_MESSAGE_TEXT = re.sub(r"\[[^\]]*\]\(([^)]*)\)", r"\1", CRISIS_MESSAGE.replace("**", ""))

# Most specific first: when rules of two categories match, the earlier category is reported.
CATEGORIES = ("suicide", "self_harm", "overdose", "wish_to_die")


@dataclass(frozen=True)
class CrisisSignal:
    """What triggered the crisis message: its category and the visitor's own words that matched.

    ``personal``: more than a topic word a question may be about ("does ketamine help with
    suicidal thoughts?"): a wish, plan or act ("want to die", any rule not marked "?" in
    :mod:`qa.safety_rules`), a feeling ("feeling suicidal"), or the first person ("I", "my",
    "kms"). ``lethal``: it asks about lethal means (a rule marked "+"). Either way the chat
    shows the resources and no passage: a visitor writing about a crisis needs help, not
    articles, and no passage should read as an answer to "how much would kill me". An
    informational question in the first person ("I read that ketamine reduces suicidal
    thoughts") gets the resources alone too: that mistake costs a re-asked question.
    """

    category: str  # one of CATEGORIES
    matched: str
    personal: bool = False
    lethal: bool = False

    @property
    def withholds_passages(self) -> bool:
        return self.personal or self.lethal


# --- Spelling: how a raw token becomes the canonical words the rules are written in. --------

_LEET = str.maketrans("013457@$", "oieastas")
_APOSTROPHES = "'’‘ʼ`´′"
_TOKEN = re.compile(r"[\w@$]+(?:[" + _APOSTROPHES + r"][\w@$]+)*|\.{2,}|…|[.!?;]")
_OD_FORMS = {"od'd": "overdosed", "od'ed": "overdosed", "od'ing": "overdosing", "od's": "overdose"}


def _squeeze(word: str, keep: int) -> str:
    """Shorten runs of one letter to ``keep`` letters ("sooo" -> "soo" or "so")."""
    return re.sub(r"(.)\1{%d,}" % keep, r"\1" * keep, word)  # noqa: UP031


def _within_one_edit(a: str, b: str) -> bool:
    """Optimal-string-alignment distance <= 1: one insertion, deletion, substitution or swap."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k in range(len(a)) if a[k] != b[k]), len(a))
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    swapped = a[i + 2 :] == b[i + 2 :] and a[i : i + 2] == b[i : i + 2][::-1]
    return a[i + 1 :] == b[i + 1 :] or swapped


def _deletions(word: str) -> set[str]:
    return {word[:k] + word[k + 1 :] for k in range(len(word))}


_VOCAB = frozenset(
    word
    for spec in (
        *SETS.values(),
        *itertools.chain(*RULES.values()),
        *TYPOS.values(),
        *SPLITS.values(),
    )
    for word in re.findall(r"[a-z]+", spec)
)
_LONGEST_WORD = max(map(len, _VOCAB)) + 1  # a longer token is never one edit from a rule word
_by_skeleton: dict[str, set[str]] = {}
for _word in _VOCAB:
    if len(_word) >= 2:
        _by_skeleton.setdefault(_squeeze(_word, 1), set()).add(_word)
# A skeleton shared by two rule words ("to", "too") tells nothing, so it is left out.
_SKELETON = {skeleton: min(ws) for skeleton, ws in _by_skeleton.items() if len(ws) == 1}
# Symmetric-delete index: a word one edit from a keyword shares a deletion (or itself) with it.
_FUZZY_INDEX: dict[str, set[str]] = {}
for _word in FUZZY:
    for _key in {_word} | _deletions(_word):
        _FUZZY_INDEX.setdefault(_key, set()).add(_word)


def _canonical(raw: str) -> tuple[str, ...]:
    """The canonical words of one raw token: usually one, several for "selfharm" or "kms"."""
    # Questions repeat their words; only short tokens are cached, so memory stays bounded.
    return _canonical_short(raw) if len(raw) <= 2 * _LONGEST_WORD else _respell(raw)


@lru_cache(maxsize=16384)
def _canonical_short(raw: str) -> tuple[str, ...]:
    return _respell(raw)


def _respell(raw: str) -> tuple[str, ...]:
    word = unicodedata.normalize("NFKD", raw).casefold()
    word = "".join(c for c in word if not unicodedata.combining(c))
    for mark in _APOSTROPHES:
        word = word.replace(mark, "'")
    if word in _OD_FORMS:
        return (_OD_FORMS[word],)
    if not word[:1].isdigit():  # "k1ll" and "$uicide" are leet; "20mg" is a dose
        word = word.translate(_LEET)
    words = word.replace("'", "").replace("_", " ").split()
    return tuple(part for w in words for part in _spell(w).split("_"))


def _spell(word: str) -> str:
    """One word in canonical spelling ("_" joins several); unknown words come back unchanged."""
    word = _squeeze(word, 2)
    if word in SPLITS:
        return SPLITS[word]
    if word in _VOCAB:
        return word
    if word in TYPOS:
        return SPLITS.get(TYPOS[word], TYPOS[word])
    skeleton = _squeeze(word, 1)
    if skeleton in _SKELETON and word not in NOT_TYPOS:
        return _SKELETON[skeleton]
    if 5 <= len(word) <= _LONGEST_WORD and word not in NOT_TYPOS:
        keys = {word} | _deletions(word)
        candidates = set().union(*(_FUZZY_INDEX.get(key, ()) for key in keys))
        matches = sorted(c for c in candidates if _within_one_edit(word, c))
        if matches:
            return SPLITS.get(matches[0], matches[0])
    return word


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """Canonical words, "." for a sentence end, each with the span of its raw token in ``text``.

    A run of single letters ("k i l l", "s-u-i-c-i-d-e") becomes one word if it spells one.
    """
    out: list[tuple[str, int, int]] = []
    run: list[tuple[str, int, int]] = []

    def flush_run() -> None:
        joined = "".join(letter for letter, _, _ in run)
        words = _canonical(joined) if 3 <= len(run) <= _LONGEST_WORD else ()
        if words and all(w in _VOCAB for w in words):
            out.extend((w, run[0][1], run[-1][2]) for w in words)
        else:
            out.extend((w, start, end) for letter, start, end in run for w in _canonical(letter))
        run.clear()

    for match in _TOKEN.finditer(text):
        raw, start, end = match.group(), match.start(), match.end()
        if raw == "…" or (raw[0] == "." and len(raw) > 1):
            continue  # an ellipsis joins, it does not end a sentence
        if len(raw) == 1 and raw.isalpha():
            run.append((raw, start, end))
            continue
        flush_run()
        words = (".",) if raw in ".!?;" else _canonical(raw)
        if raw.casefold() == "kms" and out and out[-1][0].isdigit():
            words = ("km",)  # "50 kms" is a distance
        out.extend((w, start, end) for w in words)
    flush_run()
    return out


# --- Compiling the rules into regular expressions over " word word . word ". -----------------


def _alternatives(spec: str) -> str:
    words: list[str] = []
    for alt in spec.split("|"):
        words.extend(SETS[alt[1:]].split() if alt.startswith("@") else [alt])
    return "|".join(sorted({w.replace("_", " ") for w in words}, key=len, reverse=True))


def _slot(slot: str) -> str:
    """The expression of one slot of a rule: whole tokens, each followed by its space."""
    if slot[0] in "*~":
        count, _, name = slot[1:].partition(":")
        word = "[a-z0-9]+" if slot[0] == "*" else f"(?:{_alternatives('@' + (name or 'FILL'))})"
        return "(?:" + word + " ){0," + count + "}"
    if slot[0] == "!":
        return "(?!(?:" + _alternatives(slot[1:]) + ") )"
    alternatives = slot.rstrip("?").split("|")
    words = [alt for alt in alternatives if alt not in ("$", "#")]
    parts = ["(?:" + _alternatives("|".join(words)) + ") "] if words else []
    if "#" in alternatives:
        parts.append("[1-9][0-9]+ ")
    if "$" in alternatives:
        parts.append(r"(?=\. |$)")
    return "(?:" + "|".join(parts) + ")" + ("?" if slot.endswith("?") else "")


def _compile(rules: Iterable[str]) -> re.Pattern[str]:
    expressions = ("".join(_slot(slot) for slot in rule.lstrip("+?").split()) for rule in rules)
    return re.compile("(?<= )(?:" + "|".join(expressions) + ")")


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One expression per category, compiled on first use (about 0.1 s) to keep imports fast."""
    return tuple((category, _compile(RULES[category])) for category in CATEGORIES)


@lru_cache(maxsize=1)
def _lethal_pattern() -> re.Pattern[str]:
    """The rules marked "+" (lethal means), of every category."""
    return _compile(rule for rules in RULES.values() for rule in rules if rule.startswith("+"))


@lru_cache(maxsize=1)
def _beyond_topic_pattern() -> re.Pattern[str]:
    """Every rule but topic words ("?") and lethal means ("+"): a wish, a plan, an act."""
    return _compile(rule for rules in RULES.values() for rule in rules if rule[0] not in "?+")


# Words that make a topic word a state of the writer: "feeling suicidal", "been overdosing".
_STATE = frozenset({"feel", "feels", "feeling", "felt", "am", "been", "getting", "having"})


# Canonical words by which a text speaks of its writer ("kms" is read as "kill myself").
_FIRST_PERSON = frozenset(
    {
        "i", "im", "ive", "id", "me", "my", "myself", "mine", "meself", "yo", "mi", "je", "moi",
        "mon", "ich", "mich", "mein", "meine",
    }
)


def _canonical_text(tokens: Sequence[tuple[str, int, int]]) -> str:
    return " " + " ".join(word for word, _, _ in tokens) + " "


def detect_crisis(text: str) -> CrisisSignal | None:
    """The crisis signal in ``text``, or None if there is none.

    Categories are tried in the order of :data:`CATEGORIES`, most specific first ("I feel like
    killing myself" is "suicide", not "wish_to_die"); within a category the earliest match is
    returned. Linear in the length of ``text``: 100,000 characters take well under a second.
    """
    tokens = _tokens(text)
    canonical = _canonical_text(tokens)
    for category, pattern in _patterns():
        match = pattern.search(canonical)
        if match is not None:
            starts = list(itertools.accumulate((len(w) + 1 for w, _, _ in tokens), initial=1))
            first = bisect.bisect_right(starts, match.start()) - 1
            last = bisect.bisect_right(starts, match.end() - 2) - 1
            words = {word for word, _, _ in tokens}
            return CrisisSignal(
                category,
                text[tokens[first][1] : tokens[last][2]],
                personal=bool(words & (_FIRST_PERSON | _STATE))
                or _beyond_topic_pattern().search(canonical) is not None,
                lethal=_lethal_pattern().search(canonical) is not None,
            )
    return None
