"""What the load test and its reduced pytest twin share: the real chat served on loopback over a
live searcher, simulated visitors speaking Gradio's HTTP API, and the bookkeeping that proves
nothing was lost.

Visitors use Gradio's documented two-step HTTP API (``POST /gradio_api/call/ask`` queues a
question and returns an event id, or 503 when the queue is full; ``GET .../call/ask/<id>``
streams the result), through one keep-alive ``httpx`` client each. That is the server path the
browser takes (the same queue), at a fraction of ``gradio_client``'s CPU cost per request, so the
figures measure the app rather than the load generator.
"""

from __future__ import annotations

import json
import os
import resource
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import Latency, free_port

NEW_DOCUMENT = """\
Visiting the Clinic

Parking and arrival

The clinic has a car park behind the building with twelve spaces for patients, and a drop-off
bay by the front door. Please arrive fifteen minutes before your appointment so that the
front desk can check your details and a nurse can take your blood pressure before the session.
"""
NEW_QUESTION = "Where can I park when I visit the clinic?"


# --- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    """The chat apps (one per queue setting) over one live searcher and one store."""

    live: Any
    store: Any
    apps: list[Any]
    urls: list[str]
    watcher: Any = None

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        for app in self.apps:
            app.demo.close()
        self.store.close()


def start_server(
    corpus: Path,
    index: Path,
    data: Path,
    *,
    embedder: Any,
    settings: Any = None,
    queues: Sequence[tuple[int, int]] = ((32, 2),),
    watch: float | None = None,
    wrap: Callable[[Any], Any] | None = None,
) -> Server:
    """Serve the real chat on loopback, once per (queue size, concurrency) in ``queues``.

    ``wrap`` lets a test put a proxy around the live searcher (to slow it down, say).
    """
    from qa.live import LiveSearcher
    from qa.settings import SearchSettings
    from qa.store import Store
    from qa.ui import build_app

    live = LiveSearcher(corpus, index, embedder, settings or SearchSettings())
    store = Store(data / "qa.sqlite3")
    searcher = wrap(live) if wrap else live
    apps = [build_app(searcher, store, queue_size=q, concurrency=c) for q, c in queues]
    urls = [
        app.launch("127.0.0.1", free_port(), prevent_thread_lock=True, quiet=True).rstrip("/")
        for app in apps
    ]
    watcher = live.watch(watch) if watch else None
    return Server(live, store, apps, urls, watcher)


# --- the visitors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One question as a visitor saw it."""

    visitor: int
    seconds: float
    kind: str  # "answer", "busy", "error" or "timeout"
    abstained: bool = False
    crisis: bool = False
    cautioned: bool = False  # shown with the "never mention" caution (logged as partly covered)
    index_version: str = ""
    detail: str = ""


@dataclass
class PhaseResult:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)
    wall_seconds: float = 0.0
    votes: int = 0  # votes the store acknowledged
    downs: int = 0  # of which thumbs down (each also logs the question as unanswered)
    vote_errors: int = 0

    def count(self, kind: str) -> int:
        return sum(o.kind == kind for o in self.outcomes)

    def latency(self, kind: str = "answer") -> Latency | None:
        seconds = [o.seconds for o in self.outcomes if o.kind == kind]
        return Latency.of(seconds) if seconds else None

    def logged_by_server(self) -> int:
        """Questions the app logs as unanswered: its abstentions and its answers shown with a
        caution ("partly covered"), crisis messages excepted."""
        return sum(
            o.kind == "answer" and (o.abstained or o.cautioned) and not o.crisis
            for o in self.outcomes
        )

    def summary(self) -> dict[str, Any]:
        answer, busy = self.latency("answer"), self.latency("busy")
        versions: dict[str, int] = {}
        for o in self.outcomes:
            if o.index_version:
                versions[o.index_version] = versions.get(o.index_version, 0) + 1
        return {
            "phase": self.name,
            "requests": len(self.outcomes),
            "answers": self.count("answer"),
            "busy": self.count("busy"),
            "errors": self.count("error"),
            "timeouts": self.count("timeout"),
            "median_ms": answer.median_ms if answer else None,
            "p95_ms": answer.p95_ms if answer else None,
            "busy_p95_ms": busy.p95_ms if busy else None,
            "max_ms": max((o.seconds for o in self.outcomes), default=0.0) * 1000,
            "wall_s": self.wall_seconds,
            "throughput_qps": len(self.outcomes) / self.wall_seconds if self.wall_seconds else 0,
            "votes": self.votes,
            "vote_errors": self.vote_errors,
            "versions": versions,
            "first_errors": sorted({o.detail for o in self.outcomes if o.kind == "error"})[:5],
        }


class Visitors:
    """``visitors`` concurrent visitors, one keep-alive HTTP client each, asking ``/ask``.

    Each asks ``per_visitor`` questions, or (``per_visitor=None``) keeps asking until
    :attr:`stop` is set; all stop at ``deadline`` seconds whatever happens. With a ``store``,
    every answer gets a vote (every fourth a thumbs down, which also logs the question).
    """

    def __init__(
        self,
        url: str,
        questions: Sequence[tuple[str, Sequence[str]]],
        visitors: int,
        *,
        per_visitor: int | None,
        store: Any = None,
        timeout: float = 60.0,
        deadline: float = 600.0,
        name: str = "load",
    ) -> None:
        self.url, self.questions, self.visitors = url, list(questions), visitors
        self.per_visitor, self.store, self.timeout = per_visitor, store, timeout
        self.deadline = deadline
        self.result = PhaseResult(name)
        self.stop = threading.Event()
        self.on_outcome: Callable[[Outcome], None] | None = None
        self._lock = threading.Lock()

    def run(self) -> PhaseResult:
        import httpx

        clients = [httpx.Client(timeout=self.timeout) for _ in range(self.visitors)]
        started = time.perf_counter()
        end = time.monotonic() + self.deadline
        go = threading.Event()
        threads = [
            threading.Thread(target=self._visit, args=(n, client, go, end), daemon=True)
            for n, client in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        go.set()  # all visitors start together
        for thread in threads:
            thread.join(self.deadline + self.timeout + 30)
        self.result.wall_seconds = time.perf_counter() - started
        for client in clients:
            client.close()
        return self.result

    def _visit(self, n: int, client: Any, go: threading.Event, end: float) -> None:
        go.wait()
        i = 0
        while (self.per_visitor is None or i < self.per_visitor) and not self.stop.is_set():
            if time.monotonic() > end:
                break
            question, history = self.questions[(n * 37 + i) % len(self.questions)]
            outcome, reply = self._ask(client, n, question, list(history))
            with self._lock:
                self.result.outcomes.append(outcome)
            if self.on_outcome is not None:
                self.on_outcome(outcome)
            if reply is not None and self.store is not None:
                self._vote(question, reply, down=i % 4 == 3)
            i += 1

    def _ask(
        self, client: Any, n: int, question: str, history: list[str]
    ) -> tuple[Outcome, dict[str, Any] | None]:
        import httpx

        started = time.perf_counter()
        try:
            kind, reply = self._call(client, question, history, started)
        except httpx.TimeoutException:
            kind, reply = "timeout", None
        except Exception as error:  # any other failure is what the load test counts
            detail = f"{type(error).__name__}: {error}"[:200]
            return Outcome(n, time.perf_counter() - started, "error", detail=detail), None
        seconds = time.perf_counter() - started
        if reply is None:
            return Outcome(n, seconds, kind), None
        outcome = Outcome(
            n,
            seconds,
            "answer",
            abstained=bool(reply["abstained"]),
            crisis=bool(reply.get("crisis")),
            cautioned=bool(reply.get("not_in_corpus")),
            index_version=str(reply["index_version"]),
        )
        return outcome, reply

    def _call(
        self, client: Any, question: str, history: list[str], started: float
    ) -> tuple[str, dict[str, Any] | None]:
        """One question through Gradio's queue: ("busy", None) when the queue is full."""
        api = f"{self.url}/gradio_api/call/ask"
        joined = client.post(api, json={"data": [question, history]})
        if joined.status_code == 503:  # Gradio: "Queue is full"
            return "busy", None
        joined.raise_for_status()
        event = ""
        with client.stream("GET", f"{api}/{joined.json()['event_id']}") as stream:
            stream.raise_for_status()
            for line in stream.iter_lines():
                if time.perf_counter() - started > self.timeout:  # heartbeats keep it alive
                    return "timeout", None
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = json.loads(line[5:])
                    if event == "error":
                        raise RuntimeError(f"the app answered an error: {data}")
                    return "answer", data[0]
        raise RuntimeError("the result stream ended without a result")

    def _vote(self, question: str, reply: dict[str, Any], *, down: bool) -> None:
        from qa.store import StoreError

        try:
            self.store.record_feedback(
                question=question,
                effective_query=reply["effective_query"],
                passage_ids=[r["passage_id"] for r in reply["results"]],
                vote="down" if down else "up",
                index_version=reply["index_version"],
            )
            if down:
                self.store.log_unanswered(
                    question=question, reason="thumbs_down", index_version=reply["index_version"]
                )
        except StoreError:
            with self._lock:
                self.result.vote_errors += 1
            return
        with self._lock:
            self.result.votes += 1
            self.result.downs += int(down)


def run_rebuild_phase(
    visitors: Visitors, trigger: Callable[[], None], *, before: int, after: int
) -> PhaseResult:
    """Visitors ask until ``after`` answers came from a new index version; ``trigger`` (which
    starts the rebuild) is called once ``before`` answers came from the old one."""
    state = {"first": "", "old": 0, "new": 0, "triggered": False}
    lock = threading.Lock()

    def on_outcome(outcome: Outcome) -> None:
        if outcome.kind != "answer":
            return
        fire = False
        with lock:
            state["first"] = state["first"] or outcome.index_version
            if outcome.index_version == state["first"]:
                state["old"] += 1
            else:
                state["new"] += 1
            if state["old"] >= before and not state["triggered"]:
                state["triggered"] = fire = True
            if state["new"] >= after:
                visitors.stop.set()
        if fire:
            trigger()

    visitors.on_outcome = on_outcome
    return visitors.run()


# --- checks and the report -------------------------------------------------------------------


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) used so far by this process, or by process ``pid`` (Linux)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def store_counts(store: Any) -> dict[str, int]:
    counts = store.counts()
    return {"feedback": counts["feedback"], "unanswered": counts["unanswered"]}


def lost(before: dict[str, int], after: dict[str, int], result: PhaseResult) -> dict[str, int]:
    """Rows expected in the store minus rows found (0 and 0: nothing lost, nothing extra)."""
    expected_unanswered = result.downs + result.logged_by_server()
    return {
        "feedback": result.votes - (after["feedback"] - before["feedback"]),
        "unanswered": expected_unanswered - (after["unanswered"] - before["unanswered"]),
    }
