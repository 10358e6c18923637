"""Answering a question: follow-up resolution, hybrid retrieval, fusion, abstention, de-duplication
and the best sentence of each passage. Returns an :class:`~qa.records.Answer`; never writes text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from qa.answer import citations, distinct_cleared
from qa.coverage import uncovered_words
from qa.embedders import Embedder, TokenEmbedder
from qa.errors import EmptyQuestionError, InputError
from qa.followup import (
    content_words,
    is_small_talk,
    new_topic,
    resolve_context,
    shared_title_words,
    strays,
)
from qa.fusion import extend_dense, promote, rank_candidates
from qa.highlight import Highlighter
from qa.index import CorpusIndex
from qa.records import Answer, Hit
from qa.rerank import QueryTokens, TokenRarity, second_stage
from qa.settings import MODES, Mode, SearchSettings
from qa.spelling import QuerySpeller

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Settled:
    """A question with its query to search settled: ``typed`` as the visitor wrote it (cleaned
    of control characters and cut to length), ``cleaned`` as searched (spelling corrected),
    ``effective`` with the context it was read with (``context``, the earlier turns)."""

    typed: str
    cleaned: str
    effective: str
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class Query:
    """One question to answer, with the conversation before it (user turns, oldest first)."""

    question: str
    history: tuple[str, ...] = ()


def clean_question(question: str, max_chars: int) -> str:
    """Trim and bound a visitor's question; an empty one is an input error, not a search."""
    if not isinstance(question, str):
        raise InputError(f"the question must be text, not {type(question).__name__}")
    # A lone surrogate (undecodable bytes in a shell argument, a broken JSON escape) cannot be
    # encoded for the model: it becomes U+FFFD, as an undecodable byte would.
    text = question.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = _SPACE.sub(" ", text).strip()
    if not text:
        raise EmptyQuestionError("the question is empty: type a question about the documents")
    if len(text) > max_chars:
        # Models read only the first few hundred tokens anyway; cut at a word boundary.
        cut = text.rfind(" ", 0, max_chars)
        text = text[: cut if cut > max_chars // 2 else max_chars]
    return text


class Searcher:
    """Answers questions from one loaded index with one embedder. Thread-safe for reading."""

    def __init__(
        self, index: CorpusIndex, embedder: Embedder, settings: SearchSettings = SearchSettings()
    ) -> None:
        if settings.mode not in MODES:
            raise InputError(f"unknown mode {settings.mode!r}; choose one of {', '.join(MODES)}")
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._row_of = index.passage_row()
        self._highlighter = Highlighter(index, embedder)
        self._query_speller: QuerySpeller | None = None
        self._token_rarity: TokenRarity | None = None
        self._derived_subject: str | None = None
        self._subject_alone: np.ndarray | None = None

    # -- public -------------------------------------------------------------------------------

    def warm_up(self) -> Searcher:
        """Build what is otherwise built on the first question (the spelling correction's word
        lists, the tokens' rarity), so that no visitor waits for it; returns the searcher."""
        self._speller()
        if self._has_tokens():
            self._highlighter.warm_up()
            if self.settings.maxsim_idf:
                self._rarity()
        if self.subject():
            self._subject_cosines()
        return self

    def second_stage_weights(self, mode: Mode | None = None) -> dict[str, float]:
        """The weight of each feature the second stage orders by in ``mode`` (learned, or the
        fixed fused + MaxSim sum); empty when the stage does not run there."""
        return self.settings.reranker_weights() if self._reranks(mode or self.settings.mode) else {}

    def search(
        self,
        question: str,
        *,
        history: Sequence[str] = (),
        k: int | None = None,
        mode: Mode | None = None,
        with_candidates: bool = False,
    ) -> Answer:
        """Answer one question; see :meth:`search_many` for batches."""
        if isinstance(history, str):  # not a list of characters
            raise InputError("history must be a list of earlier questions, not one string")
        return self.search_many(
            [Query(question, tuple(history))], k=k, mode=mode, with_candidates=with_candidates
        )[0]

    def search_many(
        self,
        queries: Sequence[Query],
        *,
        k: int | None = None,
        mode: Mode | None = None,
        with_candidates: bool = False,
    ) -> list[Answer]:
        """Answer many questions, encoding them in one batch (how scripts run hundreds)."""
        s = self.settings
        k = s.k if k is None else k
        mode = s.mode if mode is None else mode
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InputError(f"k must be a whole number of at least 1, not {k!r}")
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        for q in queries:
            if isinstance(q.history, str) or not all(isinstance(h, str) for h in q.history):
                raise InputError("history must be a list of earlier questions (strings)")
        typed = [clean_question(q.question, s.max_query_chars) for q in queries]
        # From here on the question is as searched: its misspelt words corrected (qa.spelling);
        # the answer still quotes the visitor's own words.
        spell = self._speller()
        cleaned = [spell(t) for t in typed]
        histories = [
            [spell(clean_question(h, s.max_query_chars)) for h in q.history if h.strip()]
            for q in queries
        ]
        subject = self.subject()
        resolutions = [
            resolve_context(text, history, subject) if s.resolve_followups else (text, ())
            for text, history in zip(cleaned, histories, strict=True)
        ]
        settled = [
            Settled(t, c, query, context)
            for t, c, (query, context) in zip(typed, cleaned, resolutions, strict=True)
        ]
        answers = self._search_settled(settled, k, mode, with_candidates)
        answers = self._read_alone(answers, settled, k, mode, with_candidates)
        return self._read_as_subject(answers, settled, k, mode, with_candidates)

    # -- stages -------------------------------------------------------------------------------

    def _search_settled(
        self, settled: Sequence[Settled], k: int, mode: Mode, with_candidates: bool
    ) -> list[Answer]:
        """Answer questions whose query to search is settled."""
        if not settled:
            return []
        s = self.settings
        typed = [q.typed for q in settled]
        cleaned = [q.cleaned for q in settled]
        effective = [q.effective for q in settled]
        # The best sentence is judged against the visitor's own words as well as the resolved
        # query: after "side effects?" -> "do they go away?", the sentence about them subsiding.
        # Both go through the model in one call (a second call nearly doubled a follow-up's cost).
        resolved = [i for i, (a, b) in enumerate(zip(cleaned, effective, strict=True)) if a != b]
        resolved_set = set(resolved)
        # A follow-up that opens a topic of its own ("and how do i bake bread?") is also read,
        # on its own words, as a question about the corpus's subject (_read_on_own), in the
        # same forward pass.
        subject = self.subject()
        keywords = self.index.keywords
        topics = {i: new_topic(cleaned[i]) for i in resolved}  # "" when it opens none
        probed = [i for i in resolved if subject and keywords.names_topic(topics[i])]
        texts = [
            *effective,
            *(cleaned[i] for i in resolved),
            *(f"{subject} {cleaned[i]}" for i in probed),
        ]
        # Token vectors (same forward pass), with their weights in MaxSim, feed the second
        # stage and the highlight: the resolved question's, the visitor's own words', and both.
        qtokens: list[QueryTokens | None] = [None] * len(typed)
        focus_tokens: list[QueryTokens | None] = [None] * len(typed)
        own_tokens: list[QueryTokens | None] = [None] * len(typed)
        if self._has_tokens():
            assert isinstance(self.embedder, TokenEmbedder)  # for mypy: _has_tokens checked it
            encoded, vectors = self.embedder.encode_with_tokens(texts, "query")
            token_ids = self.embedder.token_ids(texts)
            weights: list[np.ndarray | None] = [None] * len(texts)
            if s.maxsim_idf:
                rarity = self._rarity()
                weights = [rarity.weights(ids) for ids in token_ids]
            tokens = [
                QueryTokens(v, w, tuple(ids))
                for v, w, ids in zip(vectors, weights, token_ids, strict=True)
            ]
            qtokens = list(tokens[: len(effective)])
            focus_tokens = list(qtokens)
            own_tokens = list(qtokens)
            for n, i in enumerate(resolved):
                focus_tokens[i] = tokens[i].joined(tokens[len(effective) + n])
                own_tokens[i] = tokens[len(effective) + n]
        else:
            encoded = self.embedder.encode(texts, "query")
        qvecs = encoded[: len(effective)]
        own_encoded = encoded[len(effective) : len(effective) + len(resolved)]
        on_own = self._read_on_own(encoded[len(effective) + len(resolved) :])
        about_subject = dict(zip(probed, on_own, strict=True))
        focus = qvecs.copy()
        own = qvecs.copy()  # the visitor's own words, for the second stage's "_own" features
        if resolved:
            focus[resolved] += own_encoded
            own[resolved] = own_encoded
        searched, keyword_texts = qvecs, list(effective)
        emphasised = set(resolved) if s.emphasise_followups else set()
        if emphasised:
            # "how is it given?" after "does ketamine help with addiction?": searched as the
            # resolved question alone, the earlier topic outweighs the visitor's own words and
            # [1] is about addiction. Each retriever gets the follow-up's words a second time
            # (dense: the two vectors summed; BM25: the words repeated; second stage: the
            # tokens twice), so the new question and its context have equal say.
            searched = qvecs.copy()
            searched[resolved] = focus[resolved] / np.linalg.norm(
                focus[resolved], axis=1, keepdims=True
            )
            qtokens = focus_tokens
            for i in resolved:
                keyword_texts[i] = f"{effective[i]} {cleaned[i]}"
        if not self._reranks(mode):
            qtokens = [None] * len(typed)
        # The same depth whatever k is: asking for more passages only cuts the list later,
        # it does not change the fusion (deeper lists would reorder the top).
        depth = s.candidate_depth
        dense_scores, dense_ids = self.index.dense.search(searched, depth)
        keyword_results = self.index.keywords.search(
            keyword_texts, depth, correct_typos=s.correct_typos
        )
        answers = []
        for i in range(len(typed)):
            own_i = own_tokens[i]
            own_words = (own[i], own_i) if i in resolved_set and own_i is not None else None
            candidates = self._candidates(
                searched[i],
                dense_scores[i],
                dense_ids[i],
                keyword_results[i],
                mode,
                qtokens[i],
                judged=qvecs[i] if i in emphasised else None,
                own=own_words,
                asked=(qvecs[i], own[i]),
            )
            # "and how do i bake bread?" after "is ketamine safe?" is searched with the earlier
            # question, whose passages would then read as an answer about bread. A follow-up
            # that opens a topic of its own is "not covered" unless its own words, read as a
            # question about the corpus's subject, would be answered; in a corpus without a
            # subject, unless the corpus names a word of the new topic (README, Follow-ups).
            topic = topics.get(i, "")
            covered = not topic or about_subject.get(i, keywords.covers(topic))
            answer = self._answer(
                typed[i],
                effective[i],
                (focus[i], focus_tokens[i]),
                candidates if covered else [replace(h, cleared=False) for h in candidates],
                k,
                with_candidates,
            )
            answer = replace(
                answer, context=settled[i].context, own_reading=about_subject.get(i)
            )
            if not answer.abstained:
                # "is ketamine safe while pregnant?" in a corpus that never says "pregnant":
                # the safety passages shown are the closest, and the reader is told what they
                # cannot speak to (too weak a signal to abstain on: "husband" is missing too).
                own_i = own_tokens[i]
                missing = self._uncovered(
                    cleaned[i], None if own_i is None else own_i.vectors, answer.hits
                )
                answer = replace(answer, not_in_corpus=missing)
                if topic and strays(cleaned[i], missing):
                    # "so whats the best way to make a cold brew tea infusion" after "what is
                    # ketamine infusion therapy": read about ketamine its own words pass (the
                    # infusion passages), but "cold", "brew" and "tea" are nowhere near them.
                    # Where a follow-up already opens a topic of its own, that is enough.
                    abstained = self._answer(
                        typed[i],
                        effective[i],
                        (focus[i], focus_tokens[i]),
                        [replace(h, cleared=False) for h in candidates],
                        k,
                        with_candidates,
                    )
                    answer = replace(
                        abstained,
                        context=settled[i].context,
                        own_reading=False if i in about_subject else None,
                    )
            answers.append(answer)
        return answers

    def _read_alone(
        self,
        answers: list[Answer],
        settled: Sequence[Settled],
        k: int,
        mode: Mode,
        with_candidates: bool,
    ) -> list[Answer]:
        """Answers again, on its own words alone, each follow-up that abstained with the
        earlier turns although its own words passed (``Answer.own_reading``), keeping the new
        answer when it does not abstain: reading a follow-up with the turns before must not
        lose the answer its own words find.

        "what does it feel like while its happening, do you trip out" after "do i need a doctor
        there or can i just take it at home by myself" is 0.29 from the side-effects passage
        on its own words, and under the threshold read after the question about supervision."""
        redo = [i for i, answer in enumerate(answers) if answer.abstained and answer.own_reading]
        if not redo:
            return answers
        alone = [replace(settled[i], effective=settled[i].cleaned, context=()) for i in redo]
        again = self._search_settled(alone, k, mode, with_candidates)
        answers = list(answers)
        for i, answer in zip(redo, again, strict=True):
            if not answer.abstained:
                answers[i] = replace(answer, own_reading=True)
        return answers

    def _read_as_subject(
        self,
        answers: list[Answer],
        settled: Sequence[Settled],
        k: int,
        mode: Mode,
        with_candidates: bool,
    ) -> list[Answer]:
        """Answers again, as questions about the corpus's subject, the questions that abstained
        without naming it, keeping each new answer whose reading gains enough (the settings'
        ``read_as_subject``).

        "how is it given" is 0.18 from its best passage on its own words, under the threshold,
        and off-topic questions score as high ("wat time does the pharmacy close" 0.21). Read
        as "ketamine how is it given", it comes 0.08 closer to one of its candidates than
        "ketamine" alone does; "can i bring my dog" read so gains 0.03, and most off-topic
        questions nothing: the subject alone was as close."""
        subject = self.subject()
        if not subject:
            return answers
        named = set(content_words(subject))
        redo = [
            i
            for i, answer in enumerate(answers)
            if answer.abstained
            and not named & set(content_words(settled[i].effective))
            and not is_small_talk(settled[i].typed)  # "how are you" is not about the subject
        ]
        if not redo:
            return answers
        read = [replace(settled[i], effective=f"{subject} {settled[i].effective}") for i in redo]
        again = self._search_settled(read, k, mode, True)
        answers = list(answers)
        for i, answer in zip(redo, again, strict=True):
            reading = (subject, round(self._subject_lift(answer), 4))
            if not answer.abstained and reading[1] >= self.settings.subject_lift:
                kept = answer.candidates if with_candidates else ()
                answers[i] = replace(answer, candidates=kept, subject_reading=reading)
            else:  # the abstention stands; staff still see the reading that was tried
                answers[i] = replace(answers[i], subject_reading=reading)
        return answers

    def _subject_lift(self, answer: Answer) -> float:
        """How much closer reading the question as about the subject brings it to a passage
        than the subject alone comes, over the answer's candidates (their "dense" score is the
        cosine with the question read so): :meth:`_lift`."""
        rows = [self._row_of[hit.passage.passage_id] for hit in answer.candidates]
        return self._lift(np.array([hit.scores["dense"] for hit in answer.candidates]), rows)

    def _lift(self, cosines: np.ndarray, rows: Sequence[int] | slice = slice(None)) -> float:
        """The most, over the passages ``rows`` (all by default), of a reading's cosine with a
        passage (``cosines``, in the order of ``rows``) less the subject alone's; -2 for none."""
        gains = cosines - self._subject_cosines()[rows]
        return float(gains.max()) if gains.size else -2.0

    def _read_on_own(self, readings: np.ndarray) -> list[bool]:
        """Whether each follow-up's own words, read as a question about the subject (vectors
        of "SUBJECT QUESTION"), pass the test a question naming no subject must pass
        (:meth:`_read_as_subject`): a passage clears the threshold, and the reading comes at
        least ``subject_lift`` closer to some passage than the subject alone does (over every
        passage, not only the candidates: one short matrix product)."""
        s = self.settings
        return [
            bool(cosines.max() >= s.abstain_threshold and self._lift(cosines) >= s.subject_lift)
            for cosines in readings @ self.index.dense.vectors.T
        ]

    def subject(self) -> str:
        """The corpus's subject questions are read as being about, or "" when that is off."""
        s = self.settings
        if not s.read_as_subject:
            return ""
        if s.subject.strip():
            return s.subject.strip()
        subject = self._derived_subject
        if subject is None:
            titles = [doc.title for doc in self.index.documents.values()]
            subject = self._derived_subject = shared_title_words(titles)
        return subject

    def _subject_cosines(self) -> np.ndarray:
        """Each passage's cosine with the subject alone (as a query), computed on first use."""
        cosines = self._subject_alone
        if cosines is None:
            vector = self.embedder.encode([self.subject()], "query")[0]
            cosines = self._subject_alone = self.index.dense.vectors @ vector
        return cosines

    def _speller(self) -> Callable[[str], str]:
        """The spelling correction of questions (:mod:`qa.spelling`), or the identity when it
        is off. Built on first use from the passages' words, titles and sections."""
        if not self.settings.correct_spelling:
            return _unchanged
        speller = self._query_speller
        if speller is None:
            texts = (t for p in self.index.passages for t in (p.text, p.section, p.title))
            speller = self._query_speller = QuerySpeller(texts)
        return speller.correct

    def _rarity(self) -> TokenRarity:
        """How rare each token is among the passages (MaxSim's token weights), counted on first
        use from the passages' token ids."""
        rarity = self._token_rarity
        if rarity is None:
            assert isinstance(self.embedder, TokenEmbedder)  # for mypy: callers checked it
            texts = [p.embedding_text() for p in self.index.passages]
            rarity = self._token_rarity = TokenRarity(self.embedder.token_ids(texts))
        return rarity

    def _uncovered(
        self, question: str, tokens: np.ndarray | None, hits: Sequence[Hit]
    ) -> tuple[str, ...]:
        """Words of the question the corpus never uses and the passages shown come nowhere
        near (:mod:`qa.coverage`)."""
        unknown = self.index.keywords.unknown_words(question)
        if not unknown or tokens is None or self.index.tokens is None:
            return unknown
        assert isinstance(self.embedder, TokenEmbedder)  # for mypy: tokens came from it
        row = self._row_of
        shown = np.concatenate([self.index.tokens.get(row[h.passage.passage_id]) for h in hits])
        spans = self.embedder.token_spans(question)
        return uncovered_words(
            question, unknown, spans, tokens, shown, self.settings.caution_threshold
        )

    def _has_tokens(self) -> bool:
        """Whether the index keeps token vectors and the model gives them for a query."""
        return self.index.tokens is not None and isinstance(self.embedder, TokenEmbedder)

    def _reranks(self, mode: Mode) -> bool:
        """Whether the second stage runs: hybrid mode, a weight, and token vectors (the
        single-retriever modes stay pure, for comparing retrievers)."""
        return mode == "hybrid" and self.settings.rerank_weight > 0 and self._has_tokens()

    def _candidates(
        self,
        qvec: np.ndarray,
        dense_scores: np.ndarray,
        dense_ids: np.ndarray,
        keyword: tuple[np.ndarray, np.ndarray],
        mode: Mode,
        query_tokens: QueryTokens | None = None,
        judged: np.ndarray | None = None,
        own: tuple[np.ndarray, QueryTokens] | None = None,
        asked: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> list[Hit]:
        """Every passage either retriever proposed, with each stage's scores and ranks: "dense",
        "bm25", "fused" (first stage) and, when re-ranked on ``query_tokens``, "maxsim",
        "reranked" and the features "dense_own" and "maxsim_own" (of ``own``, a follow-up's own
        words' vector and tokens), "example" and "example_own" (:data:`qa.settings.FEATURES`).

        ``asked`` is the question's vector and its own words' (the same for a question that
        stands alone), matched with the corpus's example questions (:mod:`qa.examples`): the
        passages whose examples come closest join the candidates the second stage re-ranks.

        The "dense" score, on which abstention is judged, is the cosine with ``judged`` when
        given (a follow-up searched with its own words emphasised is still judged as the
        resolved question, on which the threshold was calibrated), else with ``qvec``."""
        passages = self.index.passages
        dense_rank = {int(r): n for n, r in enumerate(dense_ids[dense_ids >= 0], start=1)}
        bm25_ids, bm25_vals = keyword
        bm25_rank = {int(r): n for n, r in enumerate(bm25_ids, start=1)}
        bm25_score = {int(r): float(v) for r, v in zip(bm25_ids, bm25_vals, strict=True)}
        examples = self.index.examples if query_tokens is not None else None
        nearest: list[int] = []
        asked_sims = None
        if examples is not None and asked is not None:
            asked_sims = examples.similarities(asked)  # the question's, its own words'
            nearest = examples.nearest_rows(asked_sims, self.settings.example_candidates)
        extended = extend_dense(
            qvec, (dense_ids, dense_scores), keyword, self.index.dense, also=nearest
        )
        dense_score = {int(r): float(v) for r, v in zip(*extended, strict=True)}
        cosine = dense_score
        if judged is not None:
            sims = self.index.dense.similarity(judged, extended[0])
            cosine = {int(r): float(v) for r, v in zip(extended[0], sims, strict=True)}
        order = rank_candidates(
            extended,
            keyword,
            mode,
            fusion=self.settings.fusion,
            rrf_k=self.settings.rrf_k,
            alpha=self.settings.alpha,
            hubness=self.index.dense.hubness,
            hubness_weight=self.settings.hubness_weight,
        )
        fused = {row: (rank, float(score)) for rank, (row, score) in enumerate(order, start=1)}
        features: dict[int, dict[str, float]] = {}
        late_rank: dict[int, int] = {}
        if query_tokens is not None:
            assert self.index.tokens is not None  # for mypy: _reranks checked it
            dense = self.index.dense
            order, depth = promote(order, nearest, self.settings.rerank_depth)
            by_examples = None
            if examples is not None and asked_sims is not None:
                by_examples = (
                    partial(examples.scores, asked_sims[0]), partial(examples.scores, asked_sims[1])
                )
            order, features, late_rank = second_stage(
                order,
                depth,
                self.settings.reranker_weights(),
                query=query_tokens,
                tokens_of=self.index.tokens.get,
                cosines=lambda rows: np.array([cosine[int(row)] for row in rows]),
                bm25=bm25_score,
                own=None if own is None else (own[1], lambda rows: dense.similarity(own[0], rows)),
                examples=by_examples,
            )
        threshold = self.settings.abstain_threshold
        hits = []
        for rank, (row, score) in enumerate(order, start=1):
            example = example_cosine = None
            scores = {"dense": cosine[row]}
            ranks = {}
            if row in dense_rank:
                ranks["dense"] = dense_rank[row]
            if row in bm25_rank:
                scores["bm25"] = bm25_score[row]
                ranks["bm25"] = bm25_rank[row]
            ranks["fused"], scores["fused"] = fused[row]
            if row in late_rank:
                ranks["maxsim"], ranks["reranked"] = late_rank[row], rank
                scores.update(
                    {
                        name: features[row][name]
                        for name in ("maxsim", "dense_own", "maxsim_own", "example", "example_own")
                    },
                    reranked=float(score),
                )
                if examples is not None and asked_sims is not None:
                    closest = examples.closest(asked_sims, row)
                    if closest is not None:
                        example, example_cosine = closest[0].question, closest[1]
            hits.append(
                Hit(
                    passage=passages[row],
                    rank=rank,
                    score=float(score),
                    scores=scores,
                    ranks=ranks,
                    # or asked almost word for word as staff said this passage answers
                    # (float32 cosines: the very question may come to 0.9999999)
                    cleared=cosine[row] >= threshold
                    or (
                        example_cosine is not None
                        and example_cosine >= self.settings.example_match - 1e-6
                    ),
                    example=example,
                    example_cosine=example_cosine,
                )
            )
        return hits

    def _answer(
        self,
        question: str,
        effective: str,
        focus: tuple[np.ndarray, QueryTokens | None],
        candidates: list[Hit],
        k: int,
        with_candidates: bool,
    ) -> Answer:
        """Keep the k best distinct passages that clear the threshold; abstain when none does."""
        chosen = distinct_cleared(
            candidates, k, self.index.dense.vectors, self._row_of,
            self.settings.duplicate_threshold,
        )
        final = [
            replace(hit, rank=n, highlight=self._highlighter.best_sentence(hit.passage, *focus))
            for n, hit in enumerate(chosen, start=1)
        ]
        for hit in final:
            hit.ranks["final"] = hit.rank
        return Answer(
            question=question,
            effective_query=effective,
            abstained=not final,
            citations=citations(final),
            hits=tuple(final),
            candidates=tuple(candidates) if with_candidates else (),
            index_version=self.index.version,
        )


def _unchanged(text: str) -> str:
    return text
