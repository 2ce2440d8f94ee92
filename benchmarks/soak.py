"""Memory over many MCP calls: is anything kept per call? Prints one JSON document.

    python benchmarks/soak.py --calls 10000 [--mode auto|legacy] [--trace]

One real MCP client (in-memory) calls the server over the embedded API on a fresh temporary
database: reads, not-found and invalid-input failures, resources, prompts, and create/delete pairs
so the database does not grow. After ``--warmup`` calls (caches filled, pools opened) it records
the process's resident memory (RSS) every tenth of the run and, with ``--trace``, the memory still
held by objects allocated since the warm-up (tracemalloc), with the lines holding the most. A leak
shows as steady growth per call after the first tenth (``*_steady_growth_per_call_bytes``), once
bounded caches have filled. tracemalloc slows every allocation: ``--trace`` takes several times
longer.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client

from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_SLICE_SLUG
from avala_mcp.server import build_server
from avala_mcp.settings import Settings
from benchmarks.common import memory_bytes

API_KEY = "soak-benchmark-key"
NIGHT = {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG}
CHECKPOINTS = 10


async def one(client: Client, n: int) -> bool:
    """The n-th call of the mix; True if it went as expected (success or the intended failure)."""
    kind = n % 10
    if kind == 0:
        return not (await client.call_tool("list_slices", {"owner": DEMO_ORG})).is_error
    if kind == 1:
        return not (await client.call_tool("get_slice", NIGHT)).is_error
    if kind == 2:
        return not (await client.call_tool("list_slice_items", NIGHT)).is_error
    if kind == 3:
        args = {"name": f"Soak {n}", "dataset": DEMO_DATASET_UID}
        return not (await client.call_tool("validate_slice_name", args)).is_error
    if kind == 4:
        return (await client.call_tool("get_slice", {"owner": DEMO_ORG, "slug": "gone"})).is_error
    if kind == 5:
        return (await client.call_tool("list_slices", {"owner": "no such owner"})).is_error
    if kind == 6:
        args = {"name": f"Soak {n}", "dataset": DEMO_DATASET_UID}
        return not (await client.call_tool("create_slice", args)).is_error
    if kind == 7:  # deletes what kind 6 just created: the database stays the same size
        slug = f"soak-{n - 1}"
        args = {"owner": DEMO_ORG, "slug": slug, "confirm": f"{DEMO_ORG}/{slug}"}
        return not (await client.call_tool("delete_slice", args)).is_error
    if kind == 8:
        return bool((await client.read_resource(f"avala://slices/{DEMO_ORG}")).contents)
    return bool((await client.get_prompt("explore_slice", NIGHT)).messages)


async def run(calls: int, warmup: int, mode: str, trace: bool) -> dict[str, Any]:
    settings = Settings(api_key=API_KEY, base_url="http://127.0.0.1/api/v1", max_retries=0)
    unexpected = 0
    samples: list[dict[str, int]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        app = create_app(Path(workdir) / "soak.sqlite3", api_key=API_KEY)
        try:
            server = build_server(settings, transport=httpx.ASGITransport(app=app))
            async with Client(server, mode=mode) as client:
                for n in range(warmup):
                    unexpected += not await one(client, n)
                gc.collect()
                if trace:
                    tracemalloc.start(1)
                for n in range(warmup, warmup + calls + 1):
                    done = n - warmup
                    if done % max(1, calls // CHECKPOINTS) == 0 or done == calls:
                        gc.collect()
                        held = tracemalloc.get_traced_memory()[0] if trace else 0
                        samples.append({"calls": done, "rss": memory_bytes(), "traced": held})
                    if done < calls:
                        unexpected += not await one(client, n)
                top = _top_lines() if trace else []
        finally:
            tracemalloc.stop()
            close_app(app)
    first, settled, last = samples[0], samples[1], samples[-1]
    # Bounded caches (regexes, URL parsing, schemas) fill during the first tenth; a leak keeps
    # growing after it, so the steady figures start there.
    steady_calls = last["calls"] - settled["calls"]
    report: dict[str, Any] = {
        "calls": calls,
        "warmup": warmup,
        "mode": mode,
        "unexpected_results": unexpected,
        "seconds": round(time.perf_counter() - started, 1),
        "rss_start_mb": round(first["rss"] / 2**20, 1),
        "rss_end_mb": round(last["rss"] / 2**20, 1),
        "rss_growth_mb": round((last["rss"] - first["rss"]) / 2**20, 2),
        "rss_steady_growth_per_call_bytes": round((last["rss"] - settled["rss"]) / steady_calls, 1),
        "samples": samples,
    }
    if trace:
        report["traced_growth_kb"] = round((last["traced"] - first["traced"]) / 1024, 1)
        report["traced_steady_growth_per_call_bytes"] = round(
            (last["traced"] - settled["traced"]) / steady_calls, 1
        )
        report["top_lines"] = top
    return report


def _top_lines() -> list[str]:
    """Where the memory still held was allocated, most first."""
    stats = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    return [str(stat) for stat in stats.statistics("lineno")[:8]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10_000, help="calls measured (10000)")
    parser.add_argument("--warmup", type=int, default=1000, help="calls before measuring (1000)")
    parser.add_argument("--mode", choices=["auto", "legacy"], default="auto")
    parser.add_argument("--trace", action="store_true", help="also measure with tracemalloc")
    args = parser.parse_args()
    report = anyio.run(run, args.calls, args.warmup, args.mode, args.trace)
    print(json.dumps(report, indent=2))
    return 0 if report["unexpected_results"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
