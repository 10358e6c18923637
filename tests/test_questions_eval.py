"""Question-set evaluation: parsing, relevance, the threshold replay and sweep, diffs, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.api import open_searcher
from qa.embedders import HashingEmbedder
from qa.errors import InputError
from qa.examples import EXAMPLES_FILE
from qa.questions import (
    Candidate,
    Question,
    caution_shares,
    evaluate_questions,
    fold,
    highlight_on_evidence,
    is_relevant,
    load_questions,
    recommend,
    shown_at,
    summarise,
    sweep,
)
from qa.records import Hit, Passage
from qa.report_diff import diff_reports
from qa.settings import SearchSettings

SHARED = "Bees and volcanoes have nothing in common, but this sentence appears in both articles."
BEES = f"""Honey Bees

How bees make honey

Worker bees collect nectar from flowers and carry it back to the hive. Inside the hive the nectar \
is passed from bee to bee and fanned until the water evaporates and it thickens into honey.

Why bees swarm

A colony swarms in spring when the hive grows crowded. The old queen leaves with about half of \
the workers to found a new colony somewhere else, often in a hollow tree.

Good to know

{SHARED}
"""
VOLCANOES = f"""Volcanoes

Why volcanoes erupt

Magma rises because it is lighter than the solid rock around it. When gas pressure in the magma \
chamber grows too high, the volcano erupts and lava flows down its slopes.

Where volcanoes form

Most volcanoes form where tectonic plates meet, along the ring of fire around the Pacific Ocean, \
and some form over hot spots such as Hawaii.

Good to know

{SHARED}
"""
QUESTIONS = [
    {"id": "a1", "question": "do worker bees collect nectar from flowers for honey",
     "evidence": ["fanned until the water EVAPORATES"]},
    {"id": "a2", "question": "why does the old queen leave the hive with the workers",
     "evidence": ["old queen leaves with about half of the workers"], "split": "holdout"},
    {"id": "a3", "question": "what happens when gas pressure in the magma chamber grows",
     "evidence": ["gas pressure in the magma  chamber"]},
    {"id": "a4", "question": "where do tectonic plates meet to form volcanoes",
     "evidence": ["ring of fire around the Pacific"], "split": "holdout"},
    {"id": "a5", "question": "what do these insects produce", "evidence": ["thickens into honey"]},
    {"id": "a6", "question": "what do bees and volcanoes have in common",
     "evidence": ["have nothing in common"]},
    {"id": "o1", "question": "best pizza recipe with mozzarella", "answerable": False},
    {"id": "o2", "question": "stock market prices today", "answerable": False, "split": "holdout"},
    {"id": "o3", "question": "and how much does it cost", "history": ["who sells concert tickets"],
     "answerable": False, "kind": "near_domain"},
]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "bees.txt").write_text(BEES)
    (folder / "volcanoes.txt").write_text(VOLCANOES)
    return folder


@pytest.fixture
def question_file(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return path


def searcher_at(corpus: Path, threshold: float):
    return open_searcher(corpus, corpus.parent / "index", embedder=HashingEmbedder(),
                         search_settings=SearchSettings(abstain_threshold=threshold))


# --- parsing and relevance --------------------------------------------------------------------


def test_load_questions_reads_both_kinds(question_file: Path) -> None:
    questions = load_questions(question_file)
    assert [q.id for q in questions] == [q["id"] for q in QUESTIONS]
    assert questions[0] == Question("a1", QUESTIONS[0]["question"], (),
                                    ("fanned until the water EVAPORATES",), True, "calibration")
    assert questions[-3].kind == "off_topic"  # the default kind of a question not covered
    o3 = questions[-1]
    assert not o3.answerable and o3.history == ("who sells concert tickets",) and not o3.evidence
    assert o3.kind == "near_domain"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('{"id": "x"}', 'line 2: needs a "question"'),
        ('{"id": "x", "question": "q"}', 'line 2: an answerable question needs "evidence"'),
        ('{"id": "x", "question": "q", "answerable": false, "evidence": ["e"]}', "line 2"),
        ('{"id": "x", "question": "q", "evidence": ["e"], "split": "train"}', 'line 2: "split"'),
        ('{"id": "x", "question": "q", "evidence": ["e"], "history": "hi"}', 'line 2: "history"'),
        ('{"id": "a1", "question": "q", "evidence": ["e"]}', "line 2: id 'a1' is used twice"),
        ('{"id": "x", "question": "q", "answerable": false, "kind": "rude"}', 'line 2: "kind"'),
        ('{"id": "x", "question": "q", "evidence": ["e"], "evidence_pooled": "e"}',
         'line 2: "evidence_pooled"'),
        ('{"id": "x", "question": "q", "answerable": false, "evidence_pooled": ["e"]}',
         "line 2: a question marked"),
    ],
)
def test_bad_lines_name_their_line_number(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(QUESTIONS[0]) + "\n" + line + "\n")
    with pytest.raises(InputError, match=message):
        load_questions(path)


def test_a_bom_is_read_and_bytes_that_are_not_utf8_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_bytes(("\ufeff" + json.dumps(QUESTIONS[0]) + "\n").encode("utf-8"))
    assert [q.id for q in load_questions(path)] == [QUESTIONS[0]["id"]]
    path.write_bytes(path.read_bytes() + b'{"id": "x", "question": "caf\xe9"}\n')
    with pytest.raises(InputError, match="line 2: not valid UTF-8"):
        load_questions(path)


def test_pooled_evidence_counts_unless_only_the_authors_is_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    row = {"id": "a1", "question": "q", "evidence": ["first phrase"],
           "evidence_pooled": ["judged phrase", "first phrase"]}
    path.write_text(json.dumps(row) + "\n")
    assert load_questions(path)[0].evidence == ("first phrase", "judged phrase")
    assert load_questions(path, pooled=False)[0].evidence == ("first phrase",)


def test_fold_and_relevance_ignore_case_whitespace_and_quote_style() -> None:
    assert fold("  It’s   “Fine”\n") == "it's \"fine\""
    passage = "Ketamine’s effects\nmay LAST for   weeks."
    assert is_relevant(passage, ["ketamine's effects may last for weeks"])
    assert is_relevant(passage, ["nothing", "MAY  last"])
    assert not is_relevant(passage, ["last for months"])


def test_highlight_on_evidence_judges_the_marked_sentence() -> None:
    source = "Title\n\nBees fan nectar. The water evaporates. It thickens into honey.\n"
    start = source.index("Bees")
    end = source.index("honey.") + len("honey.")
    passage = Passage("p", "d", "bees.txt", "Title", "", start, end, source[start:end])
    second = source.index("The water")
    marked = Hit(passage, 1, 1.0, highlight=(second, source.index(" It thickens")))
    assert highlight_on_evidence(source, marked, ["water evaporates"]) is True
    assert highlight_on_evidence(source, marked, ["thickens into honey"]) is False
    # A phrase across two sentences cannot be held by one: the mark is not judged.
    assert highlight_on_evidence(source, marked, ["evaporates. It thickens"]) is None


# --- the replay of the abstention rule, the sweep and its recommendation ----------------------


def test_shown_at_skips_uncleared_candidates_and_near_duplicates() -> None:
    cands = [Candidate(0.2, False), Candidate(0.6, True), Candidate(0.55, False, frozenset({1})),
             Candidate(0.5, False, frozenset({0})), Candidate(0.4, True)]
    assert shown_at(cands, 0.3, k=5) == [1, 3, 4]  # 2 duplicates 1; 3 duplicates 0, not shown
    assert shown_at(cands, 0.1, k=5) == [0, 1, 4]  # now 0 is shown, so 3 is a duplicate
    assert shown_at(cands, 0.3, k=2) == [1, 3]
    assert shown_at(cands, 0.7, k=5) == []


def _synthetic() -> tuple[list[Question], list[list[Candidate]]]:
    """Four answerable questions (relevant first candidate, cosines 0.60, 0.50, 0.45, 0.40) and
    four off-topic ones (best cosines 0.10, 0.20, 0.30, 0.42)."""
    questions = [Question(f"a{i}", "q", evidence=("e",)) for i in range(4)]
    questions += [Question(f"o{i}", "q", answerable=False) for i in range(4)]
    candidates = [[Candidate(c, True), Candidate(c - 0.05, False)] for c in (0.6, 0.5, 0.45, 0.4)]
    candidates += [[Candidate(c, False)] for c in (0.1, 0.2, 0.3, 0.42)]
    return questions, candidates


def test_sweep_gives_exact_trade_off() -> None:
    questions, candidates = _synthetic()
    points = {p["threshold"]: p for p in sweep(questions, candidates, k=5)}
    assert points[0.3]["off_topic_abstained"] == 0.5  # 0.30 still clears 0.30
    assert points[0.31]["off_topic_abstained"] == 0.75
    assert points[0.4]["false_abstention"] == 0.0 and points[0.41]["false_abstention"] == 0.25
    assert points[0.43] == {
        "threshold": 0.43, "answerable": 4, "off_topic": 4, "near_domain": 0, "hit@1": 0.75,
        "hit@3": 0.75, "hit@5": 0.75, "mrr@5": 0.75, "off_topic_abstained": 1.0,
        "near_domain_abstained": None, "not_covered_abstained": 1.0, "false_abstention": 0.25,
    }


def test_recommend_takes_the_middle_of_the_best_feasible_run() -> None:
    questions, candidates = _synthetic()
    points = sweep(questions, candidates, k=5)
    # No false abstention allowed: thresholds 0.31..0.40 all abstain on 3 of 4 off-topic.
    best = recommend(points, max_false_abstention=0.0)
    assert best["threshold"] == 0.35
    assert best["equally_good"] == [0.31, 0.4]
    # One of four allowed: 0.43..0.45 abstain on every off-topic question.
    assert recommend(points, max_false_abstention=0.25)["threshold"] == 0.44
    # Nothing feasible when every threshold abstains wrongly too often.
    assert recommend([p | {"false_abstention": 0.5} for p in points], 0.05) is None


def test_no_recommendation_without_off_topic_questions() -> None:
    questions, candidates = _synthetic()
    answerable = [(q, c) for q, c in zip(questions, candidates, strict=True) if q.answerable]
    points = sweep([q for q, _ in answerable], [c for _, c in answerable], k=5)
    assert recommend(points, max_false_abstention=0.05) is None


def test_near_domain_questions_do_not_steer_the_recommendation() -> None:
    questions, candidates = _synthetic()
    # A near-domain question that only a threshold above every answerable cosine would catch.
    questions.append(Question("n0", "q", answerable=False, kind="near_domain"))
    candidates.append([Candidate(0.38, False)])
    points = sweep(questions, candidates, k=5)
    assert recommend(points, max_false_abstention=0.0)["threshold"] == 0.35
    at = {p["threshold"]: p for p in points}
    assert at[0.38]["near_domain_abstained"] == 0.0 and at[0.39]["near_domain_abstained"] == 1.0
    assert at[0.39]["not_covered_abstained"] == 0.8


def test_summarise_counts_wrong_abstentions_as_misses() -> None:
    questions, _ = _synthetic()
    near = Question("n", "q", answerable=False, kind="near_domain")
    outcomes = [(questions[0], False, 2), (questions[1], True, None), (questions[4], True, None),
                (questions[5], False, None), (near, False, None)]
    assert summarise(outcomes) == {
        "answerable": 2, "off_topic": 2, "near_domain": 1, "hit@1": 0.0, "hit@3": 0.5,
        "hit@5": 0.5, "mrr@5": 0.25, "off_topic_abstained": 0.5, "near_domain_abstained": 0.0,
        "not_covered_abstained": 0.3333, "false_abstention": 0.5,
    }


def test_caution_shares_count_answered_questions_per_kind() -> None:
    def row(answerable: bool, kind: str, abstained: bool, words: list[str]) -> dict:
        return {"answerable": answerable, "kind": kind, "abstained": abstained,
                "not_in_corpus": words}

    rows = [row(True, "", False, []), row(True, "", False, ["sister"]),
            row(True, "", True, []), row(False, "near_domain", False, ["pregnant"]),
            row(False, "near_domain", True, []), row(False, "off_topic", True, [])]
    shares = caution_shares(rows)
    assert shares["answerable"] == {"answered": 2, "cautioned": 1, "share": 0.5}
    assert shares["near_domain"] == {"answered": 1, "cautioned": 1, "share": 1.0}
    assert shares["off_topic"] == {"answered": 0, "cautioned": 0, "share": None}


# --- evaluating a real searcher ---------------------------------------------------------------


def test_evaluate_questions_on_a_tiny_corpus(corpus: Path, question_file: Path) -> None:
    report = evaluate_questions(searcher_at(corpus, 0.3), load_questions(question_file))
    rows = {row["id"]: row for row in report["per_question"]}
    assert [rows[f"a{i}"]["first_relevant_rank"] for i in range(1, 7)] == [1, 1, 1, 1, None, 1]
    assert rows["a5"]["abstained"]  # no word in common: a wrong abstention, and a miss
    assert all(rows[f"o{i}"]["abstained"] for i in range(1, 4))
    assert [m["id"] for m in report["misses"]] == ["a5"]
    assert report["summary"]["all"]["hit@1"] == pytest.approx(5 / 6, abs=1e-4)
    assert report["highlight"]["judged"] >= 5
    assert 0.0 <= report["highlight"]["on_evidence"] <= 1.0
    low, high = report["summary"]["all"]["hit@1_ci95"]
    assert low < 5 / 6 < high < 1.0  # six questions: a wide interval around the share
    assert report["summary"]["all"]["off_topic_abstained"] == 1.0
    assert report["summary"]["holdout"]["answerable"] == 2
    assert report["summary"]["calibration"]["false_abstention"] == 0.25
    followups = report["summary"]["follow-ups"]  # o3, asked after another question
    assert (followups["answerable"], followups["near_domain"]) == (0, 1)
    assert followups["near_domain_abstained"] == 1.0
    # The shared sentence is in both articles: shown once (the engine drops near-duplicates).
    assert len([r for r in rows["a6"]["returned"] if r["relevant"]]) == 1
    assert set(report["sweep"]["points"]) == {"calibration", "holdout"}
    assert report["replay_mismatches"] == []


@pytest.mark.parametrize("threshold", [0.0, 0.15, 0.25, 0.4, 0.6])
def test_the_sweep_replay_agrees_with_the_engine(
    corpus: Path, question_file: Path, threshold: float
) -> None:
    report = evaluate_questions(searcher_at(corpus, threshold), load_questions(question_file))
    assert report["replay_mismatches"] == []
    swept = next(p for p in report["sweep"]["points"]["holdout"] if p["threshold"] == threshold)
    actual = {k: v for k, v in report["summary"]["holdout"].items() if not k.endswith("_ci95")}
    assert {k: swept[k] for k in actual} == actual


def test_a_passage_cleared_by_its_example_replays_as_cleared_at_every_threshold(
    corpus: Path, question_file: Path
) -> None:
    """a5 shares no word with its passage (cosine under any threshold here); asked as that
    passage's example question, the engine shows it, and the sweep's replay agrees."""
    example = {"question": "what do these insects produce", "evidence": "thickens into honey"}
    (corpus / EXAMPLES_FILE).write_text(json.dumps(example) + "\n")
    report = evaluate_questions(searcher_at(corpus, 0.6), load_questions(question_file))
    assert report["replay_mismatches"] == []
    a5 = next(row for row in report["per_question"] if row["id"] == "a5")
    assert not a5["abstained"] and a5["first_relevant_rank"] == 1
    # a1, a3, a5, a6 in calibration: at the sweep's top threshold only a5 is still answered
    top = max(report["sweep"]["points"]["calibration"], key=lambda p: p["threshold"])
    assert top["threshold"] >= 0.9 and top["false_abstention"] == 0.75


# --- diffs and the CLI ------------------------------------------------------------------------


def _row(qid: str, answerable: bool, abstained: bool, rank: int | None) -> dict:
    return {"id": qid, "question": qid, "answerable": answerable, "abstained": abstained,
            "first_relevant_rank": rank}


def test_diff_reports_question_by_question() -> None:
    old = {"per_question": [_row("a", True, False, 3), _row("b", True, False, 1),
                            _row("c", True, True, None), _row("o", False, False, None),
                            _row("gone", True, False, 1)]}
    new = {"per_question": [_row("a", True, False, 1), _row("b", True, False, None),
                            _row("c", True, False, None), _row("o", False, True, None),
                            _row("added", False, True, None)]}
    diff = diff_reports(old, new)
    assert [(c["id"], c["before"], c["after"]) for c in diff["better"]] == [
        ("a", "rank 3", "rank 1"), ("c", "abstained", "miss"), ("o", "answered", "abstained")]
    assert [(c["id"], c["before"], c["after"]) for c in diff["worse"]] == [("b", "rank 1", "miss")]
    assert diff["unchanged"] == 0 and diff["only_before"] == ["gone"]
    assert diff["only_after"] == ["added"]
    with pytest.raises(InputError):
        diff_reports({"modes": {}}, new)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.embedders

    monkeypatch.setattr(qa.embedders, "default_embedder", lambda: HashingEmbedder())


@pytest.mark.usefixtures("fake_model")
def test_cli_reports_a_set_without_a_calibration_split(corpus: Path, tmp_path: Path) -> None:
    """A blind set (every row "test") is scored; only the threshold advice is missing."""
    from qa.cli import main

    blind = tmp_path / "blind.jsonl"
    blind.write_text("".join(json.dumps({**q, "split": "test"}) + "\n" for q in QUESTIONS))
    result = CliRunner().invoke(main, ["eval", "--questions", str(blind), "--corpus", str(corpus),
                                       "--index", str(tmp_path / "index"), "--sweep"])
    assert result.exit_code == 0, result.output
    assert "\ntest " in result.output and "\ncalibration " not in result.output
    assert "No threshold recommended: the calibration split needs" in result.output


@pytest.mark.usefixtures("fake_model")
def test_cli_reports_compares_and_diffs(corpus: Path, question_file: Path, tmp_path: Path) -> None:
    from qa.cli import main

    common = ["eval", "--questions", str(question_file), "--corpus", str(corpus),
              "--index", str(tmp_path / "index")]
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    first = CliRunner().invoke(main, [*common, "--threshold", "0.3", "--report", str(before),
                                      "--sweep"])
    assert first.exit_code == 0, first.output
    assert "hit@1" in first.output and "Misses (1):" in first.output and "a5" in first.output
    assert "Recommended threshold" in first.output and "threshold" in first.output
    assert "95% intervals (Wilson): all hit@1" in first.output
    assert json.loads(before.read_text())["settings"]["abstain_threshold"] == 0.3

    second = CliRunner().invoke(main, [*common, "--threshold", "0.45", "--report", str(after),
                                       "--compare", str(before)])
    assert second.exit_code == 0, second.output
    assert "Worse (" in second.output and "rank 1 ->" in second.output
    worse = json.loads(after.read_text())["compare"]["worse"]
    assert worse and all(c["after"] == "abstained" for c in worse)

    diff = CliRunner().invoke(main, ["eval", "diff", str(before), str(after), "--fail-on-worse"])
    assert diff.exit_code == 1 and "Better (0)" in diff.output
    as_json = CliRunner().invoke(main, ["eval", "diff", str(after), str(before), "--json"])
    assert as_json.exit_code == 0 and json.loads(as_json.output)["worse"] == []


@pytest.mark.usefixtures("fake_model")
def test_cli_rejects_a_malformed_question_file(corpus: Path, tmp_path: Path) -> None:
    from qa.cli import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(QUESTIONS[0]) + "\n\n" + "{oops\n")
    result = CliRunner().invoke(main, ["eval", "--questions", str(bad), "--corpus", str(corpus),
                                       "--index", str(tmp_path / "index")])
    assert result.exit_code != 0 and "line 3" in result.output
    neither = CliRunner().invoke(main, ["eval"])
    assert neither.exit_code != 0 and "--beir" in neither.output


# --- the shipped question set -----------------------------------------------------------------


def test_every_evidence_phrase_of_the_shipped_set_lies_inside_one_passage() -> None:
    # Relevance is judged passage by passage: a phrase that is nowhere in the corpus, or that
    # straddles two passages, could never match and would turn its question into a silent miss.
    from qa.api import corpus_settings_for
    from qa.documents import read_corpus
    from qa.passages import split_passages

    root = Path(__file__).resolve().parent.parent
    passages = [
        fold(p.text)
        for doc in read_corpus(root / "corpus", corpus_settings_for(root / "corpus"))
        for p in split_passages(doc)
    ]
    questions = load_questions(root / "tests/data/questions.jsonl")
    answerable = [q for q in questions if q.answerable]
    assert len(answerable) >= 50 and len(questions) - len(answerable) >= 15
    missing = [
        (q.id, phrase)
        for q in answerable
        for phrase in q.evidence
        if not any(fold(phrase) in text for text in passages)
    ]
    assert missing == []
    assert sum(len(q.evidence) for q in answerable) > sum(
        len(q.evidence) for q in load_questions(root / "tests/data/questions.jsonl", pooled=False)
    )


@pytest.mark.usefixtures("fake_model")
def test_cli_fit_learns_weights_and_writes_them_beside_the_other_settings(
    corpus: Path, question_file: Path, tmp_path: Path
) -> None:
    from qa.cli import main
    from qa.rerank import FEATURES
    from qa.settings import CORPUS_SETTINGS_FILE

    settings_file = corpus / CORPUS_SETTINGS_FILE
    settings_file.write_text(json.dumps({"_about": "notes", "abstain_threshold": 0.3}))
    common = ["eval", "fit", "--questions", str(question_file), "--corpus", str(corpus),
              "--index", str(tmp_path / "index")]
    shown = CliRunner().invoke(main, common)
    assert shown.exit_code == 0, shown.output
    assert "Learned from" in shown.output and "calibration questions" in shown.output
    assert "hit@1 now" in shown.output and "holdout" in shown.output
    assert "rerank_features" not in settings_file.read_text()  # only --write writes
    written = CliRunner().invoke(main, [*common, "--write"])
    assert written.exit_code == 0, written.output
    data = json.loads(settings_file.read_text())
    assert data["_about"] == "notes" and data["abstain_threshold"] == 0.3
    assert list(data["rerank_features"]) == list(FEATURES)
    again = CliRunner().invoke(main, ["eval", "--questions", str(question_file), "--corpus",
                                      str(corpus), "--index", str(tmp_path / "index")])
    assert again.exit_code == 0 and "learned re-ranker (fused" in again.output
    nothing = CliRunner().invoke(main, [*common, "--split", "test"])
    assert nothing.exit_code != 0 and "no answerable questions in the 'test' split" in (
        nothing.output
    )
    typo = CliRunner().invoke(main, [*common, "--split", "calibraton"])
    assert typo.exit_code == 2 and "'calibraton' is not one of" in typo.output


def test_the_cli_knows_the_question_splits() -> None:
    from qa.eval_cli import SPLITS as CLI_SPLITS
    from qa.questions import SPLITS

    assert CLI_SPLITS == SPLITS  # spelled out there so that `qa --help` need not import numpy
