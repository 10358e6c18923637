"""Cold start: seconds from process start to a chat page that answers, beside a bare model load.

Builds the index of the default corpus once (``qa build`` in a subprocess), then, ``--repeat``
times and interleaved:

- **app**: ``python app.py --port FREE --corpus C --index I --data D``, polled over HTTP until
  its page answers 200 (index loaded and checked, model warm, Gradio serving);
- **baseline**: a process that only imports sentence-transformers, loads the same model and
  encodes one query, timed to its exit.

Also times, as fresh processes: the bare interpreter, ``import qa``, ``qa --help`` and the heavy
imports on their own (torch, sentence-transformers, faiss, gradio), which explain the totals.
The operating system's file cache is warm after the first run (the first run is reported too).

    .venv/bin/python benchmarks/cold_start.py           # about a minute
    .venv/bin/python benchmarks/cold_start.py --quick   # one run of each
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib import (
    DEFAULT_CORPUS,
    REPO,
    finish,
    format_table,
    free_port,
    library_versions,
    machine,
    machine_line,
    ratio,
    write_json,
)

BASELINE_CODE = """
from sentence_transformers import SentenceTransformer
from qa.embedders import bundled_model_path
model = SentenceTransformer(str(bundled_model_path()), device="cpu")
model.encode("does ketamine help with depression?", normalize_embeddings=True)
import resource
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # peak KiB, read by the parent
"""

IMPORTS = {
    "python (empty)": "pass",
    "import qa": "import qa",
    "import torch": "import torch",
    "import sentence_transformers": "import sentence_transformers",
    "import faiss (after torch)": "import torch, faiss",
    "import gradio": "import gradio",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--app", type=Path, default=REPO / "app.py", help="the app script")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median kept)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the app")
    parser.add_argument("--quick", action="store_true", help="one run of each, fewer imports")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 1
    return args


def wall(command: Sequence[str], *, cwd: Path = REPO) -> float:
    """Seconds a command takes from start to exit (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def baseline_run() -> tuple[float, float]:
    """Seconds the baseline process takes to exit, and its peak resident memory (MiB)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", BASELINE_CODE],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    return seconds, int(done.stdout.split()[-1]) / 1024


def peak_of(pid: int) -> float:
    """Peak resident memory (VmHWM, MiB) of a running process; NaN where /proc has no answer."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return float("nan")


def app_ready_seconds(
    args: argparse.Namespace, index_dir: Path, data_dir: Path
) -> tuple[float, float]:
    """Start the app, poll its page until it answers, stop it; returns start-to-ready seconds
    and the app's peak resident memory (MiB) by then."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [
        sys.executable,
        str(args.app),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--corpus",
        str(args.corpus),
        "--index",
        str(index_dir),
        "--data",
        str(data_dir),
    ]
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    tail = log.read().decode("utf-8", "replace")[-2000:]
                    raise RuntimeError(f"the app exited with {process.returncode}:\n{tail}")
                if time.perf_counter() - started > args.timeout:
                    raise TimeoutError(f"the app did not answer on {url} in {args.timeout} s")
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            return time.perf_counter() - started, peak_of(process.pid)
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                time.sleep(0.05)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def qa_help_command() -> list[str]:
    """The installed ``qa`` console script beside this interpreter, else ``python -m qa.cli``."""
    script = Path(sys.executable).parent / "qa"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), "--help"]
    return [sys.executable, "-m", "qa.cli", "--help"]


def summarize(seconds: list[float]) -> dict[str, Any]:
    return {
        "median_s": statistics.median(seconds),
        "first_s": seconds[0],
        "min_s": min(seconds),
        "max_s": max(seconds),
        "runs": seconds,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    if not args.app.is_file():
        raise SystemExit(f"no app at {args.app}")
    where = machine()  # (the load average at the start)
    app, baseline = "app (page answers)", "baseline (model + 1 query)"
    timings: dict[str, list[float]] = {app: [], baseline: []}
    peaks: dict[str, list[float]] = {app: [], baseline: []}
    imports = dict(IMPORTS)
    if args.quick:
        imports = {k: v for k, v in IMPORTS.items() if k in ("python (empty)", "import qa")}
    with tempfile.TemporaryDirectory(prefix="qa-bench-cold-") as tmp:
        index_dir, data_dir = Path(tmp) / "index", Path(tmp) / "data"
        build = [sys.executable, "-m", "qa.cli", "build", "--corpus", str(args.corpus)]
        build_seconds = wall([*build, "--index", str(index_dir)])
        for _ in range(args.repeat):
            for name, measure in (
                (app, lambda: app_ready_seconds(args, index_dir, data_dir)),
                (baseline, baseline_run),
            ):
                seconds, peak = measure()
                timings[name].append(seconds)
                peaks[name].append(peak)
            timings.setdefault("qa --help", []).append(wall(qa_help_command()))
            for name, code in imports.items():
                timings.setdefault(name, []).append(wall([sys.executable, "-c", code]))
        shutil.rmtree(data_dir, ignore_errors=True)
    results = {name: summarize(seconds) for name, seconds in timings.items()}
    base = results[baseline]["median_s"]
    for value in results.values():
        value["x_baseline"] = ratio(value["median_s"], base)
    for name, values in peaks.items():
        results[name]["peak_rss_mib"] = max(values)
    results[app]["x_baseline_peak_rss"] = ratio(
        results[app]["peak_rss_mib"], results[baseline]["peak_rss_mib"]
    )
    return {
        "benchmark": "cold_start",
        "machine": where,
        "versions": library_versions("torch", "sentence-transformers", "faiss-cpu", "gradio"),
        "index_build_seconds": build_seconds,
        "repeat": args.repeat,
        "results": results,
    }


def report(result: dict[str, Any]) -> str:
    rows = [
        [
            name,
            r["median_s"],
            r["first_s"],
            r["min_s"],
            r["max_s"],
            r["x_baseline"],
            r.get("peak_rss_mib", float("nan")),
        ]
        for name, r in result["results"].items()
    ]
    m = result["machine"]
    return "\n".join(
        [
            f"Cold start, process start to ready ({machine_line(m)}); "
            f"{result['repeat']} run(s) each",
            "",
            format_table(
                ["what", "median s", "first s", "min s", "max s", "x baseline", "peak RSS MiB"],
                rows,
            ),
            "",
            "x baseline: over a process that imports sentence-transformers, loads the model",
            "and encodes one query. The imports are separate processes, for scale. Peak RSS of",
            "the app: VmHWM when its page first answered; of the baseline: ru_maxrss at exit.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = finish(run(args))
    print(report(result))
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
