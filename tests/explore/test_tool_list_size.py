"""The tool list's size (``benchmarks/tool_list_size.py``): a size, not a timing, so it is bound."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from avala_mcp.server.catalog import TOOLS
from benchmarks.tool_list_size import MODEL_FACING_BOUND, SLICE_TOOLS, measure

ROOT = Path(__file__).resolve().parents[2]


def test_the_model_facing_part_of_all_tools_stays_under_16_kb() -> None:
    figures = measure()
    facing = figures["model_facing"]
    assert facing["bound"] == MODEL_FACING_BOUND == 16 * 1024
    assert facing["bytes"] <= MODEL_FACING_BOUND, figures["per_tool"]
    assert facing["met"] is True
    assert figures["before"]["tools"] == len(SLICE_TOOLS) == 6
    assert figures["after"]["tools"] == len(TOOLS) == 11
    assert figures["before"]["bytes"] < figures["after"]["bytes"]
    assert list(figures["per_tool"]) == [spec.name for spec in TOOLS]
    assert sum(tool["model_facing"] for tool in figures["per_tool"].values()) < facing["bytes"]


def test_the_script_prints_the_figures_as_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.tool_list_size"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert set(report) == {"unit", "before", "after", "model_facing", "per_tool"}
