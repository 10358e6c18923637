"""What the chat does with a visitor's message, apart from any web framework.

One message becomes one :class:`Turn`: the crisis check runs first, on the whole text whatever
its length; then the length limit; then the search, with the earlier questions of the
conversation so that a follow-up is resolved. The turn holds both the reply's HTML and what a
thumbs up or down must record, so votes are stored from server-side state, never from what a
browser sends back. The Gradio wiring lives in :mod:`qa.ui`; tests drive this module directly.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from qa.chat_html import (
    answer_html,
    crisis_html,
    message_html,
    not_covered_html,
    user_html,
)
from qa.errors import InputError
from qa.followup import is_followup, is_small_talk, refers_back
from qa.live import LiveSearcher
from qa.records import Answer, stable_id
from qa.render import NOT_COVERED, answer_json
from qa.safety import (
    CRISIS_MESSAGE,
    CRISIS_MESSAGE_TEXT,
    CrisisSignal,
    detect_crisis,
)
from qa.search import Searcher, clean_question
from qa.store import Store, StoreError

log = logging.getLogger(__name__)

Kind = Literal["answer", "not_covered", "crisis", "empty", "small_talk", "too_long", "error"]
Vote = Literal["up", "down"]

# Example questions for the bundled ketamine corpus; any that the loaded corpus does not answer
# are dropped at start-up (see ChatService.__init__), so a visitor never clicks into a
# "not covered".
DEFAULT_EXAMPLES = (
    "How does ketamine help with depression?",
    "What are the side effects of ketamine therapy?",
    "How long do the effects of a ketamine treatment last?",
    "Is ketamine therapy safe?",
)

EMPTY_REPLY = "Type a question about the articles, for example: {example}"
SMALL_TALK_REPLY = (
    "Ask another question about the articles whenever you like, for example: {example}"
)
TOO_LONG_REPLY = (
    "That message is {length:,} characters long; questions are limited to {limit:,} "
    "characters. Please ask a shorter question."
)
ERROR_REPLY = "Something went wrong on our side while searching. Please try again."
BUSY_REPLY = "The bot is busy answering other visitors right now. Please try again in a moment."


@dataclass(frozen=True)
class ChatSettings:
    """How the chat behaves; the entry point fills it from flags and environment variables.

    ``max_question_chars`` is enforced on the server (a browser's ``max_length`` is only a
    courtesy). ``history_turns`` bounds how many earlier questions follow-up resolution sees
    (enough to keep the question a chain of follow-ups started from), ``crisis_turns`` for how
    many turns after a crisis message the resources stay first, and ``max_turns`` how many
    turns a session keeps in memory.
    """

    title: str = "Ask the articles"
    k: int = 3
    max_question_chars: int = 1000
    examples: tuple[str, ...] = DEFAULT_EXAMPLES
    history_turns: int = 10
    crisis_turns: int = 4
    max_turns: int = 50


@dataclass(frozen=True)
class Said:
    """An earlier message, as far as the crisis rules look back: did it speak of a crisis
    itself, did its reply give the resources alone, was it small talk."""

    crisis: bool
    withheld: bool
    small_talk: bool


@dataclass(frozen=True)
class Turn:
    """One exchange: what the visitor wrote, what we showed, and what a vote must record."""

    kind: Kind
    question: str  # the visitor's text as sent (bounded for display)
    reply_html: str
    answer: Answer | None = None
    crisis: bool = False
    carried: bool = False  # the crisis came from an earlier turn, not from this message
    vote: Vote | None = None  # the visitor's current vote on this turn
    vote_key: str = field(default_factory=lambda: secrets.token_hex(8))  # its vote in the store

    @property
    def answer_id(self) -> str | None:
        """A stable id of the answer shown: same query, passages and index give the same id."""
        if self.answer is None:
            return None
        a = self.answer
        return stable_id("answer", a.index_version, a.effective_query, *self._passage_ids())

    def _passage_ids(self) -> list[str]:
        return [c.passage_id for c in self.answer.citations] if self.answer else []

    def user_message(self) -> dict[str, str] | None:
        """The visitor's bubble, or None for an empty message (nothing to show)."""
        if self.kind == "empty":
            return None
        return {"role": "user", "content": user_html(self.question)}

    def messages(self) -> list[dict[str, str]]:
        user = self.user_message()
        reply = {"role": "assistant", "content": self.reply_html}
        return [user, reply] if user else [reply]


@dataclass
class ChatService:
    """Answers visitors' messages from one searcher and records their votes in one store."""

    searcher: Searcher | LiveSearcher
    store: Store | None = None
    settings: ChatSettings = ChatSettings()
    examples: tuple[str, ...] = field(init=False)

    @property
    def titles(self) -> tuple[str, ...]:
        """Titles of the documents being served (they change when a rebuilt index swaps in)."""
        return tuple(d.title for d in self.searcher.index.documents.values())

    def __post_init__(self) -> None:
        self.examples = tuple(
            q
            for q in self.settings.examples
            if not self.searcher.search(q, k=self.settings.k).abstained
        )

    # -- answering ----------------------------------------------------------------------------

    def respond(self, message: Any, history: Sequence[Turn] = ()) -> Turn:
        """The turn for ``message`` after the turns in ``history``. Never raises.

        The crisis resources come first when the message speaks of a crisis, and also on the
        turns after one (:meth:`_decide`): "would ketamine work for that?" right after
        "I want to overdose" is still about the crisis. Passages are withheld from a crisis
        turn that speaks of the visitor's own crisis, asks about lethal means, or leans on the
        crisis message right before it; a crisis message is never a follow-up's context.
        """
        text = message if isinstance(message, str) else ""
        said = [
            Said(t.crisis and not t.carried, t.crisis and t.answer is None, t.kind == "small_talk")
            for t in history
            if t.kind != "empty"
        ]
        signal, carried, small_talk, withheld = self._decide(text, said)
        crisis = signal is not None or carried
        prefix = crisis_html(CRISIS_MESSAGE) if crisis else ""
        limit = self.settings.max_question_chars
        example = self.examples[0] if self.examples else "What do the articles say about ...?"

        def reply(kind: Kind, html: str, answer: Answer | None = None, shown: str = text) -> Turn:
            return Turn(kind, shown, prefix + html, answer=answer, crisis=crisis, carried=carried)

        if not text.strip():
            return Turn("empty", "", message_html(EMPTY_REPLY.format(example=example)))
        if len(text) > limit:
            notice = message_html(TOO_LONG_REPLY.format(length=len(text), limit=limit))
            return reply("too_long", notice, shown=text[:limit] + "…")
        if small_talk:
            return reply("small_talk", message_html(SMALL_TALK_REPLY.format(example=example)))
        if withheld:
            return reply("crisis", "")
        try:
            answer = self.searcher.search(text, history=self.history(history), k=self.settings.k)
        except InputError as error:
            return reply("error", message_html(str(error)))
        except Exception:
            log.exception("search failed")
            return reply("error", message_html(ERROR_REPLY))
        if crisis:
            # After the resources, a crisis message's own search says nothing when it found
            # nothing; a later question of the visitor's own is told "not covered" as usual.
            silent = answer.abstained and not carried
            body = "" if silent else answer_html(answer, self.titles, self.examples)
            return reply("crisis", body, answer)
        self._log_gap(text, answer)
        if answer.abstained:
            return reply("not_covered", answer_html(answer, self.titles, self.examples), answer)
        return reply("answer", answer_html(answer, self.titles, self.examples), answer)

    def history(self, turns: Sequence[Turn]) -> list[str]:
        """The earlier questions follow-up resolution sees: the last few that were answered.

        Crisis messages never become a later query's context (nor, through it, a stored
        query), and neither do questions the articles did not cover: "does it work for pain?"
        after an unanswered "how many sessions do I need?" is searched on its own. A question
        asked after a crisis message, in words of its own, is context as usual.
        """
        asked = [
            t.question
            for t in turns
            if t.answer is not None and not (t.crisis and not t.carried) and not t.answer.abstained
        ]
        return asked[-self.settings.history_turns :] if self.settings.history_turns else []

    def _decide(
        self, text: str, said: Sequence[Said]
    ) -> tuple[CrisisSignal | None, bool, bool, bool]:
        """What the chat and :meth:`ask` do with ``text`` after the messages ``said``: its crisis
        signal; whether a crisis of one of the last ``crisis_turns`` messages carries over;
        whether it is small talk; whether it gets the crisis resources alone."""
        signal = detect_crisis(text)  # first, and on the whole text
        window = said[-max(self.settings.crisis_turns, 1) :]
        carried = signal is None and any(s.crisis for s in window)
        small_talk = signal is None and is_small_talk(text)
        last = next((s for s in reversed(said) if not s.small_talk), None)
        after_crisis = carried and last is not None and last.withheld
        withheld = not small_talk and withholds_passages(text, signal, after_crisis)
        return signal, carried, small_talk, withheld

    def ask(self, question: str, history: Sequence[str] = ()) -> dict[str, Any]:
        """The structured answer for API users: :func:`qa.render.answer_json` plus the crisis
        flag and wording, decided as :meth:`respond` decides them (``history`` is the earlier
        questions, oldest first). Raises :class:`~qa.errors.InputError` for an empty or too
        long question that is not a crisis message."""
        if not isinstance(question, str):
            raise InputError("the question must be text")
        limit = self.settings.max_question_chars
        history = [h for h in (history or ()) if isinstance(h, str) and h.strip()]
        signals = [detect_crisis(h) for h in history]
        said = [
            Said(g is not None, g is not None and g.withholds_passages, is_small_talk(h))
            for h, g in zip(history, signals, strict=True)
        ]
        # Decided before the length limit, as in the chat.
        signal, carried, small_talk, withheld = self._decide(question, said)
        crisis = signal is not None or carried
        if len(question) > limit and not (crisis and withheld):
            raise InputError(TOO_LONG_REPLY.format(length=len(question), limit=limit))
        if any(len(h) > limit for h in history):
            raise InputError(f"each earlier question is limited to {limit:,} characters")
        if withheld or small_talk:  # nothing to search
            asked = clean_question(question[:limit], limit)
            answer = Answer(asked, asked, False, (), index_version=self.searcher.index.version)
        else:
            context = [h for h, g in zip(history, signals, strict=True) if g is None]
            answer = self.searcher.search(
                question, history=context[-self.settings.history_turns :], k=self.settings.k
            )
        if not crisis:
            self._log_gap(question, answer)
        return {
            **answer_json(answer),
            "crisis": crisis,
            "crisis_message": CRISIS_MESSAGE_TEXT if crisis else None,
            "withheld": withheld,
            "small_talk": small_talk,
            "not_covered": NOT_COVERED if answer.abstained else None,
        }

    def not_covered_html(self) -> str:
        return not_covered_html(self.titles, self.examples)

    # -- votes --------------------------------------------------------------------------------

    def vote(self, turn: Turn, vote: Vote | None) -> Turn:
        """Record a thumbs up or down on ``turn``, or take it back (None); the turn with the
        vote remembered.

        The store keeps the latest vote of each answer shown (its ``vote_key``): a changed
        vote replaces the old row, a withdrawn one deletes it. A thumbs down also logs the
        question as unanswered
        (once: a "not covered" reply was logged when it was shown). Crisis turns are never
        written to the store: they are the most sensitive text a visitor sends, and staff
        review needs none of them.
        """
        if vote not in ("up", "down", None):
            raise InputError(f"vote must be 'up', 'down' or None, got {vote!r}")
        answer = turn.answer
        if answer is None or turn.crisis:
            return turn
        # No shortcut when the vote looks unchanged: the turn may be a stale copy (clicks in
        # quick succession), and the store's set_vote is idempotent, the last call wins.
        if self.store is None:
            return replace(turn, vote=vote)
        try:
            self.store.set_vote(
                vote_key=turn.vote_key,
                vote=vote,
                question=turn.question,
                effective_query=answer.effective_query,
                passage_ids=turn._passage_ids(),
                index_version=answer.index_version,
                answer_id=turn.answer_id,
                # already logged when it was answered: "not covered", or with a caution
                log_thumbs_down=not (answer.abstained or answer.not_in_corpus),
            )
        except (StoreError, InputError):
            log.exception("could not record a vote")
            return turn
        return replace(turn, vote=vote)

    def _log_gap(self, question: str, answer: Answer) -> None:
        """Log for staff what the articles did not cover: an abstention, or an answer shown with
        a caution naming words the articles never mention ("partly_covered")."""
        if self.store is None or not (answer.abstained or answer.not_in_corpus):
            return
        try:
            if answer.abstained:
                self.store.log_unanswered(
                    question=question, reason="abstained", index_version=answer.index_version
                )
            else:
                self.store.log_unanswered(
                    question=question, reason="partly_covered",
                    index_version=answer.index_version, missing_words=answer.not_in_corpus,
                )
        except (StoreError, InputError):
            log.exception("could not log an unanswered question")


def withholds_passages(text: str, signal: CrisisSignal | None, after_crisis: bool) -> bool:
    """Whether a crisis turn shows the resources alone (see :meth:`ChatService.respond`).

    ``after_crisis``: the message before was a crisis message that got the resources alone.
    This one then leans on it when it is a follow-up, points back ("with these feelings") or
    names the writer's state ("someone in my situation"); a question in words of its own
    ("how often should I water tomatoes?") does not."""
    if signal is not None:
        return signal.withholds_passages
    return after_crisis and (
        is_followup(text) or refers_back(text) or _OWN_STATE.search(text) is not None
    )


_OWN_STATE = re.compile(
    r"\b(?:my|this|these|those|that) (?:situation|state|feelings?|thoughts|case|condition|"
    r"mood|pain)\b|\b(?:like|for) me\b|\bhow i(?:'m| am)? feel",
    re.IGNORECASE,
)


# --- a conversation as the chat window shows it ----------------------------------------------


def chat_messages(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """The chat window's messages (role and HTML content), in order."""
    return [m for t in turns for m in t.messages()]


def turn_index_at(turns: Sequence[Turn], message_index: int) -> int | None:
    """Which turn shows the message at ``message_index`` of :func:`chat_messages`, if any."""
    position = 0
    for n, turn in enumerate(turns):
        count = len(turn.messages())
        if position <= message_index < position + count:
            return n
        position += count
    return None
