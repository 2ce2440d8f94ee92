"""Running a benchmark as a person would: in a process of its own, reading its JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(*argv: str, timeout: float) -> dict[str, Any]:
    """The report that ``python *argv`` prints, run from the repository's root; it must exit 0."""
    done = subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report
