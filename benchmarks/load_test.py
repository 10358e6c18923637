"""Load test of the visitors' chat on loopback: many visitors at once, a full queue, a rebuild.

The server is the real chat (``qa.ui.build_app``, what ``app.py`` serves) over a
:class:`~qa.live.LiveSearcher`, started in a subprocess on free loopback ports with a copy of the
corpus, a fresh index and a fresh feedback store in a temporary folder. Simulated visitors are
HTTP clients calling the public ``/ask`` endpoint through Gradio's queue (see
``benchmarks/loadlib.py``) with the questions of ``tests/data/questions.jsonl`` (follow-ups with
their history); each visitor also votes on its answers by writing straight into the feedback
store from this process, as the chat's thumbs do, so the store takes concurrent writes from two
processes at once.

Three phases, each bounded and stopping by itself:

0. one visitor asks 50 questions: the latency without any queueing, for reference.
1. load: ``--visitors`` visitors send ``--questions`` questions in all; every request must
   succeed, and the store must hold exactly the votes sent and the questions logged as unanswered
   (the server's abstentions plus the thumbs down). Median and 95th-percentile latency reported.
2. busy: the same visitors against a second app with a queue of 2 and one worker: past the
   limit a visitor gets Gradio's "queue is full" reply at once, not a hang (no request may time
   out).
3. rebuild: visitors keep asking while a document is added to the corpus; the app's watcher
   rebuilds the index and swaps it in. No request may fail; answers move from the old index
   version to the new one.

Run from the repository root::

    .venv/bin/python benchmarks/load_test.py                  # real model, a few minutes
    .venv/bin/python benchmarks/load_test.py --quick          # hashing embedder, 400 questions
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchlib import DEFAULT_CORPUS, format_table, machine, read_questions
from loadlib import (
    NEW_DOCUMENT,
    NEW_QUESTION,
    PhaseResult,
    Visitors,
    cpu_seconds,
    lost,
    run_rebuild_phase,
    start_server,
    store_counts,
)


def _serve(config: dict[str, Any]) -> None:
    """Subprocess entry: start the server, print its URLs, and serve until stdin closes."""
    if config["embedder"] == "hashing":
        from qa.embedders import HashingEmbedder
        from qa.settings import SearchSettings

        embedder: Any = HashingEmbedder()
        settings = SearchSettings(abstain_threshold=0.15)  # hashing vectors score lower
    else:
        from qa.embedders import default_embedder

        embedder, settings = default_embedder(), None
    server = start_server(
        Path(config["corpus"]),
        Path(config["index"]),
        Path(config["data"]),
        embedder=embedder,
        settings=settings,
        queues=[tuple(q) for q in config["queues"]],
        watch=config["watch"],
    )
    print("READY " + json.dumps(server.urls), flush=True)
    sys.stdin.read()  # the parent closes our stdin to stop us
    server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--visitors", type=int, default=25)
    parser.add_argument("--questions", type=int, default=2000, help="in all, in phase 1")
    parser.add_argument("--embedder", choices=["minilm", "hashing"], default="minilm")
    parser.add_argument("--quick", action="store_true", help="hashing embedder, 400 questions")
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # subprocess mode (JSON config)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(json.loads(args.serve))
        return 0
    if args.quick:
        args.embedder, args.questions = "hashing", min(args.questions, 400)
    per_visitor = max(1, args.questions // args.visitors)
    questions = read_questions()

    with tempfile.TemporaryDirectory(prefix="qa-load-") as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(DEFAULT_CORPUS, corpus)
        config = {
            "corpus": str(corpus),
            "index": str(Path(tmp) / "index"),
            "data": str(Path(tmp) / "data"),
            "embedder": args.embedder,
            "queues": [[32, 2], [2, 1]],  # the app's defaults; a tiny queue for phase 2
            "watch": 0.5,
        }
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            return _run_phases(server, config, questions, per_visitor, args)
        finally:
            if server.stdin:
                server.stdin.close()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.terminate()
                server.wait(timeout=30)


def _run_phases(
    server: subprocess.Popen[str],
    config: dict[str, Any],
    questions: list[tuple[str, tuple[str, ...]]],
    per_visitor: int,
    args: argparse.Namespace,
) -> int:
    from qa.store import Store

    urls = _wait_ready(server, timeout=300)
    store = Store(Path(config["data"]) / "qa.sqlite3")
    print(f"Server up at {urls}; {args.visitors} visitors, {per_visitor} questions each\n")
    results, checks = [], {}

    def measured(run: Callable[[], PhaseResult]) -> tuple[PhaseResult, dict[str, Any]]:
        """Run a phase; its summary with the rows lost and the CPU each request cost."""
        counts, server_cpu, client_cpu = store_counts(store), cpu_seconds(server.pid), cpu_seconds()
        result = run()
        n = max(1, len(result.outcomes))
        summary = result.summary() | {
            "lost": lost(counts, store_counts(store), result),
            "server_cpu_ms": (cpu_seconds(server.pid) - server_cpu) / n * 1000,
            "client_cpu_ms": (cpu_seconds() - client_cpu) / n * 1000,
        }
        results.append(summary)
        return result, summary

    nothing_lost = {"feedback": 0, "unanswered": 0}
    alone = Visitors(urls[0], questions, 1, per_visitor=50, store=store, timeout=args.timeout,
                     name="one visitor")  # fmt: skip
    result, summary = measured(alone.run)  # the latency without queueing, for reference
    checks["one visitor: every request answered"] = result.count("answer") == 50
    load = Visitors(urls[0], questions, args.visitors, per_visitor=per_visitor, store=store,
                    timeout=args.timeout, name="load")  # fmt: skip
    result, summary = measured(load.run)
    checks["load: every request answered"] = result.count("answer") == len(result.outcomes)
    checks["load: nothing lost from the store"] = summary["lost"] == nothing_lost
    checks["load: no vote failed"] = result.vote_errors == 0

    busy = Visitors(urls[1], questions, args.visitors, per_visitor=8, timeout=args.timeout,
                    name="busy (queue 2)")  # fmt: skip
    result, summary = measured(busy.run)
    checks["busy: full queue answers 'busy', never hangs"] = (
        result.count("busy") > 0 and result.count("timeout") == 0 and result.count("error") == 0
    )

    def add_document() -> None:
        (Path(config["corpus"]) / "zz-visiting.txt").write_text(NEW_DOCUMENT, encoding="utf-8")

    rebuild = Visitors(urls[0], [(NEW_QUESTION, ()), *questions], args.visitors,
                       per_visitor=None, store=store, timeout=args.timeout, deadline=300,
                       name="rebuild under load")  # fmt: skip
    result, summary = measured(
        lambda: run_rebuild_phase(rebuild, add_document, before=100, after=100)
    )
    checks["rebuild: no request failed"] = result.count("answer") == len(result.outcomes)
    checks["rebuild: answers moved to the new index"] = len(summary["versions"]) == 2
    checks["rebuild: nothing lost from the store"] = summary["lost"] == nothing_lost
    store.close()

    headers = ["phase", "requests", "answers", "busy", "errors", "timeouts", "median_ms",
               "p95_ms", "busy_p95_ms", "max_ms", "throughput_qps", "server_cpu_ms",
               "client_cpu_ms"]  # fmt: skip
    print(format_table(headers, [[r[h] if r[h] is not None else float("nan") for h in headers]
                                 for r in results]))  # fmt: skip
    for r in results:
        if r.get("versions"):
            print(f"{r['phase']}: answers per index version {r['versions']}")
        if r["first_errors"]:
            print(f"{r['phase']}: first errors {r['first_errors']}")
    print()
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    payload = {"machine": machine(), "embedder": args.embedder, "visitors": args.visitors,
               "phases": results, "checks": checks}  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"\nWrote {args.json}")
    return 0 if all(checks.values()) else 1


def _wait_ready(server: subprocess.Popen[str], timeout: float) -> list[str]:
    """The server's URLs from its READY line, or an error if it dies or takes too long."""
    found: list[list[str]] = []
    ready = threading.Event()

    def read() -> None:  # and keep draining, so the server never blocks on a full pipe
        assert server.stdout is not None
        for line in server.stdout:
            if line.startswith("READY ") and not found:
                found.append(json.loads(line[6:]))
                ready.set()
        ready.set()  # the server exited

    threading.Thread(target=read, daemon=True).start()
    ready.wait(timeout)
    if not found:
        raise RuntimeError(f"the server did not start within {timeout:.0f} s")
    return found[0]


if __name__ == "__main__":
    sys.exit(main())
