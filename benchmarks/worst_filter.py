"""The slowest filter the bounds allow, timed on a large dataset; prints one JSON document.

    python benchmarks/worst_filter.py --items 1000000

The filter bounds (``avala_mcp/contract.py``) exist so that no filter a caller may send makes a
request slow. This builds, from those bounds, the filters that cost the most per item: as many
``contains`` as allowed (the costliest test: a substring test and a list-element search), the
rest of the allowed conditions as comparisons, or paths as long as allowed, with values as large
as the total filter size leaves room for, under an ``or`` so that every condition runs on every
item and none matches. Each is timed through the API, in-process, on ``--items`` items whose
metadata has a string and a list field of short strings: a preview (the profile's count),
creating a slice, and the first page of its items (which, as nothing matches, reads every
item). Each figure is a median of ``--repeat`` runs after a warm-up; the bound is met when the
slowest is under ``--budget`` seconds. A one-condition filter is timed alike, as the
floor any filter costs on the same machine. No timing here is a test: the machine may be loaded.
"""

from __future__ import annotations

import argparse
import json
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

from avala_mcp.contract import (
    FILTER_MAX_BYTES,
    FILTER_MAX_CONDITIONS,
    FILTER_MAX_CONTAINS,
    FILTER_MAX_PATH_LENGTH,
    FILTER_MAX_VALUE_BYTES,
)
from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.importer import import_file
from avala_mcp.embedded.store import Store
from avala_mcp.filters import parse_filter
from benchmarks.common import report_in
from benchmarks.local_scale import _ok

API_KEY = "benchmark-key"
WORDS = ["rain", "night", "truck", "bike", "crowd", "glare", "tunnel", "bridge"]


def write_items(path: Path, count: int) -> None:
    """``count`` items, each with a short string and a list of short strings."""
    rng = random.Random(1)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            metadata = {
                "note": " ".join(rng.choices(WORDS, k=4)),
                "tags": rng.sample(WORDS, 3),
                "pedestrians": rng.randrange(12),
            }
            out.write(json.dumps({"key": f"worst/{n:08d}.jpg", "metadata": metadata}) + "\n")


def _size(raw: object) -> int:
    return len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode())


def _fill(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"or": conditions}`` with string values grown as far as the bounds allow, none matching."""
    strings = [condition for condition in conditions if isinstance(condition["value"], str)]
    room = FILTER_MAX_BYTES - _size({"or": conditions})
    grow = min(room // max(len(strings), 1), FILTER_MAX_VALUE_BYTES - 2)
    for index, condition in enumerate(strings):
        # A value no item holds, different in each condition (no shared work).
        condition["value"] = f"{index:03d}" + "x" * max(grow - 3, 0)
    built = {"or": conditions}
    parse_filter(built)  # within every bound, or this benchmark measures nothing
    return built


def worst_filters() -> dict[str, dict[str, Any]]:
    """The costliest filters within the bounds, by name: the most ``contains`` allowed, then
    other conditions up to the most allowed, all under one ``or``."""
    others = FILTER_MAX_CONDITIONS - FILTER_MAX_CONTAINS
    # A number too large to have one spelling in stored JSON, so every list is searched.
    on_list = [
        {"field": "metadata.tags", "op": "contains", "value": 2**60 + n}
        for n in range(FILTER_MAX_CONTAINS)
    ]
    on_string = [
        {"field": "metadata.note", "op": "contains", "value": ""}
        for _ in range(FILTER_MAX_CONTAINS)
    ]
    compare = [
        {"field": "metadata.pedestrians", "op": "gt", "value": 1000 + n} for n in range(others)
    ]
    equal = [{"field": "metadata.note", "op": "eq", "value": ""} for _ in range(others)]
    # The longest path the bound allows, one no item has: SQLite walks it on every item.
    long_path = "metadata." + ".".join(["tags"] * ((FILTER_MAX_PATH_LENGTH - 9) // 5))
    on_long_paths = [
        {"field": long_path, "op": "eq", "value": ""} for _ in range(FILTER_MAX_CONDITIONS)
    ]
    return {
        # Not a worst case: the cost of any filter at all, which the others are compared with.
        "one_condition": _fill([{"field": "metadata.note", "op": "eq", "value": ""}]),
        "contains_on_a_list": _fill(on_list + compare),
        "contains_on_a_string": _fill(on_string + equal),
        "long_paths": _fill(on_long_paths),
    }


async def _median(runs: int, action: Callable[[], Awaitable[Any]]) -> float:
    await action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def measure(db: Path, dataset_uid: str, runs: int) -> dict[str, Any]:
    """Each worst filter's preview, create and first page, in seconds."""
    app = create_app(db, api_key=API_KEY)
    report: dict[str, Any] = {}
    names = iter(range(10**6))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench/api/v1",
            headers={"X-Avala-Api-Key": API_KEY},
            timeout=600.0,
        ) as client:
            for name, built in worst_filters().items():
                created: dict[str, Any] = {}

                async def preview(built: dict[str, Any] = built) -> None:
                    body = {"filter": built, "fields": []}
                    await _ok(client.post(f"/datasets/{dataset_uid}/profile/", json=body))

                async def create(
                    built: dict[str, Any] = built, created: dict[str, Any] = created
                ) -> None:
                    body = {"name": f"Worst {next(names)}", "dataset": dataset_uid, "filter": built}
                    created.update(await _ok(client.post("/slices/", json=body), 201))

                preview_seconds = await _median(runs, preview)
                create_seconds = await _median(runs, create)
                items_url = f"/slices/{created['owner']}/{created['slug']}/items/list/?limit=100"

                async def first_page(url: str = items_url) -> None:
                    await _ok(client.get(url))

                page_seconds = await _median(runs, first_page)
                report[name] = {
                    "filter_bytes": _size(built),
                    "conditions": len(built["or"]),
                    "matched_items": created["item_count"],
                    "preview_seconds": preview_seconds,
                    "create_seconds": create_seconds,
                    "first_page_seconds": page_seconds,
                }
    finally:
        close_app(app)
    return report


def run(items: int, runs: int, budget: float, workdir: Path) -> dict[str, Any]:
    """Build the dataset, then time every worst filter; returns the report."""
    db = workdir / "worst.sqlite3"
    source = workdir / "items.jsonl"
    write_items(source, items)
    store = Store(db)
    try:
        started = time.perf_counter()
        dataset_uid, imported = import_file(store, source, "worst", "Worst", sys.stderr)
        import_seconds = time.perf_counter() - started
    finally:
        store.close()
    filters = anyio.run(measure, db, dataset_uid, runs)
    slowest = max(
        seconds
        for figure in filters.values()
        for key, seconds in figure.items()
        if key.endswith("_seconds")
    )
    floor = max(
        seconds for key, seconds in filters["one_condition"].items() if key.endswith("_seconds")
    )
    return {
        "items": imported,
        "sqlite_version": sqlite3.sqlite_version,
        "import_seconds": import_seconds,
        "bounds": {
            "conditions": FILTER_MAX_CONDITIONS,
            "contains_conditions": FILTER_MAX_CONTAINS,
            "value_bytes": FILTER_MAX_VALUE_BYTES,
            "path_length": FILTER_MAX_PATH_LENGTH,
            "filter_bytes": FILTER_MAX_BYTES,
        },
        "runs_per_figure": runs,
        "filters": filters,
        "slowest_seconds": slowest,
        "one_condition_seconds": floor,
        "slowest_to_one_condition": slowest / floor,
        "budget_seconds": budget,
        "met": slowest <= budget,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items to generate")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure")
    parser.add_argument("--budget", type=float, default=2.0, help="seconds the slowest may take")
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here")
    args = parser.parse_args(argv)
    if args.items < 1 or args.repeat < 1:
        parser.error("--items and --repeat must be at least 1")
    report = report_in(
        args.workdir,
        "avala-worst-",
        lambda workdir: run(args.items, args.repeat, args.budget, workdir),
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
