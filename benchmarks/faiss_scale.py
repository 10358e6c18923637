"""FAISS exact vs approximate search at scale, through the engine's own ``qa.vectors.DenseIndex``.

For each size N (default 100,000 and 1,000,000) it generates N synthetic unit vectors of 384
dimensions (the model's) and, separately, the queries, all drawn from one Gaussian mixture, then
measures per index: build seconds, memory (serialized index size and the growth of resident
memory while it was built), single-query latency (median and p95, one FAISS thread, as the
engine runs it) and recall@10 against exact search. The indexes:

- **baseline**: ``faiss.IndexFlatIP`` built directly, the plain exact search every ratio is
  taken against;
- **DenseIndex flat**: the engine's exact index (``IndexSettings(kind="flat")``);
- **DenseIndex hnsw**: the engine's HNSW index (``IndexSettings(kind="hnsw")``, M and
  efConstruction from the flags, the engine's defaults unless given), searched at several
  efSearch values.

Why a mixture: uniformly random vectors in 384 dimensions are all nearly orthogonal to each
other, so "nearest" is noise and approximate search looks either perfect or hopeless. Here each
vector is a cluster centre plus isotropic noise of the same norm (N/1000 clusters): a query's
top-10 lies in its cluster at cosines around 0.55-0.6, close together, which is where an
approximate index has to work.

The engine sets FAISS to one OpenMP thread (fastest for single queries on a small machine), and
that also applies to building the HNSW graph: at 1,000,000 vectors the build takes a long time
on one core. Run the big size in the background if needed::

    .venv/bin/python benchmarks/faiss_scale.py --sizes 100000
    nohup .venv/bin/python benchmarks/faiss_scale.py --sizes 1000000 --json big.json > big.log &
    .venv/bin/python benchmarks/faiss_scale.py --quick      # 2,000 vectors, seconds
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import (
    Latency,
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

from qa.settings import IndexSettings

DIM = 384
K = 10


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    defaults = IndexSettings(kind="hnsw")
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="numbers of vectors"
    )
    parser.add_argument("--queries", type=int, default=1000, help="queries for recall@10")
    parser.add_argument(
        "--latency-queries", type=int, default=300, help="queries timed one at a time"
    )
    parser.add_argument("--m", type=int, default=defaults.hnsw_m, help="HNSW M")
    parser.add_argument(
        "--ef-construction", type=int, default=defaults.hnsw_ef_construction, help="HNSW build"
    )
    parser.add_argument(
        "--ef-search", type=int, nargs="+", default=[16, 32, 64, 128, 256], help="HNSW search"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2,000 vectors, 100 queries")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = [2000]
        args.queries = args.latency_queries = 100
        args.ef_search = [16, 64]
    return args


# --- data -----------------------------------------------------------------------------------


def mixture(
    n: int, centres: np.ndarray, rng: np.random.Generator, *, chunk: int = 100_000
) -> np.ndarray:
    """``n`` unit vectors: a random centre (unit) plus isotropic Gaussian noise of norm ~1.

    Generated in chunks so that 1,000,000 vectors need no float64 temporaries of full size.
    """
    out = np.empty((n, centres.shape[1]), dtype=np.float32)
    scale = np.float32(1.0 / np.sqrt(centres.shape[1]))
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        labels = rng.integers(0, len(centres), stop - start)
        noise = rng.standard_normal((stop - start, centres.shape[1]), dtype=np.float32)
        block = centres[labels] + noise * scale
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:stop] = block
    return out


def make_data(n: int, queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Corpus vectors and query vectors from the same mixture (queries are not in the corpus)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(n // 1000, 10), DIM), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    return mixture(n, centres, rng), mixture(queries, centres, rng)


@dataclass(frozen=True)
class Data:
    """One size's vectors, its queries (all, and the ones timed singly) and the exact top-k."""

    vectors: np.ndarray
    queries: np.ndarray
    timed: np.ndarray
    truth: np.ndarray


# --- measuring ------------------------------------------------------------------------------


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the exact top-k found among the returned top-k (padding ids -1 miss)."""
    hits = [
        len(set(f[f >= 0].tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True)
    ]
    return float(np.mean(hits)) / truth.shape[1]


def alternating_latency(
    searches: Sequence[Callable[[np.ndarray], Any]], queries: np.ndarray
) -> list[Latency]:
    """Single-query latency of several searches, one query at a time as a visitor's question
    arrives, taking turns on each query (rotating who goes first) so that a slow patch of the
    machine hits all of them alike. Ten untimed warm-up queries each first."""
    for search in searches:
        for query in queries[:10]:
            search(query.reshape(1, -1))
    seconds: list[list[float]] = [[] for _ in searches]
    for number, query in enumerate(queries):
        row = query.reshape(1, -1)
        for turn in range(len(searches)):
            which = (number + turn) % len(searches)
            started = time.perf_counter()
            searches[which](row)
            seconds[which].append(time.perf_counter() - started)
    return [Latency.of(values) for values in seconds]


def built(make: Callable[[], Any]) -> tuple[Any, float, int]:
    """Build something; returns it, the seconds it took and how much resident memory grew."""
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    thing = make()
    seconds = time.perf_counter() - started
    return thing, seconds, rss_bytes() - before


def disk_mib(dense: Any) -> float:
    """Size of the files ``DenseIndex.save`` writes (what an index folder holds for it)."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-faiss-") as tmp:
        names = dense.save(Path(tmp))
        return mib(sum((Path(tmp) / name).stat().st_size for name in names))


def row(
    label: str,
    build: tuple[Any, float, int],
    faiss_index: Any,
    latency: Latency,
    found: np.ndarray,
    data: Data,
    *,
    on_disk: float = float("nan"),
) -> dict[str, Any]:
    """One table row: build cost, memory, single-query latency and recall@10 of one index."""
    import faiss

    _, seconds, grown = build
    return {
        "index": label,
        "build_s": seconds,
        "faiss_mib": mib(faiss.serialize_index(faiss_index).nbytes),
        "disk_mib": on_disk,
        "rss_growth_mib": mib(grown),
        "latency": latency.as_dict(),
        "recall_at_10": recall_at_k(found, data.truth),
    }


def exact_rows(data: Data, baseline_build: tuple[Any, float, int]) -> list[dict[str, Any]]:
    """The baseline and the engine's flat index, timed query by query in turns."""
    import faiss

    from qa.vectors import DenseIndex

    baseline = baseline_build[0]
    build = built(lambda: DenseIndex(data.vectors, IndexSettings(kind="flat")))
    dense = build[0]
    faiss.omp_set_num_threads(1)
    base_latency, flat_latency = alternating_latency(
        [lambda q: baseline.search(q, K), lambda q: dense.search(q, K)], data.timed
    )
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # recall needs no timing: batch on all cores
    # DenseIndex keeps its FAISS object private; the benchmark reads it only to measure its size.
    return [
        row(
            "baseline IndexFlatIP",
            baseline_build,
            baseline,
            base_latency,
            baseline.search(data.queries, K)[1],
            data,
        ),
        row(
            "DenseIndex flat",
            build,
            dense._index,
            flat_latency,
            dense.search(data.queries, K)[1],
            data,
            on_disk=disk_mib(dense),
        ),
    ]


def hnsw_rows(data: Data, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The engine's HNSW index, built once and searched at each efSearch (timed in turns)."""
    import faiss

    from qa.vectors import DenseIndex

    settings = IndexSettings(kind="hnsw", hnsw_m=args.m, hnsw_ef_construction=args.ef_construction)
    print(
        f"  N={len(data.vectors):,}: building HNSW (M={args.m}, "
        f"efConstruction={args.ef_construction}) ...",
        file=sys.stderr,
        flush=True,
    )
    build = built(lambda: DenseIndex(data.vectors, settings))
    dense = build[0]
    faiss.omp_set_num_threads(1)

    def at_ef(ef: int) -> Callable[[np.ndarray], Any]:
        at = replace(settings, hnsw_ef_search=ef)

        def search(queries: np.ndarray) -> Any:
            dense.settings = at  # DenseIndex.search reads efSearch from its settings
            return dense.search(queries, K)

        return search

    searches = [at_ef(ef) for ef in args.ef_search]
    latencies = alternating_latency(searches, data.timed)
    on_disk = disk_mib(dense)
    return [
        row(
            f"DenseIndex hnsw ef={ef}",
            build,
            dense._index,
            latency,
            search(data.queries)[1],
            data,
            on_disk=on_disk,
        )
        for ef, search, latency in zip(args.ef_search, searches, latencies, strict=True)
    ]


def measure_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    import torch  # first, as in the engine's process (see benchlib's docstring)

    torch.set_grad_enabled(False)  # (a statement, so that sorting imports cannot reorder them)
    import faiss

    cores = faiss.omp_get_max_threads()
    started = time.perf_counter()
    vectors, queries = make_data(n, args.queries, args.seed)
    generate_seconds = time.perf_counter() - started

    def flat_direct() -> Any:
        index = faiss.IndexFlatIP(DIM)
        index.add(vectors)
        return index

    build = built(flat_direct)
    baseline = build[0]
    faiss.omp_set_num_threads(cores)  # the exact answers, batched on every core (not timed)
    truth = baseline.search(queries, K)[1]
    data = Data(vectors, queries, queries[: args.latency_queries], truth)
    rows = exact_rows(data, build)
    del build, baseline
    rows += hnsw_rows(data, args)
    base = rows[0]
    for r in rows:
        r["x_build"] = ratio(r["build_s"], base["build_s"])
        r["x_memory"] = ratio(r["rss_growth_mib"], base["rss_growth_mib"])
        r["x_median"] = ratio(r["latency"]["median_ms"], base["latency"]["median_ms"])
        r["x_p95"] = ratio(r["latency"]["p95_ms"], base["latency"]["p95_ms"])
    return {
        "n": n,
        "queries": len(queries),
        "latency_queries": len(data.timed),
        "clusters": max(n // 1000, 10),
        "generate_s": generate_seconds,
        "hnsw": {"m": args.m, "ef_construction": args.ef_construction},
        "rows": rows,
    }


def report(result: dict[str, Any]) -> str:
    m = result["machine"]
    parts = [
        f"FAISS exact vs HNSW through DenseIndex ({machine_line(m)}); {DIM}-d unit vectors, "
        f"k={K}, latency on 1 FAISS thread",
    ]
    for size in result["sizes"]:
        rows = [
            [
                r["index"],
                r["build_s"],
                r["x_build"],
                r["faiss_mib"],
                r["disk_mib"],
                r["rss_growth_mib"],
                r["x_memory"],
                r["latency"]["median_ms"],
                r["latency"]["p95_ms"],
                r["x_median"],
                r["x_p95"],
                r["recall_at_10"],
            ]
            for r in size["rows"]
        ]
        parts += [
            "",
            f"N = {size['n']:,} ({size['clusters']:,} clusters; HNSW M={size['hnsw']['m']}, "
            f"efConstruction={size['hnsw']['ef_construction']}; {size['latency_queries']} timed "
            f"queries, recall over {size['queries']})",
            format_table(
                [
                    "index",
                    "build s",
                    "x build",
                    "faiss MiB",
                    "disk MiB",
                    "RSS +MiB",
                    "x RSS",
                    "median ms",
                    "p95 ms",
                    "x median",
                    "x p95",
                    "recall@10",
                ],
                rows,
            ),
        ]
    parts += [
        "",
        "x = over the baseline row. faiss MiB: the FAISS object serialized (about its memory);",
        "disk MiB: what DenseIndex.save writes (vectors.npy, plus the graph for HNSW); RSS +MiB:",
        "growth of resident memory during the build (the vectors already existed).",
        f"Peak RSS {result['peak_rss_mib']:,.0f} MiB.",
    ]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result: dict[str, Any] = {
        "benchmark": "faiss_scale",
        "machine": machine(),
        "versions": library_versions("faiss-cpu", "numpy"),
        "sizes": [],
    }
    for n in args.sizes:
        result["sizes"].append(measure_size(n, args))
        gc.collect()
    result["peak_rss_mib"] = mib(peak_rss_bytes())
    finish(result)
    print(report(result))
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
