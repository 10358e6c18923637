"""The staff view: refuses to start without a login, rejects unauthenticated requests, and works
for a signed-in gradio_client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chat_support import STAFF_LOGIN, free_port, staff_serving, write_corpus

ROOT = Path(__file__).resolve().parent.parent
LOGIN = STAFF_LOGIN
QUESTION = "How often should I water tomato plants?"


def staff_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_STAFF_")}
    return {**env, **extra}


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({}, "QA_STAFF_USER and QA_STAFF_PASSWORD"),
        ({"QA_STAFF_USER": "staffer"}, "QA_STAFF_USER and QA_STAFF_PASSWORD"),
        ({"QA_STAFF_USER": "staffer", "QA_STAFF_PASSWORD": "short"}, "shorter than 8"),
    ],
)
def test_refuses_to_start_without_credentials(
    extra: dict[str, str], reason: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "staff.py", "--index", str(tmp_path / "index"), "--data", str(tmp_path)],
        cwd=ROOT,
        env=staff_env(**extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("staff.py: ") and reason in lines[0]
    assert not (tmp_path / "index").exists()  # nothing was built or served


@pytest.fixture(scope="module")
def staff_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with staff_serving(tmp_path_factory.mktemp("staff"), LOGIN) as url:
        yield url


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/config"),
        ("GET", "/gradio_api/info"),
        ("GET", "/gradio_api/openapi.json"),
        ("POST", "/gradio_api/call/lab"),
        ("POST", "/gradio_api/queue/join"),
        ("POST", "/gradio_api/run/lab"),
    ],
)
def test_unauthenticated_requests_are_rejected(staff_url: str, method: str, path: str) -> None:
    response = httpx.request(method, staff_url + path, json={"data": [QUESTION]}, timeout=10)
    # The queue-bypassing /run API is closed for everyone (404); the rest asks for a login.
    assert response.status_code == (404 if path.startswith("/gradio_api/run/") else 401)
    assert QUESTION not in response.text and "Watering" not in response.text


def test_the_page_shows_only_a_login_form_before_signing_in(staff_url: str) -> None:
    page = httpx.get(staff_url + "/", timeout=10)
    assert page.status_code == 200
    assert '"auth_required":true' in page.text.replace(" ", "")
    assert "Retrieval lab" not in page.text and "Not covered" not in page.text
    assert "Content-Security-Policy" in page.headers


def test_gradio_client_needs_the_right_login(staff_url: str) -> None:
    from gradio_client import Client

    with pytest.raises(Exception, match="credentials were not provided"):
        Client(staff_url, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(staff_url, auth=(LOGIN[0], "wrong password!"), verbose=False)


def test_signed_in_client_runs_the_lab_labels_and_exports(staff_url: str) -> None:
    from gradio_client import Client

    client = Client(staff_url, auth=LOGIN, verbose=False)
    try:
        result = client.predict(QUESTION, [], "hybrid (rrf)", 2, api_name="/lab")
        summary, candidates = result["summary"], result["candidates"]
        assert summary["effective_query"] == QUESTION and summary["strategy"] == "hybrid (rrf)"
        assert len(candidates) == summary["candidates"] > 2
        top = candidates[0]
        assert top["final_rank"] == 1 and top["section"] == "Watering" and top["cleared"]
        assert {"dense_score", "dense_rank", "bm25_score", "bm25_rank", "fused_rank"} <= set(top)
        label = client.predict(QUESTION, top["passage_id"], True, [], api_name="/label")
        assert label["index_version"] == summary["index_version"]
        exported = client.predict("questions", False, api_name="/export_labels")
        row = json.loads(exported)
        assert (row["question"], row["evidence"]) == (QUESTION, [top["text"]])
        groups = client.predict(0.75, 100, api_name="/unanswered")
        assert [(g["question"], g["count"]) for g in groups] == [
            ("Can I grow figs on a balcony?", 1),
            ("Can I grow figs indoors?", 1),
        ]
        assert (groups[0]["partly_covered"], groups[0]["missing_words"]) == (1, ["balcony"])
        with pytest.raises(Exception, match="no passage"):
            client.predict(QUESTION, "not-a-passage", True, [], api_name="/label")
    finally:
        client.close()


def test_signed_in_client_adds_an_example_and_the_lab_names_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from gradio_client import Client

    question = "when should I snip off the shoots"
    with staff_serving(tmp_path_factory.mktemp("examples"), LOGIN) as url:
        client = Client(url, auth=LOGIN, verbose=False)
        try:
            before = client.predict(question, [], "hybrid", 5, api_name="/lab")
            pruning = next(c for c in before["candidates"] if c["section"] == "Pruning")
            assert pruning["example"] is None
            done = client.predict(question, pruning["passage_id"], None, api_name="/add_example")
            assert done["added"] and done["passage_ids"] == [pruning["passage_id"]]
            assert done["index_version"] != before["summary"]["index_version"]
            after = client.predict(question, [], "hybrid", 5, api_name="/lab")
            named = {c["passage_id"]: c["example"] for c in after["candidates"]}
            assert named[pruning["passage_id"]] == question
            with pytest.raises(Exception, match="not in passage"):
                client.predict(question, pruning["passage_id"], "Water the soil",
                               api_name="/add_example")
        finally:
            client.close()


@pytest.mark.model
def test_python_staff_py_serves_behind_the_login(tmp_path: Path) -> None:
    """The real entry point with the bundled model: starts, refuses strangers, serves staff."""
    from gradio_client import Client

    port = free_port()
    env = staff_env(QA_STAFF_USER=LOGIN[0], QA_STAFF_PASSWORD=LOGIN[1])
    command = [
        sys.executable, "staff.py", "--port", str(port), "--corpus",
        str(write_corpus(tmp_path / "corpus")), "--index", str(tmp_path / "index"),
        "--data", str(tmp_path / "data"),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(url + "/config", timeout=2).status_code == 401:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("staff.py did not start within 180 s")
        client = Client(url, auth=LOGIN, verbose=False)
        result = client.predict(QUESTION, [], "hybrid", 3, api_name="/lab")
        client.close()
        assert result["candidates"][0]["section"] == "Watering"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_added_message_says_why_the_passage_is_still_hidden() -> None:
    from qa.staff_ui import added_message

    done = {"line": 3, "file": "c/.qa-examples.jsonl", "index_version": "v2", "shown": False,
            "cosine": 0.18, "threshold": 0.22, "example_cosine": 0.71, "example_match": 0.9}
    hidden = added_message(done)
    assert "Added line 3" in hidden and "`v2`" in hidden
    assert "0.18, is under the threshold 0.22" in hidden and "example, 0.71, under 0.90" in hidden
    unmatched = added_message({**done, "example_cosine": None})
    assert "None" not in unmatched and "not among the candidates" in unmatched
    assert "Still not shown" not in added_message({**done, "shown": True})


def test_the_staff_view_takes_the_visitors_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """``make run`` serves an adapted model: the staff view must search with the same one."""
    sys.path.insert(0, str(ROOT))
    import staff

    monkeypatch.delenv("QA_MODEL", raising=False)
    assert staff.parse_args([]).model is None  # the bundled model
    monkeypatch.setenv("QA_MODEL", "models/adapted")
    assert staff.parse_args([]).model == Path("models/adapted")
    assert staff.parse_args(["--model", "other"]).model == Path("other")  # the flag wins
