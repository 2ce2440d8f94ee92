"""Sampled profiles: ``python -m benchmarks.sampling [--rounds N]`` prints one JSON document.

Against a local stand-in of Avala's cloud (the embedded API, over uvicorn, answering 404 for its
profile route), the subject is ``AvalaClient.profile(dataset=...)`` of the 2,000-item demo
dataset on a new client: the probe of the extension, the dataset, the pages of the sample and
the profile in Python. The baseline walks the same 2,000 items as a slice with
``iter_slice_items`` on a new client. Target: the sampler reads at least 0.8x the items per
second of the plain walk (``ratio`` is time over time, so at most 1.25). Samples alternate.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

from avala_mcp.client import ITER_PAGE_SIZE, AvalaClient
from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.runner import serve_in_thread
from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ITEM_COUNT, DEMO_ORG
from benchmarks.common import comparison, interleave_async, median, timed
from tests.client.standins import CloudStandIn

#: The sampler must read at least this share of the plain walk's items per second.
TARGET_THROUGHPUT = 0.8
API_KEY = "sampling-benchmark-key"
#: The demo slice that holds every item of the demo dataset.
WHOLE_SLICE = "all-driving-scenes"


def measure(rounds: int) -> dict[str, Any]:
    """The figure, over ``rounds`` alternated samples of subject and baselines."""
    with tempfile.TemporaryDirectory() as directory:
        app = create_app(Path(directory) / "slices.sqlite3", api_key=API_KEY)
        stand_in = CloudStandIn(app)
        try:
            with serve_in_thread(stand_in) as base_url:
                return anyio.run(_measure, base_url, stand_in, rounds)
        finally:
            close_app(app)


async def _measure(base_url: str, stand_in: CloudStandIn, rounds: int) -> dict[str, Any]:
    def fresh() -> AvalaClient:
        return AvalaClient(API_KEY, base_url)

    async def sampled() -> None:
        async with fresh() as client:
            profile = await client.profile(dataset=DEMO_DATASET_UID)
        assert profile.sampled == DEMO_ITEM_COUNT, profile.sampled

    def walk(page_size: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            async with fresh() as client:
                seen = 0
                async for _ in client.iter_slice_items(DEMO_ORG, WHOLE_SLICE, limit=page_size):
                    seen += 1
            assert seen == DEMO_ITEM_COUNT, seen

        return run

    async with fresh() as client:
        # One round of each first: connections, caches and the database's pages warm up.
        await sampled()
        await walk(ITER_PAGE_SIZE)()
        before = len(stand_in.requests)
        await client.profile(dataset=DEMO_DATASET_UID)
        first_call_requests = len(stand_in.requests) - before
        before = len(stand_in.requests)
        started = time.perf_counter()
        await client.profile(dataset=DEMO_DATASET_UID)
        repeat_seconds = time.perf_counter() - started
        repeat_requests = len(stand_in.requests) - before

    samples = await interleave_async(
        rounds,
        {
            "sampled_profile": timed(sampled),
            "iter_slice_items": timed(walk(ITER_PAGE_SIZE)),
            "iter_slice_items_1000": timed(walk(1000)),
        },
    )
    subject = median(samples["sampled_profile"])
    walks = {name: median(samples[name]) for name in ("iter_slice_items", "iter_slice_items_1000")}
    return {
        "items": DEMO_ITEM_COUNT,
        "rounds": rounds,
        "sampled_profile_s": subject,
        "sampled_items_per_s": DEMO_ITEM_COUNT / subject,
        "requests_first_profile": first_call_requests,
        "requests_repeated_profile": repeat_requests,
        "repeated_profile_s": repeat_seconds,
        "against_iter_slice_items": comparison(
            subject,
            walks["iter_slice_items"],
            1 / TARGET_THROUGHPUT,
            "s",
            page_size=ITER_PAGE_SIZE,
            throughput_ratio=walks["iter_slice_items"] / subject,
            baseline_items_per_s=DEMO_ITEM_COUNT / walks["iter_slice_items"],
        ),
        "against_iter_slice_items_1000": comparison(
            subject,
            walks["iter_slice_items_1000"],
            1 / TARGET_THROUGHPUT,
            "s",
            page_size=1000,
            throughput_ratio=walks["iter_slice_items_1000"] / subject,
            baseline_items_per_s=DEMO_ITEM_COUNT / walks["iter_slice_items_1000"],
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="alternated samples (default 15)")
    args = parser.parse_args(argv)
    json.dump({"sampling": measure(args.rounds)}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
