"""Memory over 10,000 MCP calls (issue 6): benchmarks/soak.py runs them, the process stays flat.

``python benchmarks/soak.py --calls 10000 --trace`` adds tracemalloc's view; here the resident
memory's steady growth per call must stay far below what keeping any result alive would cost.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"
CALLS = 10_000
# Keeping one tool result per call would cost kilobytes each; RSS moves in allocator-sized steps
# of a few megabytes, which over 10,000 calls is a few hundred bytes per call. (Measured: 8.)
GENEROUS_BYTES_PER_CALL = 2 * 1024


@pytest.mark.slow
def test_soak_reports_stable_memory() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--calls", str(CALLS), "--warmup", "50"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["unexpected_results"] == 0
    assert len(report["samples"]) == 11
    assert report["rss_steady_growth_per_call_bytes"] < GENEROUS_BYTES_PER_CALL
