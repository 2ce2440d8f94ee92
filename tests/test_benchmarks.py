"""``python -m benchmarks --quick`` runs every figure and prints one well-formed JSON document.

Only the shape is checked (every figure present, numbers where numbers belong, each ratio equal to
subject / baseline), never a timing: the machine running the tests may be as loaded as it likes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from benchmark_runs import run_benchmark

from avala_mcp.server.bounds import MAX_SSE_BACKLOG
from avala_mcp.server.catalog import TOOLS
from benchmarks.common import comparison, interleave, percentile
from benchmarks.run import QUICK, figures, targets

ROOT = Path(__file__).resolve().parents[1]
FIGURES = {"cold_start", "call_overhead", "paging", "scale", "response_size", "concurrency"}


def ratio_figures(report: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every part of the report that states a ratio, with its path."""
    if isinstance(report, dict):
        if "ratio" in report and "subject" in report:
            yield path, report
        for key, value in report.items():
            yield from ratio_figures(value, f"{path}.{key}" if path else key)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_ratio(path: str, figure: dict[str, Any]) -> None:
    """A figure states numbers, its ratio is subject / baseline, and ``met`` says the truth."""
    assert is_number(figure["subject"]), path
    assert is_number(figure["baseline"]), path
    assert figure["baseline"] > 0, path
    assert figure["ratio"] == pytest.approx(figure["subject"] / figure["baseline"]), path
    target = figure["target_ratio"]
    assert target is None or is_number(target), path
    if target is not None:
        assert figure["met"] is (figure["ratio"] <= target), path


@pytest.mark.slow
def test_quick_run_reports_every_figure_as_ratios() -> None:
    report = run_benchmark("-m", "benchmarks", "--quick", timeout=900)
    assert report["quick"] is True
    assert set(report["figures"]) == FIGURES
    found = dict(ratio_figures(report["figures"]))
    expected = {
        "cold_start.local", "cold_start.cloud",
        "call_overhead.in-memory", "call_overhead.stdio", "call_overhead.streamable-http",
        "paging.walk",
        "scale.create_slice", "scale.slice_item_pages", "scale.owner_slice_listing",
        "response_size.list_slices", "response_size.list_slice_items",
        "concurrency.burst",
    }  # fmt: skip
    assert expected <= set(found)
    for path, figure in found.items():
        check_ratio(path, figure)
    overhead = report["figures"]["call_overhead"]["in-memory"]
    assert overhead["baseline"] == pytest.approx(overhead["direct"] + overhead["echo"])
    imports = report["figures"]["cold_start"]["imports"]
    assert imports["local"]["top_beyond_floor"], "the import profile is empty"
    # Without --local the embedded API stays out of the start-up path.
    assert imports["cloud"]["watched_modules_imported"]["avala_mcp.embedded"] is False
    burst = report["figures"]["concurrency"]["burst"]
    assert burst["subject_detail"]["errors"] == 0
    assert is_number(report["figures"]["paging"]["peak_rss_growth_mb"]["subject"])
    verdicts = report["targets"]
    assert set(verdicts) == {"met", "unmet"}
    assert sorted(verdicts["met"] + verdicts["unmet"]) == sorted(name for name, _ in targets(
        report["figures"]
    ))  # fmt: skip


def test_show_items_quick_run_reports_both_calls_and_the_images() -> None:
    report = run_benchmark("-m", "benchmarks.show_items", "--quick", timeout=300)
    assert report["quick"] is True
    found = dict(ratio_figures(report))
    assert set(found) == {"wall", "result_bytes"}
    for path, figure in found.items():
        check_ratio(path, figure)
    assert report["wall"]["target_ms"] == 150
    assert report["wall"]["target_met"] is (report["wall"]["subject"] <= 150)
    # Four images, none a note; the result carries them, so it outweighs the plain listing.
    assert [image["note"] for image in report["images"]] == [None] * 4
    assert all(0 < image["bytes"] <= 100_000 for image in report["images"])
    assert report["result_bytes"]["subject"] > sum(image["bytes"] for image in report["images"])


def test_comparison_states_the_ratio_and_whether_the_target_is_met() -> None:
    assert comparison(3.0, 2.0, 1.2, "s") == {
        "subject": 3.0, "baseline": 2.0, "ratio": 1.5, "unit": "s",
        "target_ratio": 1.2, "met": False,
    }  # fmt: skip
    assert comparison(1.0, 2.0, None, "bytes", note="x")["met"] is None


def test_interleave_rotates_the_order_each_round() -> None:
    order: list[str] = []

    def action(name: str) -> Callable[[], float]:
        def run() -> float:
            order.append(name)
            return 0.0

        return run

    samples = interleave(3, {"a": action("a"), "b": action("b"), "c": action("c")})
    assert order == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert {name: len(values) for name, values in samples.items()} == {"a": 3, "b": 3, "c": 3}


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 0.5) == 50.0
    assert percentile(samples, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0


def test_targets_finds_every_verdict() -> None:
    report = {"a": {"x": {"met": True}, "y": {"met": None}}, "b": {"met": False}}
    assert dict(targets(report)) == {"a.x": True, "b": False}
    assert set(figures(QUICK)) == FIGURES


def test_hostile_memory_quick_run_shows_every_bound_held() -> None:
    report = run_benchmark("-m", "benchmarks.hostile_memory", "--quick", timeout=300)
    assert report["quick"] is True
    imported = report["import_non_regular_file"]
    assert imported["exit_code"] != 0
    assert imported["database_written"] is False
    assert "not a regular file" in imported["stderr_first_line"]
    assert is_number(imported["peak_rss_mb"])
    assert imported["peak_rss_mb"] > 0
    sse = report["sse_unread_client"]
    assert sse["documented_bound_messages"] == MAX_SSE_BACKLOG
    # Closed before all posts: one 503 at the bound, every later post finds no session.
    assert sse["refused_at_post"] is not None
    assert MAX_SSE_BACKLOG < sse["refused_at_post"] < sse["posts"]
    assert sse["statuses"]["503"] == 1
    assert sse["status_after_close"] == 404
    flood = report["session_flood"]
    assert sum(flood["statuses"].values()) == flood["initializes"]
    assert flood["legacy_client_tools"] == len(TOOLS) == 11
    for figure in (sse, flood):
        for key in ("server_rss_before_mb", "server_rss_after_mb", "server_peak_rss_mb"):
            assert is_number(figure[key]), key
            assert figure[key] > 0, key
