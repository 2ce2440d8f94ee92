"""The worst-filter benchmark builds filters at the bounds and reports every figure (no timing)."""

from __future__ import annotations

import json
from pathlib import Path

from avala_mcp.contract import FILTER_MAX_BYTES, FILTER_MAX_CONDITIONS, FILTER_MAX_CONTAINS
from avala_mcp.filters import parse_filter
from benchmarks import worst_filter


def test_the_worst_filters_are_at_the_bounds_and_within_them() -> None:
    filters = worst_filter.worst_filters()
    for name, built in filters.items():
        parse_filter(built)  # within every bound
        if name in ("one_condition", "contains_on_a_list"):  # the floor; numbers do not grow
            continue
        size = len(json.dumps(built, separators=(",", ":"), ensure_ascii=False).encode())
        assert FILTER_MAX_BYTES - 200 < size <= FILTER_MAX_BYTES, name
    contains = [c for c in filters["contains_on_a_list"]["or"] if c["op"] == "contains"]
    assert len(contains) == FILTER_MAX_CONTAINS
    assert len(filters["contains_on_a_list"]["or"]) == FILTER_MAX_CONDITIONS


def test_a_small_run_reports_every_figure(tmp_path: Path) -> None:
    report = worst_filter.run(300, 1, 2.0, tmp_path)
    assert report["items"] == 300
    assert set(report["filters"]) == set(worst_filter.worst_filters())
    for figure in report["filters"].values():
        assert figure["matched_items"] == 0
        assert {"preview_seconds", "create_seconds", "first_page_seconds"} <= set(figure)
    assert report["slowest_seconds"] >= report["one_condition_seconds"] > 0
