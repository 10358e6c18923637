"""The ``qa`` command line, in-process with the hashing embedder standing in for the model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import qa.api
import qa.embedders
from qa.cli import main
from qa.embedders import HashingEmbedder
from qa.render import NOT_COVERED

TYRES = "What pressure should road bicycle tyres be inflated to?"
DOUGH = "How long should the dough proof in the refrigerator?"

TOP_KEYS = {"query", "effective_query", "abstained", "not_in_corpus", "results"}
RESULT_KEYS = {
    "rank",
    "score",
    "doc_id",
    "title",
    "section",
    "text",
    "source",
    "start",
    "end",
    "highlight",
}


@pytest.fixture(autouse=True)
def hashing_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command gets the hashing embedder instead of loading the real model."""

    def factory() -> HashingEmbedder:
        return HashingEmbedder(dim=1024)

    monkeypatch.setattr(qa.embedders, "default_embedder", factory)
    monkeypatch.setattr(qa.api, "default_embedder", factory)


@pytest.fixture
def folders(tiny_corpus: Path, tmp_path: Path) -> list[str]:
    return ["--corpus", str(tiny_corpus), "--index", str(tmp_path / "index")]


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "build" in result.output and "search" in result.output


def test_build_reports_what_it_indexed(folders: list[str], tmp_path: Path) -> None:
    result = run("build", *folders)
    assert result.exit_code == 0, result.output
    assert "Indexed 3 documents" in result.stdout
    assert (tmp_path / "index" / "CURRENT").is_file()


def test_search_json_shape_and_verbatim_text(folders: list[str], tiny_corpus: Path) -> None:
    assert run("build", *folders).exit_code == 0
    result = run("search", TYRES, "--json", *folders)
    assert result.exit_code == 0, result.output
    assert len(lines(result.stdout)) == 1
    payload = json.loads(result.stdout)
    assert set(payload) >= TOP_KEYS
    assert payload["query"] == TYRES
    assert payload["effective_query"] == TYRES
    assert payload["abstained"] is False
    assert payload["results"]
    for n, item in enumerate(payload["results"], start=1):
        assert set(item) >= RESULT_KEYS
        assert item["rank"] == n
        source_text = (tiny_corpus / item["source"]).read_text(encoding="utf-8")
        assert item["text"] == source_text[item["start"] : item["end"]]
        a, b = item["highlight"]
        assert item["start"] <= a < b <= item["end"]
        assert isinstance(item["score"], float)
    top = payload["results"][0]
    assert (top["source"], top["section"]) == ("bicycle.txt", "Tyre Pressure")
    assert top["title"] == "Bicycle Maintenance Basics"


def test_search_names_words_the_corpus_never_uses(folders: list[str]) -> None:
    question = "What pressure should road bicycle tyres be inflated to when pregnant?"
    payload = json.loads(run("search", question, "--json", *folders).stdout)
    assert payload["not_in_corpus"] == ["pregnant"] and payload["results"]
    assert json.loads(run("search", TYRES, "--json", *folders).stdout)["not_in_corpus"] == []
    text = run("search", question, *folders).stdout
    assert text.startswith("These articles never mention “pregnant”,")
    two = run("search", question.replace("pregnant", "pregnant or jetlagged"), *folders).stdout
    assert two.startswith("These articles never mention “pregnant” or “jetlagged”,")
    assert "\n[1] Bicycle Maintenance Basics" in text


def test_search_builds_a_missing_index_and_says_so_on_stderr(folders: list[str]) -> None:
    result = run("search", DOUGH, "--json", *folders)
    assert result.exit_code == 0, result.output
    assert "No index" in result.stderr
    assert json.loads(result.stdout)["results"][0]["section"] == "Mixing and Proofing"


def test_search_text_output_cites_numbered_passages(folders: list[str]) -> None:
    result = run("search", TYRES, "--k", "2", *folders)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("[1] Bicycle Maintenance Basics — Tyre Pressure\n")
    assert "Road bicycle tyres should be inflated" in result.stdout
    assert "[3]" not in result.stdout


def test_search_k_and_mode(folders: list[str]) -> None:
    for mode in ("dense", "bm25", "hybrid"):
        result = run("search", TYRES, "--json", "--k", "1", "--mode", mode, *folders)
        assert result.exit_code == 0, result.output
        results = json.loads(result.stdout)["results"]
        assert len(results) == 1
        assert results[0]["section"] == "Tyre Pressure"


def test_search_history_resolves_a_followup(folders: list[str]) -> None:
    result = run(
        "search",
        "do they hurt?",
        "--history",
        "Tell me about bee stings",
        "--json",
        *folders,
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["query"] == "do they hurt?"
    assert payload["effective_query"] == "Tell me about bee stings do they hurt?"


def test_search_abstains_in_json_and_in_text(folders: list[str]) -> None:
    result = run("search", "zebra xylophone", "--json", *folders)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["abstained"] is True and payload["results"] == []
    text = run("search", "zebra xylophone", *folders)
    assert text.exit_code == 0
    assert text.stdout.strip() == "The articles here don't cover that."


def test_batch_answers_every_line_and_reports_bad_ones(folders: list[str], tmp_path: Path) -> None:
    batch = tmp_path / "questions.jsonl"
    rows = [
        json.dumps({"id": "tyres", "question": TYRES}),
        json.dumps({"id": "hurt", "question": "do they hurt?", "history": ["bee stings"]}),
        "{this is not json",
        json.dumps({"id": "empty", "question": "   "}),
        json.dumps({"id": "no-question"}),
        json.dumps({"id": "bad-history", "question": DOUGH, "history": "bee stings"}),
        "",
        json.dumps({"question": DOUGH}),
    ]
    batch.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = run("search", "--batch", str(batch), *folders)
    assert result.exit_code == 2, result.output
    out = [json.loads(line) for line in lines(result.stdout)]
    assert len(out) == 7  # one per non-blank input line, in order
    assert all("id" in row for row in out)
    by_id = {row["id"]: row for row in out}
    assert by_id["tyres"]["results"][0]["section"] == "Tyre Pressure"
    assert set(by_id["tyres"]) >= TOP_KEYS
    assert by_id["hurt"]["effective_query"] == "bee stings do they hurt?"
    assert out[2]["id"] is None and out[2]["line"] == 3 and "not JSON" in out[2]["error"]
    assert "empty" in by_id["empty"]["error"] and "results" not in by_id["empty"]
    assert "question" in by_id["no-question"]["error"]
    assert "history" in by_id["bad-history"]["error"]
    assert out[6]["id"] == 8, "a line without an id is named by its line number"
    assert out[6]["results"][0]["section"] == "Mixing and Proofing"
    assert "4 line(s) could not be answered" in result.stderr


def test_batch_survives_bad_bytes_and_keeps_every_line(folders: list[str], tmp_path: Path) -> None:
    """A BOM, a line that is not UTF-8, a lone surrogate and a non-list history cost at most
    their own line: every input line gets its output line, in order."""
    batch = tmp_path / "bytes.jsonl"
    rows = [
        "\ufeff" + json.dumps({"id": "bom", "question": TYRES}),
        '{"id": "latin1", "question": "caf\xe9 dough"}',
        json.dumps({"id": "surrogate", "question": "\ud800 " + DOUGH}),
        json.dumps({"id": "dict-history", "question": DOUGH, "history": {}}),
        json.dumps({"id": "null-history", "question": DOUGH, "history": None}),
        json.dumps({"id": "last", "question": TYRES}),
    ]
    data = "\n".join(rows).encode("utf-8", "surrogatepass")
    batch.write_bytes(data.replace("caf\xe9".encode(), b"caf\xe9") + b"\n")
    result = run("search", "--batch", str(batch), *folders)
    assert result.exit_code == 2, result.output
    out = [json.loads(line) for line in lines(result.stdout)]
    assert [row["id"] for row in out] == [
        "bom", None, "surrogate", "dict-history", "null-history", "last"
    ]
    assert out[0]["results"] and out[5]["results"]
    assert out[1]["line"] == 2 and "not valid UTF-8" in out[1]["error"]
    assert out[2]["results"][0]["section"] == "Mixing and Proofing"
    assert "history" in out[3]["error"] and out[3]["line"] == 4
    assert out[4]["results"] and out[4]["crisis"] is False


def test_history_is_for_one_question_not_a_batch(folders: list[str]) -> None:
    result = run("search", "--batch", "-", "--history", "bee stings", *folders, input="")
    assert result.exit_code == 2 and "--history" in result.output


def test_crisis_language_is_flagged(folders: list[str]) -> None:
    data = json.loads(run("search", "I want to kill myself", "--json", *folders).stdout)
    assert data["crisis"] is True
    text = run("search", "I want to kill myself", *folders).stdout
    assert text.startswith("You are not alone") and "988" in text
    assert json.loads(run("search", TYRES, "--json", *folders).stdout)["crisis"] is False


def test_a_cut_question_says_so(folders: list[str]) -> None:
    result = run("search", TYRES + " filler" * 1000, *folders)
    assert result.exit_code == 0 and "characters of the question are searched" in result.stderr
    assert "searched" not in run("search", TYRES, *folders).stderr


def test_not_covered_text_ends_its_line(folders: list[str]) -> None:
    result = run("search", "zzqx vvwk", *folders)
    assert result.exit_code == 0 and result.stdout == NOT_COVERED + "\n"


def test_a_corpus_without_passages_is_a_one_line_error(tmp_path: Path) -> None:
    corpus = tmp_path / "furniture"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Hi\n\nBack to top button\n", encoding="utf-8")
    result = run("build", "--corpus", str(corpus), "--index", str(tmp_path / "index"))
    assert result.exit_code != 0 and "no passage" in result.output
    assert "Traceback" not in result.output


def test_batch_from_stdin_with_only_good_lines_exits_0(folders: list[str]) -> None:
    rows = [json.dumps({"id": n, "question": q}) for n, q in enumerate([TYRES, DOUGH])]
    result = run("search", "--batch", "-", *folders, input="\n".join(rows) + "\n")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in lines(result.stdout)] == [0, 1]


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_a_one_line_error(
    folders: list[str], tmp_path: Path, question: str
) -> None:
    result = run("search", question, *folders)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert lines(result.stderr) == [
        "Error: the question is empty: type a question about the documents"
    ]
    assert not (tmp_path / "index").exists(), "refused before building anything"


def test_question_and_batch_together_or_neither_is_a_usage_error(
    folders: list[str], tmp_path: Path
) -> None:
    (tmp_path / "b.jsonl").write_text("", encoding="utf-8")
    assert run("search", *folders).exit_code == 2
    both = run("search", TYRES, "--batch", str(tmp_path / "b.jsonl"), *folders)
    assert both.exit_code == 2
    assert "either a QUESTION or --batch" in both.output


def test_missing_corpus_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-corpus"
    for args in (
        ["build", "--corpus", str(missing), "--index", str(tmp_path / "index")],
        ["search", TYRES, "--corpus", str(missing), "--index", str(tmp_path / "index")],
    ):
        result = run(*args)
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert lines(result.stderr)[-1] == f"Error: corpus folder not found: {missing}"
        assert not (tmp_path / "index" / "CURRENT").exists()


def test_corrupted_index_is_rebuilt_on_search(folders: list[str], tmp_path: Path) -> None:
    assert run("build", *folders).exit_code == 0
    build = next((tmp_path / "index").glob("build-*"))
    (build / "passages.jsonl").write_text("{}\n", encoding="utf-8")
    result = run("search", TYRES, "--json", *folders)
    assert result.exit_code == 0, result.output
    assert "Rebuilding the index" in result.stderr and "passages.jsonl" in result.stderr
    assert json.loads(result.stdout)["results"][0]["section"] == "Tyre Pressure"


def test_environment_variables_set_the_default_folders(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_CORPUS", str(tiny_corpus))
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "env-index"))
    result = run("search", TYRES, "--json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env-index" / "CURRENT").is_file()


HEAVY = ("torch", "faiss", "gradio", "sentence_transformers", "transformers")


@pytest.mark.parametrize(
    "code",
    [
        "import qa",
        "import qa; qa.SearchSettings; qa.Answer",
        "from qa.cli import main\ntry:\n    main(['--help'], prog_name='qa')\nexcept SystemExit:\n"
        "    pass",
        "from qa.cli import main\ntry:\n    main(['search', '--help'], prog_name='qa')\n"
        "except SystemExit:\n    pass",
    ],
    ids=["import", "records", "help", "search-help"],
)
def test_light_entry_points_import_no_heavy_library(code: str) -> None:
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
