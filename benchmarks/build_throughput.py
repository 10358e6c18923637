"""Index build throughput (passages/s) and peak memory, beside plain sentence-transformers + FAISS.

Two corpora: the default one, and a larger folder written from NFCorpus abstracts (one file
per document; generated medical-style sentences when the dataset is not there). Each
measurement runs in a fresh worker process, so that its peak resident memory (``ru_maxrss``)
is its own and no run inherits another's caches or thread settings:

- **engine**: ``qa.index.build_index`` end to end (read, split, encode, FAISS, BM25, write,
  fsync), with the time inside ``encode`` reported apart;
- **baseline**: ``SentenceTransformer(path).encode(texts, normalize_embeddings=True)`` and
  ``faiss.IndexFlatIP.add`` over the very passage texts the engine embedded.

Both load the model and encode one warm-up text before the clock starts.

    .venv/bin/python benchmarks/build_throughput.py                  # a few minutes
    .venv/bin/python benchmarks/build_throughput.py --docs 2000      # a bigger folder
    .venv/bin/python benchmarks/build_throughput.py --quick          # a smoke run
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib import (
    DEFAULT_CORPUS,
    NFCORPUS,
    finish,
    format_table,
    library_versions,
    machine,
    machine_line,
    mib,
    peak_rss_bytes,
    ratio,
    rss_bytes,
    write_json,
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the small corpus")
    parser.add_argument(
        "--docs", type=int, default=600, help="documents in the larger folder (0: skip it)"
    )
    parser.add_argument("--nfcorpus", type=Path, default=NFCORPUS, help="NFCorpus corpus.jsonl")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per runner on the small corpus (median kept)"
    )
    parser.add_argument(
        "--large-repeat", type=int, default=3, help="runs per runner on the larger folder"
    )
    parser.add_argument("--quick", action="store_true", help="1 run each, 40 larger documents")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    # Internal: one measurement in this process (the parent starts these).
    parser.add_argument("--worker", choices=["engine", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = args.large_repeat = 1
        args.docs = min(args.docs, 40)
    return args


# --- the larger corpus ----------------------------------------------------------------------


def write_large_corpus(folder: Path, docs: int, nfcorpus: Path) -> str:
    """Fill ``folder`` with ``docs`` text files; returns a description of where they came from."""
    folder.mkdir(parents=True, exist_ok=True)
    if nfcorpus.is_file():
        written = 0
        with nfcorpus.open(encoding="utf-8") as handle:
            for line in handle:
                if written >= docs:
                    break
                row = json.loads(line)
                if not row.get("text", "").strip():
                    continue
                body = f"{row.get('title', '').strip()}\n\n{row['text'].strip()}\n"
                (folder / f"{written:05d}.txt").write_text(body, encoding="utf-8")
                written += 1
        return f"{written} NFCorpus abstracts ({nfcorpus.name})"
    rng = random.Random(13)
    for number in range(docs):
        sentences = [_generated_sentence(rng) for _ in range(rng.randint(8, 16))]
        (folder / f"{number:05d}.txt").write_text(
            f"Clinical note {number}\n\n" + " ".join(sentences) + "\n", encoding="utf-8"
        )
    return f"{docs} documents of generated sentences (NFCorpus not found)"


_SUBJECTS = ("Patients", "Adults with depression", "Older adults", "Participants", "Clinicians")
_VERBS = ("reported", "showed", "experienced", "were monitored for", "were treated for")
_OBJECTS = (
    "lower blood pressure",
    "fewer migraine days",
    "improved sleep quality",
    "mild nausea after the infusion",
    "reduced anxiety within two weeks",
    "changes in dietary fibre intake",
    "higher vitamin D levels",
)
_TAILS = ("in the first month.", "compared with placebo.", "during follow-up.", "at six weeks.")


def _generated_sentence(rng: random.Random) -> str:
    parts = (_SUBJECTS, _VERBS, _OBJECTS, _TAILS)
    return " ".join(rng.choice(p) for p in parts)


# --- workers (one measurement per process) --------------------------------------------------


def engine_worker(corpus: Path, index_dir: Path) -> dict[str, Any]:
    import torch  # first, before faiss (see benchlib's docstring)

    from qa.embedders import SentenceTransformerEmbedder
    from qa.index import build_index

    embedder = SentenceTransformerEmbedder()
    embedder.warm_up()
    embedder.encode(["warm-up"], "passage")
    threads = torch.get_num_threads()
    ready = rss_bytes()
    encode_seconds = 0.0

    def timed(encode: Any) -> Any:
        def timed_encode(*args: Any, **kwargs: Any) -> Any:
            nonlocal encode_seconds
            started = time.perf_counter()
            try:
                return encode(*args, **kwargs)
            finally:
                encode_seconds += time.perf_counter() - started

        return timed_encode

    # The build encodes through encode_with_tokens when it keeps token vectors (the default).
    embedder.encode = timed(embedder.encode)  # type: ignore[method-assign]
    embedder.encode_with_tokens = timed(embedder.encode_with_tokens)  # type: ignore[method-assign]
    started = time.perf_counter()
    index = build_index(corpus, index_dir, embedder)
    seconds = time.perf_counter() - started
    return {
        "passages": len(index.passages),
        "seconds": seconds,
        "encode_seconds": encode_seconds,
        "rss_ready_bytes": ready,
        "peak_rss_bytes": peak_rss_bytes(),
        "torch_threads": threads,
    }


def baseline_worker(index_dir: Path) -> dict[str, Any]:
    import torch  # first, before faiss

    torch.set_grad_enabled(False)  # (a statement, so that sorting imports cannot reorder them)
    import faiss
    from sentence_transformers import SentenceTransformer

    from qa.embedders import bundled_model_path
    from qa.index import PASSAGES_FILE, current_build
    from qa.records import Passage

    with (current_build(index_dir) / PASSAGES_FILE).open(encoding="utf-8") as handle:
        texts = [Passage(**json.loads(line)).embedding_text() for line in handle]
    model = SentenceTransformer(str(bundled_model_path()), device="cpu")
    model.encode(["warm-up"])
    threads = torch.get_num_threads()
    ready = rss_bytes()
    started = time.perf_counter()
    vectors = model.encode(texts, normalize_embeddings=True)
    encoded = time.perf_counter()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    seconds = time.perf_counter() - started
    return {
        "passages": len(texts),
        "seconds": seconds,
        "encode_seconds": encoded - started,
        "rss_ready_bytes": ready,
        "peak_rss_bytes": peak_rss_bytes(),
        "torch_threads": threads,
    }


def run_worker(kind: str, corpus: Path, index_dir: Path) -> dict[str, Any]:
    """Start one worker process and read back its result."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-out-") as tmp:
        out = Path(tmp) / "result.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            kind,
            "--corpus",
            str(corpus),
            "--index",
            str(index_dir),
            "--out",
            str(out),
        ]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result


# --- the parent -----------------------------------------------------------------------------


def measure(corpus: Path, repeat: int, work: Path) -> dict[str, Any]:
    """Median over ``repeat`` runs of each runner on one corpus (engine first: it writes the
    passage texts the baseline reads). Peak memory is the highest of the runs."""
    runs: dict[str, list[dict[str, Any]]] = {"engine": [], "baseline": []}
    for number in range(repeat):
        index_dir = work / f"index-{corpus.name}-{number}"
        runs["engine"].append(run_worker("engine", corpus, index_dir))
        runs["baseline"].append(run_worker("baseline", corpus, index_dir))
    summary: dict[str, Any] = {}
    for name, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        passages = results[0]["passages"]
        summary[name] = {
            "passages": passages,
            "seconds": seconds,
            "passages_per_second": passages / seconds,
            # Two torch threads on two cores stall whenever anything else runs: the best run
            # shows what the machine can do, the median what a run typically gets.
            "best_seconds": min(r["seconds"] for r in results),
            "encode_seconds": statistics.median(r["encode_seconds"] for r in results),
            "peak_rss_mib": mib(max(r["peak_rss_bytes"] for r in results)),
            "peak_over_ready_mib": mib(
                max(r["peak_rss_bytes"] - r["rss_ready_bytes"] for r in results)
            ),
            "torch_threads": results[0]["torch_threads"],
            "runs": results,
        }
    summary["ratio_seconds"] = ratio(summary["engine"]["seconds"], summary["baseline"]["seconds"])
    summary["ratio_best_seconds"] = ratio(
        summary["engine"]["best_seconds"], summary["baseline"]["best_seconds"]
    )
    summary["ratio_peak_rss"] = ratio(
        summary["engine"]["peak_rss_mib"], summary["baseline"]["peak_rss_mib"]
    )
    return summary


def run(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "benchmark": "build_throughput",
        "machine": machine(),
        "versions": library_versions("torch", "sentence-transformers", "faiss-cpu", "bm25s"),
        "corpora": {},
    }
    with tempfile.TemporaryDirectory(prefix="qa-bench-build-") as tmp:
        work = Path(tmp)
        result["corpora"]["default"] = {
            "source": str(args.corpus),
            **measure(args.corpus, args.repeat, work),
        }
        if args.docs > 0:
            large = work / "large-corpus"
            source = write_large_corpus(large, args.docs, args.nfcorpus)
            result["corpora"]["large"] = {
                "source": source,
                **measure(large, args.large_repeat, work),
            }
    return result


def report(result: dict[str, Any]) -> str:
    rows = []
    for name, corpus in result["corpora"].items():
        for runner in ("baseline", "engine"):
            r = corpus[runner]
            rows.append(
                [
                    name,
                    runner,
                    r["passages"],
                    r["seconds"],
                    r["passages_per_second"],
                    r["passages"] / r["best_seconds"],
                    r["encode_seconds"] / r["seconds"] * 100,
                    r["peak_rss_mib"],
                    r["peak_over_ready_mib"],
                    corpus["ratio_seconds"] if runner == "engine" else 1.0,
                    corpus["ratio_best_seconds"] if runner == "engine" else 1.0,
                    corpus["ratio_peak_rss"] if runner == "engine" else 1.0,
                ]
            )
    m = result["machine"]
    sources = [f"  {name}: {c['source']}" for name, c in result["corpora"].items()]
    return "\n".join(
        [
            f"Index build throughput ({machine_line(m)})",
            *sources,
            "",
            format_table(
                [
                    "corpus",
                    "runner",
                    "passages",
                    "seconds",
                    "passages/s",
                    "best p/s",
                    "% encode",
                    "peak RSS MiB",
                    "over model MiB",
                    "x time",
                    "x best",
                    "x peak",
                ],
                rows,
            ),
            "",
            "seconds, passages/s: median run; best p/s: fastest run. x time, x best, x peak:",
            "engine over baseline (above 1 = slower / bigger). 'over model': peak RSS minus",
            "RSS after the model was loaded and warm (highest run).",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        if args.worker == "engine":
            payload = engine_worker(args.corpus, args.index)
        else:
            payload = baseline_worker(args.index)
        args.out.write_text(json.dumps(payload), encoding="utf-8")
        return 0
    result = finish(run(args))
    print(report(result))
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
