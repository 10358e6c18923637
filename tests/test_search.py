"""Answering questions on the tiny corpus with the hashing embedder: exact answers first,
abstention, de-duplication, verbatim citations and highlights, input limits, modes and batches."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import LEXICAL_QUESTIONS, NONSENSE, TINY_THRESHOLD

from qa.embedders import HashingEmbedder
from qa.errors import EmptyQuestionError, InputError
from qa.fusion import rank_candidates
from qa.index import build_index
from qa.passages import sentence_spans
from qa.records import Answer
from qa.search import Query, Searcher, clean_question
from qa.settings import MODES, SearchSettings

# --- exact answers and abstention ------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("question", "source", "section"), LEXICAL_QUESTIONS)
def test_lexical_question_has_its_passage_first(
    tiny_searcher: Searcher, question: str, source: str, section: str, mode: str
) -> None:
    answer = tiny_searcher.search(question, mode=mode)  # type: ignore[arg-type]
    assert not answer.abstained
    top = answer.citations[0]
    assert (top.source, top.section) == (source, section)
    assert top.number == 1


def test_furniture_and_headings_are_never_cited(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search("Leave a Reply Share this Facebook", k=10)
    for citation in answer.citations:
        assert "Leave a Reply" not in citation.text
        assert "Share this" not in citation.text


def test_a_question_the_corpus_does_not_cover_abstains(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search(NONSENSE, with_candidates=True)
    assert answer.abstained
    assert answer.citations == ()
    assert answer.hits == ()
    assert answer.candidates, "the candidates are still there for staff to inspect"
    assert not any(hit.cleared for hit in answer.candidates)


def test_words_no_passage_uses_are_named_in_the_answer(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search("When can I harvest honey while pregnant?")
    assert not answer.abstained and answer.citations[0].section == "Harvesting Honey"
    assert answer.not_in_corpus == ("pregnant",)
    for question, _, _ in LEXICAL_QUESTIONS:
        assert tiny_searcher.search(question).not_in_corpus == (), question
    assert tiny_searcher.search(NONSENSE).not_in_corpus == (), "an abstention names nothing"


def test_a_followup_names_only_the_visitors_own_unknown_words(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search(
        "do they hurt when pregnant?", history=["Do bee stings hurt my grandmother?"]
    )
    assert answer.effective_query != answer.question and not answer.abstained
    assert answer.not_in_corpus == ("pregnant",), "not the earlier turn's 'grandmother'"


def test_a_high_threshold_makes_every_question_abstain(tiny_searcher: Searcher) -> None:
    strict = Searcher(
        tiny_searcher.index, tiny_searcher.embedder, SearchSettings(abstain_threshold=0.99)
    )
    for question, _, _ in LEXICAL_QUESTIONS:
        answer = strict.search(question)
        assert answer.abstained and answer.citations == ()


def test_abstention_is_judged_on_the_dense_cosine(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search("When is honey ready to harvest?", k=20, with_candidates=True)
    for hit in answer.candidates:
        assert hit.cleared == (hit.scores["dense"] >= TINY_THRESHOLD)
    shown = {h.passage.passage_id for h in answer.hits}
    assert all(h.cleared for h in answer.hits)
    assert shown <= {h.passage.passage_id for h in answer.candidates if h.cleared}


# --- citations: verbatim, highlighted, de-duplicated -----------------------------------------


def test_citations_are_verbatim_slices_of_the_source_files(tiny_searcher: Searcher) -> None:
    corpus = Path(tiny_searcher.index.manifest["corpus"]["folder"])
    for question, _, _ in LEXICAL_QUESTIONS:
        for c in tiny_searcher.search(question, k=5).citations:
            document = tiny_searcher.index.documents[c.doc_id]
            assert c.text == document.text[c.start : c.end]
            assert c.text == (corpus / c.source).read_text(encoding="utf-8")[c.start : c.end]
            assert c.text.strip() == c.text and c.text


def test_highlight_is_a_sentence_inside_the_passage(tiny_searcher: Searcher) -> None:
    for question, _, _ in LEXICAL_QUESTIONS:
        for c in tiny_searcher.search(question, k=5).citations:
            assert c.highlight is not None
            a, b = c.highlight
            assert c.start <= a < b <= c.end
            text = tiny_searcher.index.documents[c.doc_id].text
            spans = sentence_spans(text, c.start, c.end) or [(c.start, c.end)]
            assert any(
                b == end and re.fullmatch(r"(-|\d+\.)?\s*", text[start:a]) for start, end in spans
            )


def test_the_highlight_leaves_out_a_list_items_bullet(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bikes.txt").write_text(
        "Bicycle Care\n\nChecks Before a Ride\n\n"
        "1. Tyres: Pump the tyres to the pressure printed on their sidewall before every ride.\n"
        "- Brakes: Squeeze both brake levers and make sure the pads grip the rim firmly.\n"
        "- Chain: Wipe the chain and add a drop of oil on each link when it squeaks.\n",
        encoding="utf-8",
    )
    embedder = HashingEmbedder(dim=1024)
    index = build_index(corpus, tmp_path / "index", embedder)
    searcher = Searcher(index, embedder, SearchSettings(abstain_threshold=TINY_THRESHOLD))
    answer = searcher.search("how do I oil the squeaking chain?")
    chained = [c for c in answer.citations if "drop of oil" in c.text]
    assert chained, [c.text for c in answer.citations]
    a, b = chained[0].highlight or (0, 0)
    text = index.documents[chained[0].doc_id].text
    assert text[a:b].startswith("Chain: Wipe the chain")
    assert text[a - 2 : a] == "- "
    # an enumerated item is marked from its first word too
    numbered = searcher.search("when are tyres pumped to the sidewall pressure?").citations[0]
    a, b = numbered.highlight or (0, 0)
    assert text[a - 3 : a] == "1. " and text[a:b].startswith("Tyres: Pump")


def test_highlight_picks_the_sentence_with_the_question_words(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search("Should I check tyre pressure with a gauge before every ride?")
    top = answer.citations[0]
    assert top.section == "Tyre Pressure"
    a, b = top.highlight or (0, 0)
    sentence = tiny_searcher.index.documents[top.doc_id].text[a:b]
    assert (
        sentence
        == "Check the pressure with a gauge before every ride because tubes slowly lose air."
    )


def test_the_same_paragraph_in_two_files_is_shown_once(tmp_path: Path) -> None:
    shared = (
        "Lighthouse keepers trimmed the lamp wick every evening and polished the great lens "
        "each morning, so the beam carried twenty nautical miles out to sea on clear nights."
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        f"Lighthouses\n\n{shared}\n\nFog Signals\n\nA foghorn sounded every thirty seconds when "
        "visibility dropped below two miles, powered by compressed air from an engine house.\n",
        encoding="utf-8",
    )
    (corpus / "b.txt").write_text(
        f"Coastal History\n\nKeepers\n\n{shared}\n\nShipwrecks\n\nMost wrecks on this coast "
        "happened in winter storms, when ships ran aground on the sandbanks near the harbour.\n",
        encoding="utf-8",
    )
    embedder = HashingEmbedder(dim=1024)
    index = build_index(corpus, tmp_path / "index", embedder)
    searcher = Searcher(index, embedder, SearchSettings(abstain_threshold=TINY_THRESHOLD))
    answer = searcher.search("How often did keepers trim the lamp wick?", k=5, with_candidates=True)
    copies = [c for c in answer.citations if c.text == shared]
    assert len(copies) == 1
    assert answer.citations[0].text == shared
    assert sum(h.passage.text == shared for h in answer.candidates) == 2
    assert len(answer.citations) >= 2, "the other passages are still shown"


def test_citation_numbers_and_hit_ranks_run_from_one(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search("honey hive bees", k=4)
    assert [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert [h.rank for h in answer.hits] == [c.number for c in answer.citations]
    assert [h.ranks["final"] for h in answer.hits] == [h.rank for h in answer.hits]
    assert [c.passage_id for c in answer.citations] == [h.passage.passage_id for h in answer.hits]
    assert answer.index_version == tiny_searcher.index.version


# --- input limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", " ", "\n\t  \r\n"])
def test_empty_question_is_an_input_error(tiny_searcher: Searcher, question: str) -> None:
    with pytest.raises(EmptyQuestionError) as caught:
        tiny_searcher.search(question)
    assert isinstance(caught.value, ValueError)


def test_a_question_that_is_not_text_is_an_input_error(tiny_searcher: Searcher) -> None:
    with pytest.raises(InputError, match="text"):
        tiny_searcher.search(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "question",
    ["honey harvest " * 7_143, "x" * 100_000, "When is honey ready to harvest? " + "é" * 99_968],
    ids=["words", "one-word", "unicode"],
)
def test_a_100k_character_question_is_bounded(tiny_searcher: Searcher, question: str) -> None:
    assert len(question) >= 100_000
    limit = tiny_searcher.settings.max_query_chars
    answer = tiny_searcher.search(question, history=[question])
    assert 0 < len(answer.effective_query) <= limit
    assert len(answer.question) <= limit
    assert question.startswith(answer.question[:50])


def test_clean_question_collapses_space_and_cuts_at_a_word() -> None:
    assert clean_question("  When\tis \n honey  ready? ", 100) == "When is honey ready?"
    assert clean_question("alpha beta gamma delta", 13) == "alpha beta"
    assert clean_question("x" * 30, 10) == "x" * 10
    with pytest.raises(EmptyQuestionError):
        clean_question(" \u00a0 ", 10)


@pytest.mark.parametrize("k", [1, 2, 3, 7, 50])
def test_k_passages_at_most(tiny_searcher: Searcher, k: int) -> None:
    # Every passage clears a threshold of -1, so only k (and the corpus size) limit the answer.
    everything = Searcher(
        tiny_searcher.index, tiny_searcher.embedder, SearchSettings(abstain_threshold=-1.0)
    )
    answer = everything.search("honey hive bees flour dough chain tyres", k=k)
    assert len(answer.citations) == min(k, len(tiny_searcher.index.passages))
    assert len(tiny_searcher.search("honey hive bees", k=k).citations) <= k


def test_k_below_one_and_unknown_modes_are_input_errors(tiny_searcher: Searcher) -> None:
    with pytest.raises(InputError, match="k"):
        tiny_searcher.search("honey", k=0)
    with pytest.raises(InputError, match="mode"):
        tiny_searcher.search("honey", mode="sparse")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="mode"):
        Searcher(
            tiny_searcher.index,
            tiny_searcher.embedder,
            SearchSettings(mode="sparse"),  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": "3"}, "k"),
        ({"k": 1.5}, "k"),
        ({"k": True}, "k"),
        ({"mode": ""}, "mode"),
        ({"history": "bee stings"}, "history"),  # one string, not a list of characters
        ({"history": [None]}, "history"),
    ],
)
def test_wrong_argument_types_are_input_errors(
    tiny_searcher: Searcher, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(InputError, match=match):
        tiny_searcher.search("honey", **kwargs)  # type: ignore[arg-type]


def test_undecodable_text_is_searched_not_a_crash(tiny_searcher: Searcher) -> None:
    """A lone surrogate (bytes a shell could not decode) becomes U+FFFD, as bytes would."""
    answer = tiny_searcher.search("\udcff " + LEXICAL_QUESTIONS[0][0])
    assert "\ufffd" in answer.question and answer.citations


@pytest.mark.parametrize("mode", MODES)
def test_asking_for_more_passages_only_cuts_the_list_later(
    tiny_searcher: Searcher, mode: str
) -> None:
    """k does not change the ranking: deeper candidate lists would reorder the fused top."""
    shallow = Searcher(
        tiny_searcher.index,
        tiny_searcher.embedder,
        SearchSettings(abstain_threshold=TINY_THRESHOLD, candidate_depth=2),
    )
    for question, _, _ in LEXICAL_QUESTIONS:
        few = shallow.search(question, k=2, mode=mode)  # type: ignore[arg-type]
        many = shallow.search(question, k=20, mode=mode)  # type: ignore[arg-type]
        assert [c.passage_id for c in few.citations] == [
            c.passage_id for c in many.citations[: len(few.citations)]
        ]


# --- retrieval modes and the evidence behind each rank ---------------------------------------


def test_hybrid_hits_carry_both_retrievers_scores_and_ranks(tiny_searcher: Searcher) -> None:
    question = "When should I replace rim brake pads?"
    answer = tiny_searcher.search(question, mode="hybrid", with_candidates=True)
    top = answer.hits[0]
    assert set(top.scores) == {"dense", "bm25", "fused", "maxsim", "reranked", "dense_own",
                               "maxsim_own", "example", "example_own"}
    assert set(top.ranks) == {"dense", "bm25", "fused", "maxsim", "reranked", "final"}
    assert top.ranks["dense"] == 1 and top.ranks["bm25"] == 1 and top.ranks["fused"] == 1
    assert top.ranks["maxsim"] == 1 and top.ranks["reranked"] == 1
    assert top.score == top.scores["reranked"]
    # The dense score is the exact cosine, the BM25 score the keyword index's own.
    qvec = tiny_searcher.embedder.encode([question], "query")[0]
    row = tiny_searcher.index.passage_row()
    for hit in answer.candidates:
        vector = tiny_searcher.index.dense.vectors[row[hit.passage.passage_id]]
        assert hit.scores["dense"] == pytest.approx(float(vector @ qvec), abs=1e-5)
    bm25 = tiny_searcher.index.keywords.scores(question)
    assert top.scores["bm25"] == pytest.approx(float(bm25[row[top.passage.passage_id]]), rel=1e-5)
    by_fused = sorted(answer.candidates, key=lambda h: h.ranks["fused"])
    fused = [h.scores["fused"] for h in by_fused]
    assert fused == sorted(fused, reverse=True)
    assert [h.ranks["fused"] for h in by_fused] == list(range(1, len(fused) + 1))


def test_dense_mode_orders_by_cosine(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search(
        "How do I clean a bicycle chain?", mode="dense", with_candidates=True
    )
    dense = [h.scores["dense"] for h in answer.candidates]
    assert dense == sorted(dense, reverse=True)
    assert len(answer.candidates) == len(tiny_searcher.index.passages)
    for hit in answer.candidates:
        assert hit.score == hit.scores["dense"] == hit.scores["fused"]
        assert hit.ranks["dense"] == hit.ranks["fused"] == hit.rank


def test_bm25_mode_keeps_only_keyword_matches_in_bm25_order(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search("sourdough starter", mode="bm25", with_candidates=True)
    assert answer.candidates
    for hit in answer.candidates:
        assert hit.score == hit.scores["bm25"] > 0
        assert hit.ranks["bm25"] == hit.ranks["fused"] == hit.rank
        assert "dense" in hit.scores  # still given, for abstention and for staff
    assert all(h.passage.source == "bread.txt" for h in answer.candidates)


def test_candidates_only_when_asked(tiny_searcher: Searcher) -> None:
    plain = tiny_searcher.search("When is honey ready to harvest?")
    full = tiny_searcher.search("When is honey ready to harvest?", with_candidates=True)
    assert plain.candidates == ()
    assert len(full.candidates) >= len(full.hits)
    assert [h.rank for h in full.candidates] == list(range(1, len(full.candidates) + 1))
    ids = [h.passage.passage_id for h in full.candidates]
    assert len(ids) == len(set(ids))
    assert plain.citations == full.citations


def test_search_many_equals_one_search_at_a_time(tiny_searcher: Searcher) -> None:
    queries = [Query(q) for q, _, _ in LEXICAL_QUESTIONS] + [
        Query(NONSENSE),
        Query("do they hurt?", history=("Tell me about bee stings",)),
        Query("and the crust?", history=("How long do I bake sourdough bread?",)),
    ]
    batch = tiny_searcher.search_many(queries, k=3)
    assert len(batch) == len(queries)
    for query, answer in zip(queries, batch, strict=True):
        alone = tiny_searcher.search(query.question, history=query.history, k=3)
        assert_same_answer(answer, alone)
    assert tiny_searcher.search_many([]) == []


def test_search_many_rejects_the_batch_when_one_question_is_empty(tiny_searcher: Searcher) -> None:
    with pytest.raises(EmptyQuestionError):
        tiny_searcher.search_many([Query("honey"), Query("  ")])


def assert_same_answer(a: Answer, b: Answer) -> None:
    assert (a.question, a.effective_query, a.abstained) == (
        b.question,
        b.effective_query,
        b.abstained,
    )
    assert [c.passage_id for c in a.citations] == [c.passage_id for c in b.citations]
    assert [c.highlight for c in a.citations] == [c.highlight for c in b.citations]
    assert [c.score for c in a.citations] == pytest.approx([c.score for c in b.citations], abs=1e-6)


def test_a_new_topic_the_corpus_never_names_is_not_covered(tiny_searcher: Searcher) -> None:
    """ "what about X?" is searched with the question before it; when the corpus never names
    X, that question's passages would read as an answer about X: the answer is "not covered"."""
    earlier = ["How do I clean a bicycle chain?"]
    unknown = tiny_searcher.search("what about for motorcycles?", history=earlier)
    assert unknown.abstained and not unknown.citations
    assert unknown.effective_query != unknown.question  # still resolved, and shown so
    known = tiny_searcher.search("and brake pads?", history=earlier)
    assert not known.abstained and known.citations
    typo = tiny_searcher.search("and the presure?", history=earlier)
    assert not typo.abstained  # a typo of a corpus word is not a new topic
    # "so" opens a continuation; words that name no topic do not make it a new one
    chatter = tiny_searcher.search("so basically nobody knows yet?", history=earlier)
    assert not chatter.abstained and chatter.citations


def test_a_contraction_is_not_the_new_topic(tiny_corpus: Path, tmp_path: Path) -> None:
    """In a corpus that writes "what's", "ok thanks. what's the weather like this weekend"
    after a question once counted "what's" as a word of its new topic the corpus names, and
    was answered with the earlier question's passages (a blind question set found it)."""
    (tiny_corpus / "chain.txt").write_text(
        "Chain Wear\n\nWhat's the sign of a worn chain? It skips on the sprockets and stretches "
        "past the wear mark of a chain checker.\n", encoding="utf-8",
    )
    embedder = HashingEmbedder()
    searcher = Searcher(
        build_index(tiny_corpus, tmp_path / "index", embedder), embedder,
        SearchSettings(abstain_threshold=TINY_THRESHOLD),
    )
    earlier = ["How do I clean a bicycle chain?"]
    weather = searcher.search("ok thanks. what's the weather like this weekend?", history=earlier)
    assert weather.effective_query != weather.question and weather.abstained
    worn = searcher.search("ok and what's a worn one like?", history=earlier)
    assert not worn.abstained


def test_followup_is_searched_with_its_topic(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search("do they hurt?", history=["Tell me about bee stings"])
    assert answer.question == "do they hurt?"
    assert answer.effective_query == "Tell me about bee stings do they hurt?"
    assert answer.citations[0].section == "Do bee stings hurt?"
    off = Searcher(
        tiny_searcher.index,
        tiny_searcher.embedder,
        SearchSettings(abstain_threshold=TINY_THRESHOLD, resolve_followups=False),
    )
    assert off.search("do they hurt?", history=["bee stings"]).effective_query == "do they hurt?"


def test_a_followup_with_its_own_topic_is_not_outweighed_by_the_earlier_one(
    tiny_searcher: Searcher,
) -> None:
    # The earlier question's many words would outvote "feed" and "chain": the follow-up's own
    # words are searched a second time, so its passage comes first. (MaxSim's rarity weights are
    # off in both: with hashed words on a three-document corpus they are a second, separate
    # shift; the real model's follow-ups are held by tests/test_quality.py.)
    settings = replace(tiny_searcher.settings, maxsim_idf=False)
    emphasised = Searcher(tiny_searcher.index, tiny_searcher.embedder, settings)
    plain = Searcher(
        tiny_searcher.index,
        tiny_searcher.embedder,
        replace(settings, emphasise_followups=False),
    )
    cases = [
        ("How long should the dough proof in the refrigerator?", "how often do I feed it?", ""),
        ("When should I replace rim brake pads?", "how do i clean the chain on it?", "Chain Care"),
    ]
    for earlier, question, section in cases:
        answer = emphasised.search(question, history=[earlier])
        assert answer.effective_query == f"{earlier} {question}"  # the shown query is unchanged
        assert answer.citations[0].section == section
        assert plain.search(question, history=[earlier]).citations[0].section != section


def test_blank_history_turns_are_ignored(tiny_searcher: Searcher) -> None:
    answer = tiny_searcher.search("do they hurt?", history=["", "  ", "bee stings"])
    assert answer.effective_query == "bee stings do they hurt?"


# --- rank_candidates: the pure ordering function ----------------------------------------------


def test_rank_candidates_per_mode() -> None:
    dense = (np.array([3, 1, -1]), np.array([0.9, 0.5, 0.0]))
    keyword = (np.array([1, 2]), np.array([4.0, 2.0]))
    assert rank_candidates(dense, keyword, "dense") == [(3, 0.9), (1, 0.5)]
    assert rank_candidates(dense, keyword, "bm25") == [(1, 4.0), (2, 2.0)]
    rrf = rank_candidates(dense, keyword, "hybrid", fusion="rrf", rrf_k=60)
    assert [r for r, _ in rrf] == [1, 3, 2]
    assert dict(rrf)[1] == pytest.approx(1 / 62 + 1 / 61)
    convex = rank_candidates(dense, keyword, "hybrid", fusion="convex", alpha=0.5)
    # dense scaled: 3 -> 1, 1 -> 0; bm25 scaled: 1 -> 1, 2 -> 0.
    assert convex == [(3, 0.5), (1, 0.5), (2, 0.0)]


# --- questions that name no subject ----------------------------------------------------------


def test_a_question_naming_no_subject_is_read_as_about_the_corpus_subject(
    tiny_searcher: Searcher,
) -> None:
    """Under a threshold its own words miss (cosine 0.30 < 0.32), "how often should i check the
    pressure" is answered as a question about the subject ("bicycle ..." reaches 0.33, 0.26
    above "bicycle" alone); off-topic words gain nothing from the subject and stay abstained."""
    question = "how often should i check the pressure"
    settings = SearchSettings(abstain_threshold=0.32, subject="bicycle", subject_lift=0.2)
    reading = Searcher(tiny_searcher.index, tiny_searcher.embedder, settings)
    answer = reading.search(question)
    assert not answer.abstained and answer.subject == "bicycle"
    assert answer.effective_query == f"bicycle {question}" and answer.question == question
    assert answer.citations[0].section == "Tyre Pressure"
    assert reading.search(question, with_candidates=True).candidates  # kept when asked for
    assert not reading.search(question).candidates
    assert answer.subject_reading == ("bicycle", pytest.approx(0.255, abs=0.005))
    for off, tried in (
        (replace(settings, read_as_subject=False), None),
        (replace(settings, subject_lift=0.3), answer.subject_reading),  # 0.26: not enough
    ):
        plain = Searcher(tiny_searcher.index, tiny_searcher.embedder, off).search(question)
        assert plain.abstained and plain.subject == "" and plain.effective_query == question
        assert plain.subject_reading == tried  # staff see the reading that was tried
    nonsense = reading.search(NONSENSE)
    assert nonsense.abstained and nonsense.subject == ""
    assert nonsense.subject_reading is not None and nonsense.subject_reading[1] <= 0
    # a question that names the subject already is not read again
    named = reading.search(f"bicycle {NONSENSE}")
    assert named.abstained and named.effective_query == f"bicycle {NONSENSE}"
    assert named.subject_reading is None


def test_the_subject_defaults_to_the_word_the_titles_share(tiny_searcher: Searcher) -> None:
    # The tiny corpus's titles (beekeeping, bread, bicycles) share none: nothing is read so.
    assert tiny_searcher.subject() == ""
    named = SearchSettings(subject=" bicycle ")
    assert Searcher(tiny_searcher.index, tiny_searcher.embedder, named).subject() == "bicycle"
    off = SearchSettings(subject="bicycle", read_as_subject=False)
    assert Searcher(tiny_searcher.index, tiny_searcher.embedder, off).subject() == ""
