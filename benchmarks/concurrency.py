"""Figure 6, concurrency: a burst of concurrent ``get_slice`` calls over streamable HTTP.

One MCP client fires the whole burst at ``avala-mcp serve --local --transport streamable-http``
(a child process) at once; the baseline is the same burst of echo calls at the floor server,
bursts alternating. Reported: throughput, p50/p99 latency and errors (the target is none).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from benchmarks.common import (
    comparison,
    http_servers,
    interleave_async,
    median,
    percentile,
    seed_demo_db,
)
from benchmarks.overhead import ECHO, GET_SLICE


class Burst:
    """Concurrent calls of one tool; keeps every latency and counts the failures."""

    def __init__(self, client: Client, tool: str, arguments: dict[str, Any], size: int) -> None:
        self.client, self.tool, self.arguments, self.size = client, tool, arguments, size
        self.walls: list[float] = []
        self.latencies: list[float] = []
        self.errors = 0

    async def _one(self) -> None:
        started = time.perf_counter()
        try:
            result = await self.client.call_tool(self.tool, self.arguments)
        except Exception:
            # Counted, not raised: the figure is how many fail under load.
            self.errors += 1
            return
        self.latencies.append(time.perf_counter() - started)
        if result.is_error:
            self.errors += 1

    async def run(self) -> float:
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(self.size):
                group.start_soon(self._one)
        wall = time.perf_counter() - started
        self.walls.append(wall)
        return wall

    def report(self) -> dict[str, Any]:
        wall = median(self.walls)
        return {
            "calls_per_burst": self.size,
            "bursts": len(self.walls),
            "throughput_per_s": self.size / wall,
            "p50_s": percentile(self.latencies, 0.50) if self.latencies else None,
            "p99_s": percentile(self.latencies, 0.99) if self.latencies else None,
            "errors": self.errors,
        }


async def _measure(db: Path, size: int, bursts: int) -> dict[str, Any]:
    with http_servers(db) as (ours_url, floor_url):
        async with Client(ours_url) as ours_client, Client(floor_url) as floor_client:
            # One call each first: the client fetches the tool list on its first call.
            await ours_client.call_tool("get_slice", GET_SLICE)
            await floor_client.call_tool("echo", ECHO)
            ours = Burst(ours_client, "get_slice", GET_SLICE, size)
            floor = Burst(floor_client, "echo", ECHO, size)
            await interleave_async(bursts, {"ours": ours.run, "floor": floor.run})
    subject, baseline = ours.report(), floor.report()
    figure = comparison(
        median(ours.walls),
        median(floor.walls),
        None,
        "s",
        baseline_is=f"{size} concurrent echo calls on the floor server",
        subject_detail=subject,
        baseline_detail=baseline,
    )
    figure["target"] = "no errors"
    figure["met"] = subject["errors"] == 0
    return figure


def measure(size: int, bursts: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="avala-bench-concurrency-") as workdir:
        db = seed_demo_db(Path(workdir) / "concurrency.sqlite3")
        figure = anyio.run(_measure, db, size, bursts)
    return {"what": f"{size} concurrent get_slice calls over streamable HTTP", "burst": figure}
