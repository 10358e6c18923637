"""What every benchmark script shares: latency summaries, memory readings, tables and JSON out.

Kept free of torch, faiss and the model so that importing it costs nothing; each script imports
torch first (before faiss: two OpenMP runtimes in one process slowed single-query encoding about
1.75x on the reference machine) and only then the rest.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO / "corpus"
QUESTIONS = REPO / "tests" / "data" / "questions.jsonl"
NFCORPUS = REPO.parent / "shared" / "datasets" / "nfcorpus" / "corpus.jsonl"


@dataclass(frozen=True)
class Latency:
    """A summary of many timings of the same operation, in milliseconds."""

    n: int
    median_ms: float
    p95_ms: float
    mean_ms: float
    min_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        """Summarise timings given in seconds (p95 by linear interpolation, numpy's default)."""
        if not seconds:
            raise ValueError("no timings to summarise")
        ms = np.asarray(seconds, dtype=np.float64) * 1000.0
        return cls(
            n=int(ms.size),
            median_ms=float(np.median(ms)),
            p95_ms=float(np.percentile(ms, 95)),
            mean_ms=float(ms.mean()),
            min_ms=float(ms.min()),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call, and its result."""
    started = time.perf_counter()
    result = func()
    return time.perf_counter() - started, result


def ratio(value: float, baseline: float) -> float:
    """``value / baseline``: above 1 means slower (or bigger) than the baseline."""
    return value / baseline if baseline > 0 else float("nan")


def rss_bytes() -> int:
    """Resident memory of this process now (Linux ``/proc``; 0 where it is not available)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """Highest resident memory this process reached so far (``ru_maxrss``, KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) * (1 if sys.platform == "darwin" else 1024)


def mib(n_bytes: float) -> float:
    return n_bytes / (1 << 20)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> dict[str, Any]:
    """Where the figures were measured, printed and saved with them."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        # Other work on the machine slows every figure (and two OpenMP pools fight for cores).
        "load_1min": load_average(),
    }


def load_average() -> float:
    """The 1-minute load average (NaN where the system does not tell)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def finish(result: dict[str, Any]) -> dict[str, Any]:
    """Record the load average at the end of a run beside the one at its start."""
    result["machine"]["load_1min_end"] = load_average()
    return result


def machine_line(m: dict[str, Any]) -> str:
    """ "date, CPU, cores, load start->end" for a report's title line."""
    load = f"load {m['load_1min']:.1f}"
    if "load_1min_end" in m:
        load += f" -> {m['load_1min_end']:.1f}"
    return f"{m['date']}, {m['cpu']}, {m['cores']} cores, {load}"


def library_versions(*names: str) -> dict[str, str]:
    """Installed versions of the named distributions (without importing them)."""
    from importlib import metadata

    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with right-aligned numbers (floats to at most 3 significant places)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [all(_is_number(row[i]) for row in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(headers)), rule, *(line(r) for r in cells)])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def write_json(path: Path | None, payload: dict[str, Any]) -> None:
    """Save the full results (with the machine they came from) when ``--json`` was given."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {path}")


def read_questions(path: Path = QUESTIONS) -> list[tuple[str, tuple[str, ...]]]:
    """(question, earlier user turns) from the labelled question set, in file order."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                rows.append((row["question"], tuple(row.get("history", ()))))
    return rows
