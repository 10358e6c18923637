"""Warm query latency of ``Searcher.search`` per mode, beside plain sentence-transformers + FAISS.

Builds the index of the default corpus into a temporary folder, then times every question of
``tests/data/questions.jsonl`` (follow-ups with their history) over enough rounds to get at least
``--min-queries`` timings per mode. The baseline, timed in the same process and interleaved with
the modes question by question (so drift in CPU speed hits all alike), is what a minimal
retrieval script does: ``SentenceTransformer(path).encode(q, normalize_embeddings=True)`` and
``faiss.IndexFlatIP.search`` over the same passage vectors, with no BM25, fusion or highlight.

Also reported: single-turn questions apart from follow-ups, the mean time of each stage of a
search (one extra pass with the stages wrapped), and a pass of the baseline and hybrid at the
libraries' default thread count (the engine leaves one OpenMP thread, which torch shares).

Run from the repository root::

    .venv/bin/python benchmarks/query_latency.py            # about a minute
    .venv/bin/python benchmarks/query_latency.py --quick    # a smoke run, seconds
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchlib import (
    DEFAULT_CORPUS,
    QUESTIONS,
    Latency,
    finish,
    format_table,
    library_versions,
    machine,
    machine_line,
    mib,
    peak_rss_bytes,
    ratio,
    read_questions,
    write_json,
)

from qa.settings import MODES, Mode

BASELINE = "baseline"
STAGES = ("encode", "faiss", "bm25", "fusion", "highlight", "other")
#: Hybrid without its second stage (MaxSim re-ranking), to price the second stage.
FIRST_STAGE = "hybrid, first stage"
RUNNERS = (*MODES, FIRST_STAGE)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="questions .jsonl")
    parser.add_argument(
        "--min-queries", type=int, default=300, help="timed queries per mode, at least"
    )
    parser.add_argument("--k", type=int, default=5, help="passages returned per question")
    parser.add_argument("--quick", action="store_true", help="12 questions, 24 timings per mode")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--model", type=Path, help="a model made by `qa adapt` for the engine, as `make run` "
        "serves models/adapted (the baseline keeps the bundled model)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.min_queries = min(args.min_queries, 24)
    return args


class StageClock:
    """Adds up the time spent inside wrapped callables, per stage name."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)

    def wrap(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.spent[stage] += time.perf_counter() - started

        return timed_call


def stage_breakdown(
    searcher: Any, questions: Sequence[tuple[str, tuple[str, ...]]], mode: Mode, k: int
) -> dict[str, float]:
    """Mean milliseconds per question in each stage of ``Searcher.search`` for one mode.

    Wraps the searcher's collaborators on the instance (the embedder's ``encode`` and
    ``encode_with_tokens``, the FAISS and BM25 ``search``, ``_candidates`` for exact cosines +
    fusion + the second stage + hit records, and the highlighter's ``best_sentence``) for one
    pass, then removes the wrappers. "other" is the remainder: question cleaning, follow-up
    resolution, de-duplication and the answer records.
    """
    clock = StageClock()
    targets = [
        (searcher.embedder, "encode", "encode"),
        (searcher.embedder, "encode_with_tokens", "encode"),
        (searcher.index.dense, "search", "faiss"),
        (searcher.index.keywords, "search", "bm25"),
        (searcher, "_candidates", "fusion"),
        (searcher._highlighter, "best_sentence", "highlight"),
    ]
    for owner, attribute, stage in targets:
        setattr(owner, attribute, clock.wrap(stage, getattr(owner, attribute)))
    try:
        total = 0.0
        for question, history in questions:
            started = time.perf_counter()
            searcher.search(question, history=history, k=k, mode=mode)
            total += time.perf_counter() - started
    finally:
        for owner, attribute, _ in targets:
            delattr(owner, attribute)  # the class's own method shows through again
    n = len(questions)
    means = {stage: clock.spent[stage] / n * 1000 for stage in STAGES[:-1]}
    means["other"] = total / n * 1000 - sum(means.values())
    means["total"] = total / n * 1000
    return means


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch  # first, before faiss (see benchlib's docstring)

    default_threads = torch.get_num_threads()  # (a statement: sorting keeps torch first)
    import faiss
    from sentence_transformers import SentenceTransformer

    from qa.adapt import model_embedder
    from qa.embedders import bundled_model_path
    from qa.index import build_index
    from qa.search import Searcher
    from qa.settings import SearchSettings

    where = machine()  # (the load average at the start)
    questions = read_questions(args.questions)
    if args.quick:
        questions = questions[:12]
    embedder = model_embedder(args.model)
    embedder.warm_up()
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        started = time.perf_counter()
        index = build_index(args.corpus, Path(tmp) / "index", embedder)
        build_seconds = time.perf_counter() - started
    searcher = Searcher(index, embedder)
    first_stage = Searcher(index, embedder, replace(SearchSettings(), rerank_weight=0.0))

    # The baseline: its own model object and a FAISS index over the same passage vectors.
    model = SentenceTransformer(str(bundled_model_path()), device="cpu")
    flat = faiss.IndexFlatIP(index.dense.vectors.shape[1])
    flat.add(index.dense.vectors)

    def baseline(question: str) -> Any:
        vector = model.encode(question, normalize_embeddings=True)
        return flat.search(vector.reshape(1, -1), args.k)

    def engine(mode: Mode) -> Callable[[str, tuple[str, ...]], Any]:
        return lambda q, history: searcher.search(q, history=history, k=args.k, mode=mode)

    runners: dict[str, Callable[[str, tuple[str, ...]], Any]] = {
        BASELINE: lambda q, history: baseline(q),
        **{mode: engine(mode) for mode in MODES},
        FIRST_STAGE: lambda q, history: first_stage.search(q, history=history, k=args.k),
    }
    for question, history in questions:  # warm-up: caches, allocator, lazy imports
        for runner in runners.values():
            runner(question, history)

    rounds = math.ceil(args.min_queries / len(questions))
    engine_threads = torch.get_num_threads()
    timings = interleaved(runners, questions, rounds)
    latency = {name: Latency.of(values) for name, values in timings.items()}
    base_stages = baseline_breakdown(model, flat, questions, args.k)
    stages = {mode: stage_breakdown(searcher, questions, mode, args.k) for mode in MODES}
    stages[FIRST_STAGE] = stage_breakdown(first_stage, questions, "hybrid", args.k)
    # The engine leaves one OpenMP thread (qa.vectors sets it for FAISS, and torch shares the
    # runtime); what would the libraries' own default have given?
    other_threads: dict[str, Latency] = {}
    if default_threads != engine_threads:
        torch.set_num_threads(default_threads)
        pair = {BASELINE: runners[BASELINE], "hybrid": runners["hybrid"]}
        other_threads = {
            name: Latency.of(values)
            for name, values in interleaved(pair, questions, rounds).items()
        }
        torch.set_num_threads(engine_threads)
    return {
        "benchmark": "query_latency",
        "machine": where,
        "versions": library_versions("torch", "sentence-transformers", "faiss-cpu", "bm25s"),
        "torch_threads": torch.get_num_threads(),
        "faiss_threads": faiss.omp_get_max_threads(),
        "corpus": str(args.corpus),
        "model": str(args.model) if args.model else "bundled",
        "passages": len(index.passages),
        "questions": len(questions),
        "rounds": rounds,
        "k": args.k,
        "index_build_seconds": build_seconds,
        "latency": {name: value.as_dict() for name, value in latency.items()},
        "latency_by_kind": {
            name: by_history(values, questions) for name, values in timings.items()
        },
        "default_threads": default_threads,
        "latency_default_threads": {
            name: {
                **value.as_dict(),
                "x_baseline_median": ratio(value.median_ms, latency[BASELINE].median_ms),
            }
            for name, value in other_threads.items()
        },
        "ratio_to_baseline": {
            name: {
                "median": ratio(latency[name].median_ms, latency[BASELINE].median_ms),
                "p95": ratio(latency[name].p95_ms, latency[BASELINE].p95_ms),
            }
            for name in RUNNERS
        },
        "stages_mean_ms": {BASELINE: base_stages, **stages},
        "peak_rss_mib": mib(peak_rss_bytes()),
    }


def interleaved(
    runners: dict[str, Callable[[str, tuple[str, ...]], Any]],
    questions: Sequence[tuple[str, tuple[str, ...]]],
    rounds: int,
) -> dict[str, list[float]]:
    """Seconds of every runner on every question, ``rounds`` times, one question at a time
    (timings in question order, round after round)."""
    names = list(runners)
    timings: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        for number, (question, history) in enumerate(questions):
            # Rotate the order so that no runner always goes first after a question change.
            shift = (round_number + number) % len(names)
            for name in names[shift:] + names[:shift]:
                started = time.perf_counter()
                runners[name](question, history)
                timings[name].append(time.perf_counter() - started)
    return timings


def by_history(
    timings: list[float], questions: Sequence[tuple[str, tuple[str, ...]]]
) -> dict[str, dict[str, Any]]:
    """The timings of questions asked alone apart from follow-ups (which come with history)."""
    kinds: dict[str, list[float]] = {"single-turn": [], "follow-up": []}
    for number, seconds in enumerate(timings):
        _, history = questions[number % len(questions)]
        kinds["follow-up" if history else "single-turn"].append(seconds)
    return {kind: Latency.of(values).as_dict() for kind, values in kinds.items() if values}


def baseline_breakdown(
    model: Any, flat: Any, questions: Sequence[tuple[str, tuple[str, ...]]], k: int
) -> dict[str, float]:
    """Mean milliseconds of the baseline's two stages, timed separately."""
    encode = search = 0.0
    for question, _ in questions:
        started = time.perf_counter()
        vector = model.encode(question, normalize_embeddings=True)
        middle = time.perf_counter()
        flat.search(vector.reshape(1, -1), k)
        search += time.perf_counter() - middle
        encode += middle - started
    n = len(questions)
    return {
        "encode": encode / n * 1000,
        "faiss": search / n * 1000,
        "total": (encode + search) / n * 1000,
    }


def report(result: dict[str, Any]) -> str:
    latency, ratios = result["latency"], result["ratio_to_baseline"]
    rows = [
        [
            name,
            latency[name]["n"],
            latency[name]["median_ms"],
            latency[name]["p95_ms"],
            ratios[name]["median"] if name in ratios else 1.0,
            ratios[name]["p95"] if name in ratios else 1.0,
        ]
        for name in (BASELINE, *RUNNERS)
    ]
    stages = result["stages_mean_ms"]
    stage_rows = [
        [name, *(stages[name].get(stage, 0.0) for stage in (*STAGES, "total"))]
        for name in (BASELINE, *RUNNERS)
    ]
    by_kind = result["latency_by_kind"]
    kinds = list(by_kind[BASELINE])
    kind_rows = [
        [
            name,
            *(
                f"{by_kind[name][kind]['median_ms']:.1f} ({by_kind[name][kind]['p95_ms']:.1f})"
                f" n={by_kind[name][kind]['n']}"
                for kind in kinds
            ),
        ]
        for name in (BASELINE, *RUNNERS)
    ]
    m = result["machine"]
    return "\n".join(
        [
            f"Query latency, warm ({machine_line(m)}; torch {result['torch_threads']} "
            f"thread(s), faiss {result['faiss_threads']})",
            f"{result['passages']} passages, {result['questions']} questions x "
            f"{result['rounds']} rounds, k={result['k']}",
            "",
            format_table(
                ["runner", "queries", "median ms", "p95 ms", "x baseline (median)", "x (p95)"],
                rows,
            ),
            "",
            "Median (p95) ms by kind of question: follow-ups carry history; when the engine",
            "resolves one it also encodes the visitor's own words (for the highlight).",
            format_table(["runner", *kinds], kind_rows),
            "",
            "Mean ms per question by stage (one extra pass, wrapped stages):",
            format_table(["runner", *STAGES, "total"], stage_rows),
            *threads_note(result),
            "",
            f"Peak RSS {result['peak_rss_mib']:.0f} MiB (two model copies: engine and baseline)",
        ]
    )


def threads_note(result: dict[str, Any]) -> list[str]:
    other = result["latency_default_threads"]
    if not other:
        return []
    rows = [
        [
            f"{name} @{result['default_threads']} threads",
            v["n"],
            v["median_ms"],
            v["p95_ms"],
            v["x_baseline_median"],
        ]
        for name, v in other.items()
    ]
    return [
        "",
        f"Same, with torch and FAISS at their default {result['default_threads']} threads "
        f"(the engine runs {result['torch_threads']}; a separate pass):",
        format_table(["runner", "queries", "median ms", "p95 ms", "x baseline (median)"], rows),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = finish(run(args))
    print(report(result))
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
