"""``python -m benchmarks [--quick]``: every figure of issue 5, as one JSON document on stdout.

Each figure gives its subject, its baseline (measured in the same run, samples alternated), the
ratio and the target; ``targets`` at the end lists which are met. The run reports, it does not
gate: it exits 0 whether or not a target is met (and non-zero only if a measurement broke).
``--quick`` (CI) runs every figure at a small size: about 40 s on two cores, longer when other
work shares them; the full run takes about 5 minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from benchmarks import concurrency, overhead, paging, scale, size, startup


@dataclasses.dataclass(frozen=True)
class Sizes:
    startup_rounds: int
    calls: int
    warm_up_calls: int
    paging_items: int
    paging_rounds: int
    scale_items: int
    scale_slices: int
    scale_runs: int
    burst: int
    bursts: int
    thorough: bool  # warm-ups and the extra, target-less subjects


FULL = Sizes(
    startup_rounds=15, calls=300, warm_up_calls=30, paging_items=100_000, paging_rounds=3,
    scale_items=1_000_000, scale_slices=1000, scale_runs=5, burst=200, bursts=5, thorough=True,
)  # fmt: skip
QUICK = Sizes(
    startup_rounds=2, calls=50, warm_up_calls=5, paging_items=5_000, paging_rounds=1,
    scale_items=3_000, scale_slices=25, scale_runs=1, burst=100, bursts=1, thorough=False,
)  # fmt: skip
TRANSPORTS = ("in-memory", "stdio", "streamable-http")


def figures(sizes: Sizes) -> dict[str, Callable[[], dict[str, Any]]]:
    """Each figure's measurement, by the name it has in the report."""
    return {
        "cold_start": lambda: startup.measure(sizes.startup_rounds, thorough=sizes.thorough),
        "call_overhead": lambda: overhead.measure(sizes.calls, sizes.warm_up_calls, TRANSPORTS),
        "paging": lambda: paging.measure(sizes.paging_items, sizes.paging_rounds),
        "scale": lambda: scale.measure(sizes.scale_items, sizes.scale_slices, sizes.scale_runs),
        "response_size": size.measure,
        "concurrency": lambda: concurrency.measure(sizes.burst, sizes.bursts),
    }


def targets(report: dict[str, Any], path: str = "") -> Iterator[tuple[str, bool]]:
    """Every ``met`` verdict in the report, named by its path (``figure.part``)."""
    for key, value in report.items():
        if isinstance(value, dict):
            if isinstance(value.get("met"), bool):
                yield f"{path}{key}", value["met"]
            yield from targets(value, f"{path}{key}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(figures(QUICK)),
        help="run only this figure (repeatable)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    report: dict[str, Any] = {
        "quick": args.quick,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "sizes": dataclasses.asdict(sizes),
    }
    results: dict[str, Any] = {}
    for name, measure in figures(sizes).items():
        if args.only and name not in args.only:
            continue
        print(f"benchmarks: {name}...", file=sys.stderr, flush=True)
        figure_started = time.perf_counter()
        results[name] = measure()
        results[name]["seconds"] = time.perf_counter() - figure_started
    report["figures"] = results
    verdicts = dict(targets(results))
    report["targets"] = {
        "met": [name for name, met in verdicts.items() if met],
        "unmet": [name for name, met in verdicts.items() if not met],
    }
    report["load_average_at_end"] = list(os.getloadavg())
    report["seconds"] = time.perf_counter() - started
    print(json.dumps(report, indent=2))
    return 0
