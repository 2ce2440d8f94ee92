"""Figure 4, scale: the embedded API's figures from ``local_scale`` (its own module, run here).

``local_scale`` builds the dataset and measures; this only runs it and restates its three ratios
in the shape every other figure has (subject, baseline, ratio, target, met).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import local_scale
from benchmarks.common import comparison

# (report key, subject key, baseline key, what the baseline is)
_RATIOS = (
    ("create_slice", "create_seconds", "hand_written_count_seconds", "hand-written SQL COUNT(*)"),
    ("slice_item_pages", "deep_page_seconds", "first_page_seconds", "the first page"),
    ("owner_slice_listing", "last_page_seconds", "first_page_seconds", "the first page"),
)


def measure(items: int, slices: int, runs: int) -> dict[str, Any]:
    # Its import progress goes to stdout, which holds this run's JSON document.
    with (
        tempfile.TemporaryDirectory(prefix="avala-bench-scale-") as workdir,
        contextlib.redirect_stdout(sys.stderr),
    ):
        report = local_scale.run(items, slices, runs, Path(workdir))
    figures: dict[str, Any] = {
        "what": f"embedded API over {report['items']} items, median of {runs} alternated runs",
        "items": report["items"],
        "import_items_per_second": report["import"]["items_per_second"],
    }
    for key, subject, baseline, baseline_is in _RATIOS:
        part = report[key]
        figures[key] = comparison(
            part[subject], part[baseline], part["target_ratio"], "s", baseline_is=baseline_is
        )
    figures["slice_item_pages"]["depth_fraction"] = report["slice_item_pages"]["depth_fraction"]
    figures["create_slice"]["matched_items"] = report["create_slice"]["matched_items"]
    figures["local_scale_report"] = report
    return figures
