"""What the chat does with a visitor's message, apart from any web framework.

One message becomes one :class:`Turn`: the crisis check runs first, on the whole text whatever
its length; then the length limit; then the search, with the earlier questions of the
conversation so that a follow-up is resolved. The turn holds both the reply's HTML and what a
thumbs up or down must record, so votes are stored from server-side state, never from what a
browser sends back. The Gradio wiring lives in :mod:`qa.ui`; tests drive this module directly.
"""

from __future__ import annotations

import logging
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
from qa.live import LiveSearcher
from qa.records import Answer, stable_id
from qa.render import NOT_COVERED, answer_json
from qa.safety import CRISIS_MESSAGE, CRISIS_MESSAGE_TEXT, detect_crisis
from qa.search import Searcher
from qa.store import Store, StoreError

log = logging.getLogger(__name__)

Kind = Literal["answer", "not_covered", "crisis", "empty", "too_long", "error"]
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
    courtesy). ``history_turns`` bounds how many earlier questions follow-up resolution sees,
    and ``max_turns`` how many turns a session keeps in memory.
    """

    title: str = "Ask the articles"
    k: int = 3
    max_question_chars: int = 1000
    examples: tuple[str, ...] = DEFAULT_EXAMPLES
    history_turns: int = 4
    max_turns: int = 50


@dataclass(frozen=True)
class Turn:
    """One exchange: what the visitor wrote, what we showed, and what a vote must record."""

    kind: Kind
    question: str  # the visitor's text as sent (bounded for display)
    reply_html: str
    answer: Answer | None = None
    crisis: bool = False
    vote: Vote | None = None  # the last vote recorded for this turn

    @property
    def searched(self) -> bool:
        """Whether this turn ran a search (and so is part of the conversation's history)."""
        return self.answer is not None

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
        """The turn for ``message`` after the turns in ``history``. Never raises."""
        text = message if isinstance(message, str) else ""
        crisis = detect_crisis(text) is not None  # first, and on the whole text
        prefix = crisis_html(CRISIS_MESSAGE) if crisis else ""
        limit = self.settings.max_question_chars
        if not text.strip():
            example = self.examples[0] if self.examples else "What do the articles say about ...?"
            return Turn("empty", "", message_html(EMPTY_REPLY.format(example=example)))
        if len(text) > limit:
            notice = message_html(TOO_LONG_REPLY.format(length=len(text), limit=limit))
            shown = text[:limit] + "…"
            return Turn("too_long", shown, prefix + notice, crisis=crisis)
        try:
            answer = self.searcher.search(text, history=self.history(history), k=self.settings.k)
        except InputError as error:
            return Turn("error", text, prefix + message_html(str(error)), crisis=crisis)
        except Exception:
            log.exception("search failed")
            return Turn("error", text, prefix + message_html(ERROR_REPLY), crisis=crisis)
        if crisis:
            kind: Kind = "crisis"
            body = "" if answer.abstained else answer_html(answer, self.titles, self.examples)
        else:
            kind = "not_covered" if answer.abstained else "answer"
            body = answer_html(answer, self.titles, self.examples)
        turn = Turn(kind, text, prefix + body, answer=answer, crisis=crisis)
        if answer.abstained and not crisis:
            self._log_unanswered(text, "abstained", answer.index_version)
        return turn

    def history(self, turns: Sequence[Turn]) -> list[str]:
        """The earlier questions follow-up resolution sees: the last few that were searched."""
        asked = [t.question for t in turns if t.searched]
        return asked[-self.settings.history_turns :] if self.settings.history_turns else []

    def ask(self, question: str, history: Sequence[str] = ()) -> dict[str, Any]:
        """The structured answer for API users: :func:`qa.render.answer_json` plus the crisis
        flag and wording. Raises :class:`~qa.errors.InputError` for an empty or too long one."""
        if not isinstance(question, str):
            raise InputError("the question must be text")
        crisis = detect_crisis(question) is not None
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InputError(TOO_LONG_REPLY.format(length=len(question), limit=limit))
        history = [h for h in (history or ()) if isinstance(h, str) and h.strip()]
        if any(len(h) > limit for h in history):
            raise InputError(f"each earlier question is limited to {limit:,} characters")
        answer = self.searcher.search(
            question, history=history[-self.settings.history_turns :], k=self.settings.k
        )
        if answer.abstained and not crisis:
            self._log_unanswered(question, "abstained", answer.index_version)
        return {
            **answer_json(answer),
            "crisis": crisis,
            "crisis_message": CRISIS_MESSAGE_TEXT if crisis else None,
            "not_covered": NOT_COVERED if answer.abstained else None,
        }

    def not_covered_html(self) -> str:
        return not_covered_html(self.titles, self.examples)

    # -- votes --------------------------------------------------------------------------------

    def vote(self, turn: Turn, vote: Vote) -> Turn:
        """Record a thumbs up or down on ``turn``; the turn with the vote remembered.

        A thumbs down also logs the question as unanswered. A repeated identical vote is not
        recorded twice. Crisis messages are never written to the store: they are the most
        sensitive text a visitor sends, and staff review needs none of them.
        """
        if vote not in ("up", "down"):
            raise InputError(f"vote must be 'up' or 'down', got {vote!r}")
        answer = turn.answer
        if answer is None or turn.crisis or turn.vote == vote:
            return turn
        if self.store is None:
            return replace(turn, vote=vote)
        try:
            self.store.record_feedback(
                question=turn.question,
                effective_query=answer.effective_query,
                passage_ids=turn._passage_ids(),
                vote=vote,
                index_version=answer.index_version,
                answer_id=turn.answer_id,
            )
            if vote == "down":
                self.store.log_unanswered(
                    question=turn.question,
                    reason="thumbs_down",
                    index_version=answer.index_version,
                )
        except (StoreError, InputError):
            log.exception("could not record a vote")
            return turn
        return replace(turn, vote=vote)

    def _log_unanswered(self, question: str, reason: Literal["abstained"], version: str) -> None:
        if self.store is None:
            return
        try:
            self.store.log_unanswered(question=question, reason=reason, index_version=version)
        except (StoreError, InputError):
            log.exception("could not log an unanswered question")


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
