"""Memory over many calls, reduced for CI: benchmarks/soak.py runs and reports a stable process.

The full run is ``python benchmarks/soak.py --calls 10000 --trace``; here 200 calls with
a bound generous enough that only a gross leak (tens of kilobytes kept per call) trips it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"
# 64 KiB kept per call would be a leak of whole results; RSS moves in allocator-sized steps.
GENEROUS_BYTES_PER_CALL = 64 * 1024


def test_soak_reports_stable_memory() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--calls", "200", "--warmup", "50"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["unexpected_results"] == 0
    assert len(report["samples"]) == 11
    assert report["rss_steady_growth_per_call_bytes"] < GENEROUS_BYTES_PER_CALL
