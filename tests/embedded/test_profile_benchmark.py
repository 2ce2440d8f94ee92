"""The profile benchmark runs end to end at a small size and reports every figure."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_runs import run_benchmark

ROOT = Path(__file__).resolve().parents[2]
FIGURE_KEYS = {"subject", "baseline", "ratio", "unit", "target_ratio", "met", "cpu"}


@pytest.mark.slow
def test_profile_benchmark_small_size_reports_every_figure(tmp_path: Path) -> None:
    report = run_benchmark(
        str(ROOT / "benchmarks" / "profile_scale.py"), "--items", "20000", "--repeat", "1",
        "--workdir", str(tmp_path), timeout=600,
    )  # fmt: skip
    assert (report["items"], report["metadata_fields"]) == (20000, 8)
    whole = report["whole_profile"]
    assert set(whole) >= FIGURE_KEYS
    assert whole["target_ratio"] == 1.5
    assert len(whole["paths"]) == 8
    count = report["filtered_count"]
    assert set(count) >= FIGURE_KEYS
    assert count["target_ratio"] == 1.2
    assert 0 < count["matched_items"] < 20000
    assert report["filtered_profile"]["target_ratio"] is None
    assert all(report[key]["ratio"] > 0 for key in ("whole_profile", "filtered_count"))
