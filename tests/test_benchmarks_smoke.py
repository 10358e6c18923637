"""The benchmark scripts run end to end in their ``--quick`` mode and report coherent results.

No timing is asserted (the figures depend on the machine and its load); what is checked is what
would betray a broken benchmark: missing runners, an exact index that is not exact, a baseline
measured over other texts than the engine, impossible percentiles.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"


def run_script(name: str, tmp_path: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / f"{name}.json"
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--quick", "--json", str(out), *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "x baseline" in completed.stdout or "x build" in completed.stdout
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def assert_latency(latency: dict[str, Any]) -> None:
    assert latency["n"] > 0
    assert 0 < latency["min_ms"] <= latency["median_ms"] <= latency["p95_ms"]


def test_faiss_scale_exact_is_exact_and_hnsw_close(tmp_path: Path) -> None:
    result = run_script("faiss_scale", tmp_path)
    (size,) = result["sizes"]
    rows = {row["index"]: row for row in size["rows"]}
    assert list(rows)[:2] == ["baseline IndexFlatIP", "DenseIndex flat"]
    assert rows["DenseIndex flat"]["recall_at_10"] == 1.0
    hnsw = [row for name, row in rows.items() if name.startswith("DenseIndex hnsw")]
    assert len(hnsw) == 2
    assert all(0.0 < row["recall_at_10"] <= 1.0 for row in hnsw)
    assert hnsw[-1]["recall_at_10"] >= 0.9  # efSearch=64 over 2,000 vectors
    # The HNSW folder holds the vectors and the graph; the flat one only the vectors.
    assert hnsw[0]["disk_mib"] > rows["DenseIndex flat"]["disk_mib"] > 0
    for row in rows.values():
        assert_latency(row["latency"])
        assert row["build_s"] > 0


@pytest.mark.slow
@pytest.mark.model
def test_query_latency_times_every_mode_and_the_baseline(tmp_path: Path) -> None:
    result = run_script("query_latency", tmp_path)
    runners = {"dense", "bm25", "hybrid", "hybrid, first stage"}
    assert set(result["latency"]) == {"baseline", *runners}
    for latency in result["latency"].values():
        assert_latency(latency)
        assert latency["n"] >= 24
    assert set(result["ratio_to_baseline"]) == runners
    for name in ("hybrid", "hybrid, first stage"):
        stages = result["stages_mean_ms"][name]
        assert stages["encode"] > 0 and stages["bm25"] > 0  # the token-giving encode is timed too
        assert stages["total"] >= stages["encode"] + stages["faiss"] + stages["bm25"]


@pytest.mark.slow
@pytest.mark.model
def test_build_throughput_baseline_encodes_the_engines_passages(tmp_path: Path) -> None:
    result = run_script("build_throughput", tmp_path, "--docs", "5")
    assert set(result["corpora"]) == {"default", "large"}
    for corpus in result["corpora"].values():
        engine, baseline = corpus["engine"], corpus["baseline"]
        assert engine["passages"] == baseline["passages"] > 0
        assert 0 < engine["encode_seconds"] <= engine["seconds"]
        assert engine["peak_rss_mib"] > 0 and baseline["peak_rss_mib"] > 0


@pytest.mark.slow
@pytest.mark.model
def test_cold_start_reaches_a_serving_app(tmp_path: Path) -> None:
    result = run_script("cold_start", tmp_path)
    timings = result["results"]
    for name in ("app (page answers)", "baseline (model + 1 query)", "qa --help", "import qa"):
        assert timings[name]["median_s"] > 0
        assert timings[name]["min_s"] <= timings[name]["median_s"] <= timings[name]["max_s"]
