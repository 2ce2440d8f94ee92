"""The scale benchmark runs end to end at a small size and reports every figure."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_runs import run_benchmark

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "local_scale.py"


@pytest.mark.slow
def test_benchmark_small_size_reports_every_figure(tmp_path: Path) -> None:
    report = run_benchmark(
        str(SCRIPT), "--items", "3000", "--slices", "25", "--repeat", "1",
        "--workdir", str(tmp_path), timeout=300,
    )  # fmt: skip
    assert report["items"] == 3000
    assert report["import"]["items_per_second"] > 0
    create = report["create_slice"]
    assert 0 < create["matched_items"] < 3000
    assert {
        "create_seconds",
        "hand_written_count_seconds",
        "ratio",
        "cpu_ratio",
        "target_ratio",
    } <= set(create)
    pages = report["slice_item_pages"]
    assert pages["depth_fraction"] >= 0.9
    assert {"first_page_seconds", "deep_page_seconds", "ratio"} <= set(pages)
    whole = report["whole_dataset_item_pages"]
    assert whole["slice_items"] == 3000
    assert whole["deep_page_position"] >= 2700
    assert {"first_page_seconds", "deep_page_seconds", "ratio"} <= set(whole)
    listing = report["owner_slice_listing"]
    assert listing["slices"] == 25
    assert {"first_page_seconds", "last_page_seconds", "ratio"} <= set(listing)
