"""Scale benchmark of the embedded Slices API; prints one JSON document.

    python benchmarks/local_scale.py --items 1000000

Measures, on a generated dataset of ``--items`` items:
- import throughput (items/s) through ``avala-mcp import``'s code path;
- creating a slice with a selective filter (POST /slices/, in-process) against a hand-written
  parameterized ``SELECT COUNT(*)`` of the same filter on the same database (target ratio <= 1.2);
- the first page of that slice's items against a page at depth >= 90% (target ratio <= 1.5),
  and the same for a slice holding the whole dataset (depth >= 900,000 of a million);
- an owner's slice listing with ``--slices`` slices, last page against first (target <= 1.5).
Times are medians of ``--repeat`` runs after one warm-up run; the two sides of each ratio run
alternately, so that load from elsewhere on the machine weighs on both alike. A small ``--items``
runs in seconds (CI uses it to prove the script works); the targets are meant for 1,000,000 items.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx

from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.importer import import_file
from avala_mcp.embedded.paging import Cursor, encode_cursor
from avala_mcp.embedded.store import Store
from benchmarks.common import report_in

API_KEY = "benchmark-key"
PAGE_LIMIT = 100
WEATHERS = ["clear"] * 50 + ["cloudy"] * 25 + ["rain"] * 16 + ["fog"] * 5 + ["snow"] * 4
TIMES = ["day"] * 60 + ["dusk"] * 12 + ["dawn"] * 10 + ["night"] * 18
# About 0.7% of the items: snowy nights.
SELECTIVE_FILTER = {
    "and": [
        {"field": "metadata.weather", "op": "eq", "value": "snow"},
        {"field": "metadata.time_of_day", "op": "eq", "value": "night"},
    ]
}
HAND_WRITTEN_COUNT = (
    "SELECT COUNT(*) FROM items WHERE dataset_id = ? "
    "AND json_extract(metadata, '$.weather') = ? AND json_extract(metadata, '$.time_of_day') = ?"
)


def write_items(path: Path, count: int) -> None:
    """A JSONL file of ``count`` driving-scene items with deterministic metadata."""
    rng = random.Random(1)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            metadata = {
                "weather": rng.choice(WEATHERS),
                "time_of_day": rng.choice(TIMES),
                "pedestrians": rng.randrange(12),
                "speed_kmh": round(rng.uniform(0, 120), 1),
                "camera": rng.choice(["front", "rear", "left", "right"]),
            }
            out.write(
                json.dumps(
                    {
                        "key": f"scale/{n:08d}.jpg",
                        "url": f"https://cdn.example/{n}",
                        "metadata": metadata,
                    }
                )
                + "\n"
            )


class Timing:
    """Medians of wall time and of this process's CPU time (all threads) for one action."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    @property
    def seconds(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(self.cpu)


async def paired_timings(
    runs: int, first: Callable[[], Awaitable[Any]], second: Callable[[], Awaitable[Any]]
) -> tuple[Timing, Timing]:
    """Time two actions, run alternately after a warm-up of each.

    Alternating means both see the same load from whatever else runs on the machine, so their
    ratio stays meaningful on a shared host; CPU time, which that load barely touches, is kept
    beside wall time.
    """
    await first()
    await second()
    timings = (Timing(), Timing())
    for _ in range(runs):
        for action, timing in zip((first, second), timings, strict=True):
            wall, cpu = time.perf_counter(), time.process_time()
            await action()
            timing.cpu.append(time.process_time() - cpu)
            timing.wall.append(time.perf_counter() - wall)
    return timings


def figures(base: Timing, other: Timing, base_name: str, other_name: str) -> dict[str, float]:
    """Wall and CPU seconds of two timings, and their ratios (other / base)."""
    return {
        f"{base_name}_seconds": base.seconds,
        f"{other_name}_seconds": other.seconds,
        "ratio": other.seconds / base.seconds,
        f"{base_name}_cpu_seconds": base.cpu_seconds,
        f"{other_name}_cpu_seconds": other.cpu_seconds,
        "cpu_ratio": other.cpu_seconds / base.cpu_seconds,
    }


async def _ok(response: Awaitable[httpx.Response], status: int = 200) -> dict[str, Any]:
    answer = await response
    if answer.status_code != status:
        raise SystemExit(f"unexpected {answer.status_code}: {answer.text[:500]}")
    body: dict[str, Any] = answer.json()
    return body


async def measure_api(db: Path, dataset_uid: str, listing_owner: str, runs: int) -> dict[str, Any]:
    """The HTTP-level figures, in-process (no network in the way)."""
    page_runs = max(runs, 25)  # pages take milliseconds: more runs steady their medians
    app = create_app(db, api_key=API_KEY)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench/api/v1",
            headers={"X-Avala-Api-Key": API_KEY},
            timeout=600.0,  # a slice count over a million items takes seconds, not minutes
        ) as client:
            names = iter(range(10**6))
            created: dict[str, Any] = {}

            async def create_slice() -> None:
                body = {
                    "name": f"Snowy nights {next(names)}",
                    "dataset": dataset_uid,
                    "filter": SELECTIVE_FILTER,
                }
                created.update(await _ok(client.post("/slices/", json=body), 201))

            conn = sqlite3.connect(db)
            dataset_id = conn.execute(
                "SELECT id FROM datasets WHERE uid = ?", (dataset_uid,)
            ).fetchone()[0]

            async def hand_written_count() -> None:
                conn.execute(HAND_WRITTEN_COUNT, (dataset_id, "snow", "night")).fetchone()

            try:
                count, create = await paired_timings(runs, hand_written_count, create_slice)
            finally:
                conn.close()
            owner, slug, matched = created["owner"], created["slug"], created["item_count"]
            items_url = f"/slices/{owner}/{slug}/items/list/"

            # Walk to a position at least 90% deep into the slice, then time one page there.
            walked, url = 0, f"{items_url}?limit=1000"
            depth_target = math.ceil(matched * 0.9)
            while walked < depth_target:
                step = min(1000, depth_target - walked)
                page = await _ok(client.get(httpx.URL(url).copy_merge_params({"limit": step})))
                walked += len(page["results"])
                url = page["next"]
            deep_url = httpx.URL(url).copy_merge_params({"limit": PAGE_LIMIT})
            first_url = f"{items_url}?limit={PAGE_LIMIT}"
            first, deep = await paired_timings(
                page_runs, lambda: _ok(client.get(first_url)), lambda: _ok(client.get(deep_url))
            )

            # The whole dataset as one slice; its deep position (too far to walk page by page in
            # a benchmark) comes from the item id there, encoded as the API's own cursor.
            whole = await _ok(
                client.post("/slices/", json={"name": "Everything", "dataset": dataset_uid}), 201
            )
            whole_url = f"/slices/{whole['owner']}/{whole['slug']}/items/list/"
            whole_depth = math.ceil(whole["item_count"] * 0.9)
            conn = sqlite3.connect(db)
            try:
                deep_id = conn.execute(
                    "SELECT id FROM items WHERE dataset_id = ? ORDER BY id LIMIT 1 OFFSET ?",
                    (dataset_id, whole_depth - 1),
                ).fetchone()[0]
            finally:
                conn.close()
            cursor = encode_cursor(Cursor("id", True, (deep_id,)))
            whole_first_url = f"{whole_url}?limit={PAGE_LIMIT}"
            whole_deep_url = f"{whole_url}?limit={PAGE_LIMIT}&cursor={cursor}"
            whole_first, whole_deep = await paired_timings(
                page_runs,
                lambda: _ok(client.get(whole_first_url)),
                lambda: _ok(client.get(whole_deep_url)),
            )

            list_url: str | None = f"/slices/{listing_owner}/list/?limit={PAGE_LIMIT}"
            first_list_url = list_url
            last_list_url = list_url
            while list_url:
                last_list_url = list_url
                list_url = (await _ok(client.get(list_url)))["next"]
            assert first_list_url is not None
            assert last_list_url is not None
            list_first, list_last = await paired_timings(
                page_runs,
                lambda: _ok(client.get(first_list_url)),
                lambda: _ok(client.get(last_list_url)),
            )
            slices = (await _ok(client.get(first_list_url)))["count"]
    finally:
        close_app(app)
    return {
        "create_slice": {
            "filter": SELECTIVE_FILTER,
            "matched_items": matched,
            **figures(count, create, "hand_written_count", "create"),
            "target_ratio": 1.2,
        },
        "slice_item_pages": {
            "limit": PAGE_LIMIT,
            "slice_items": matched,
            "deep_page_position": walked,
            "depth_fraction": walked / matched if matched else 0.0,
            **figures(first, deep, "first_page", "deep_page"),
            "target_ratio": 1.5,
        },
        "whole_dataset_item_pages": {
            "limit": PAGE_LIMIT,
            "slice_items": whole["item_count"],
            "deep_page_position": whole_depth,
            **figures(whole_first, whole_deep, "first_page", "deep_page"),
            "target_ratio": 1.5,
        },
        "owner_slice_listing": {
            "limit": PAGE_LIMIT,
            "slices": slices,
            **figures(list_first, list_last, "first_page", "last_page"),
            "target_ratio": 1.5,
        },
    }


def run(items: int, slices: int, runs: int, workdir: Path) -> dict[str, Any]:
    """Build the database, then measure everything; returns the report."""
    db = workdir / "scale.sqlite3"
    source = workdir / "items.jsonl"
    write_items(source, items)
    small = workdir / "small.jsonl"
    write_items(small, 100)

    store = Store(db)  # new database: schema and demo data
    try:
        started = time.perf_counter()
        dataset_uid, imported = import_file(store, source, "scale", "Scale", sys.stdout)
        import_seconds = time.perf_counter() - started
        listing_uid, _ = import_file(store, small, "listing", "Listing", sys.stdout)
        listing = store.dataset(listing_uid)
        assert listing is not None
        # The import made the first: the slice holding the whole dataset.
        for n in range(slices - 1):
            store.create_slice(listing, f"Listing slice {n:05d}", "", None)
    finally:
        store.close()

    report: dict[str, Any] = {
        "items": imported,
        "runs_per_figure": {"create_slice": runs, "pages": max(runs, 25)},
        "sqlite_version": sqlite3.sqlite_version,
        "import": {"seconds": import_seconds, "items_per_second": imported / import_seconds},
    }
    report.update(anyio.run(measure_api, db, dataset_uid, "listing", runs))
    report["database_bytes"] = db.stat().st_size
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items to generate")
    parser.add_argument("--slices", type=int, default=1000, help="slices of the listed owner")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure")
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here")
    args = parser.parse_args(argv)
    if args.items < 1 or args.slices < 1 or args.repeat < 1:
        parser.error("--items, --slices and --repeat must be at least 1")
    report = report_in(
        args.workdir,
        "avala-scale-",
        lambda workdir: run(args.items, args.slices, args.repeat, workdir),
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
