"""``python -m benchmarks.media [--quick]``: the demo media figures, as JSON on stdout.

- ``frames``: frames per second drawing demo items' frames, at each size, in this process.
- ``route``: the embedded API (``avala-mcp api``, a child process: uvicorn on loopback) under
  bursts of 50 concurrent GETs of distinct items' 640x360 thumbnails; the baseline is the same
  bursts of ``GET slice`` (a small JSON answer), bursts alternating. Throughput, p50/p99 latency
  and errors (expected: none).
- ``fetched``: what :class:`~avala_mcp.client.media.MediaFetcher` makes of 4 demo items' images
  from that API (the images ``show_items`` would hand a model): bytes, sizes and time.

Like the other figures, no absolute time is a target; the run reports, it does not gate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx

from benchmarks.common import (
    comparison,
    embedded_api,
    interleave_async,
    median,
    percentile,
)

KEY = "benchmark-media-key"
CONCURRENCY = 50


@dataclasses.dataclass(frozen=True)
class Sizes:
    frames: int  # drawn per size
    bursts: int  # of CONCURRENCY requests, per subject


FULL = Sizes(frames=200, bursts=20)
QUICK = Sizes(frames=20, bursts=2)


def frame_rates(count: int) -> dict[str, Any]:
    """Frames per second at each size, over the first ``count`` demo items."""
    from avala_mcp.embedded.media import FRAME_SIZES, size_name
    from avala_mcp.embedded.media.frames import RENDERERS
    from avala_mcp.embedded.seed import demo_data

    items = demo_data().datasets[0].items[:count]
    render = RENDERERS["driving"]
    render(items[0].key, items[0].metadata, FRAME_SIZES[0])  # Pillow's imports and fonts
    rates: dict[str, Any] = {}
    for size in FRAME_SIZES:
        started = time.perf_counter()
        sizes = [len(render(item.key, item.metadata, size)) for item in items]
        seconds = time.perf_counter() - started
        rates[size_name(size)] = {
            "frames_per_second": len(items) / seconds,
            "mean_bytes": sum(sizes) / len(sizes),
        }
    return rates


class Bursts:
    """Bursts of concurrent GETs of a list of URLs; keeps every latency, counts failures."""

    def __init__(self, client: httpx.AsyncClient, urls: list[str]) -> None:
        self.client, self.urls = client, urls
        self.latencies: list[float] = []
        self.walls: list[float] = []
        self.errors = 0
        self._next = 0

    async def _one(self, url: str) -> None:
        started = time.perf_counter()
        try:
            response = await self.client.get(url)
        except httpx.HTTPError:
            self.errors += 1  # counted, not raised: the figure is how many fail under load
            return
        self.latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            self.errors += 1

    async def burst(self) -> float:
        urls = [self.urls[(self._next + n) % len(self.urls)] for n in range(CONCURRENCY)]
        self._next += CONCURRENCY
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for url in urls:
                group.start_soon(self._one, url)
        wall = time.perf_counter() - started
        self.walls.append(wall)
        return wall

    def report(self) -> dict[str, Any]:
        return {
            "requests": len(self.walls) * CONCURRENCY,
            "errors": self.errors,
            "requests_per_second": CONCURRENCY / median(self.walls),
            "p50_ms": percentile(self.latencies, 0.5) * 1000 if self.latencies else None,
            "p99_ms": percentile(self.latencies, 0.99) * 1000 if self.latencies else None,
        }


async def route_figures(base_url: str, bursts: int) -> dict[str, Any]:
    from avala_mcp.client.media import FetchedImage, MediaFetcher
    from avala_mcp.embedded.seed import DEMO_ORG, DEMO_SLICE_SLUG

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    headers = {"X-Avala-Api-Key": KEY}
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=60
    ) as client:
        slice_path = f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/"
        items = (await client.get(f"{slice_path}items/list/", params={"limit": 1000})).json()
        thumbnails = [item["thumbnails"][0]["url"] for item in items["results"]]
        frames, slices = Bursts(client, thumbnails), Bursts(client, [base_url + slice_path])
        await frames.burst()  # warm both: connections, Pillow's imports, the database
        await slices.burst()
        for warmed in (frames, slices):
            warmed.walls.clear()
            warmed.latencies.clear()
        actions: dict[str, Callable[[], Awaitable[float]]] = {
            "frames": frames.burst,
            "slice": slices.burst,
        }
        walls = await interleave_async(bursts, actions)
        route = comparison(
            median(walls["frames"]), median(walls["slice"]), None, "seconds per burst of 50",
            subject_detail=frames.report(), baseline_detail=slices.report(),
        )  # fmt: skip
        async with MediaFetcher(base_url, KEY) as fetcher:
            started = time.perf_counter()
            results = await fetcher.fetch_items(items["results"][:4])
            seconds = time.perf_counter() - started
    fetched = [
        {"bytes": len(r.data), "size": f"{r.width}x{r.height}", "type": r.mime_type}
        if isinstance(r, FetchedImage)
        else {"note": str(r)}
        for r in results
    ]
    return {"route": route, "fetched": {"images": fetched, "seconds_for_4": seconds}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    report: dict[str, Any] = {"quick": args.quick, "frames": frame_rates(sizes.frames)}
    with embedded_api("media", KEY) as base_url:
        report.update(anyio.run(route_figures, base_url, sizes.bursts))
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
