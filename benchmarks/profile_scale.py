"""Profile benchmark of the embedded API's profile extension; prints one JSON document.

    python benchmarks/profile_scale.py --items 1000000

On a generated dataset of ``--items`` items with eight metadata fields (imported through
``avala-mcp import``'s code path), measures through ``POST /datasets/{uid}/profile/``
(in-process, no network in the way):
- the profile of the whole dataset (every path found, then profiled) against a hand-written
  ``GROUP BY`` per field over the same table (target ratio <= 1.5);
- the count of a selective filter (``"fields": []``) against a hand-written ``COUNT(*)`` of the
  same predicate (target ratio <= 1.2);
- for information (no targets): the profile of the same paths named in ``fields`` (so without
  finding them), against the same ``GROUP BY``s; and the profile of that filter's items, against
  the ``GROUP BY``s restricted by that predicate.
Each figure is the median of ``--repeat`` runs after a warm-up of both sides; the sides alternate
in a rotating order, so load from elsewhere on the machine weighs on both alike. CPU time (this
process, every thread) is given beside wall time: both sides run in this process. A small
``--items`` runs in seconds (a test uses it to prove the script works).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx

from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.importer import import_file
from avala_mcp.embedded.store import Store
from benchmarks.common import comparison, interleave_async, median, report_in
from benchmarks.local_scale import HAND_WRITTEN_COUNT, SELECTIVE_FILTER, TIMES, WEATHERS

API_KEY = "benchmark-key"
FIELDS = (
    "weather",
    "time_of_day",
    "pedestrians",
    "speed_kmh",
    "camera",
    "location",
    "labeled",
    "captured_at",
)
LOCATIONS = ["San Francisco", "Oakland", "Palo Alto", "Seattle", "Austin", "Boston"]
# The predicate of SELECTIVE_FILTER (snowy nights), as HAND_WRITTEN_COUNT spells it.
_PREDICATE = (
    "json_extract(metadata, '$.weather') = ? AND json_extract(metadata, '$.time_of_day') = ?"
)
_PREDICATE_VALUES = ("snow", "night")


def write_items(path: Path, count: int) -> None:
    """A JSONL file of ``count`` items with eight metadata fields of every scalar type: few
    strings (weather, time of day, camera, location), small and fractional numbers, a boolean,
    and a timestamp nearly every item has its own of."""
    rng = random.Random(1)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            metadata = {
                "weather": rng.choice(WEATHERS),
                "time_of_day": rng.choice(TIMES),
                "pedestrians": rng.randrange(12),
                "speed_kmh": round(rng.uniform(0, 120), 1),
                "camera": rng.choice(["front", "rear", "left", "right"]),
                "location": rng.choice(LOCATIONS),
                "labeled": rng.random() < 0.3,
                "captured_at": f"2025-{1 + n % 12:02d}-{1 + n // 12 % 28:02d}T"
                f"{n // 336 % 24:02d}:{n // 8064 % 60:02d}:{rng.randrange(60):02d}Z",
            }
            line = {"key": f"profile/{n:08d}.jpg", "url": None, "metadata": metadata}
            out.write(json.dumps(line) + "\n")


def hand_written_group_by(conn: sqlite3.Connection, dataset_id: int, predicate: str) -> int:
    """One ``GROUP BY`` per field, every group fetched: what the profile is measured against."""
    params: tuple[Any, ...] = (dataset_id, *(_PREDICATE_VALUES if predicate else ()))
    groups = 0
    for name in FIELDS:
        sql = (
            f"SELECT json_extract(metadata, '$.{name}') AS v, count(*) FROM items "  # noqa: S608 - fixed names only
            f"WHERE dataset_id = ? {'AND ' + predicate if predicate else ''} GROUP BY v"
        )
        groups += len(conn.execute(sql, params).fetchall())
    return groups


async def _profile(client: httpx.AsyncClient, uid: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/datasets/{uid}/profile/", json=body)
    if response.status_code != 200:
        raise SystemExit(f"unexpected {response.status_code}: {response.text[:500]}")
    answer: dict[str, Any] = response.json()
    return answer


async def _pair(
    runs: int, subject: Callable[[], Awaitable[Any]], baseline: Callable[[], Awaitable[Any]]
) -> dict[str, float]:
    """Medians of wall and CPU seconds of both sides, alternated, after a warm-up of each."""
    await subject()
    await baseline()
    cpu: dict[str, list[float]] = {"subject": [], "baseline": []}

    def clocked(name: str, action: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[float]]:
        async def once() -> float:
            wall, used = time.perf_counter(), time.process_time()
            await action()
            cpu[name].append(time.process_time() - used)
            return time.perf_counter() - wall

        return once

    walls = await interleave_async(
        runs, {"subject": clocked("subject", subject), "baseline": clocked("baseline", baseline)}
    )
    return {
        "subject": median(walls["subject"]),
        "baseline": median(walls["baseline"]),
        "subject_cpu": median(cpu["subject"]),
        "baseline_cpu": median(cpu["baseline"]),
    }


def _figure(times: dict[str, Any], target: float | None, **context: Any) -> dict[str, Any]:
    figure = comparison(times["subject"], times["baseline"], target, "s", **context)
    figure["cpu"] = comparison(times["subject_cpu"], times["baseline_cpu"], target, "cpu s")
    return figure


async def measure_api(db: Path, uid: str, runs: int) -> dict[str, Any]:
    """Every figure, through the API in-process."""
    app = create_app(db, api_key=API_KEY)
    conn = sqlite3.connect(db)
    try:
        dataset_id = conn.execute("SELECT id FROM datasets WHERE uid = ?", (uid,)).fetchone()[0]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench/api/v1",
            headers={"X-Avala-Api-Key": API_KEY},
            timeout=3600.0,
        ) as client:
            paths = [entry["path"] for entry in (await _profile(client, uid, {}))["fields"]]
            count_body = {"filter": SELECTIVE_FILTER, "fields": []}
            matched = (await _profile(client, uid, count_body))["count"]

            def profile(body: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
                return lambda: _profile(client, uid, body)

            async def group_by() -> None:
                hand_written_group_by(conn, dataset_id, "")

            async def filtered_group_by() -> None:
                hand_written_group_by(conn, dataset_id, _PREDICATE)

            async def hand_written_count() -> None:
                conn.execute(HAND_WRITTEN_COUNT, (dataset_id, *_PREDICATE_VALUES)).fetchone()

            whole = await _pair(runs, profile({}), group_by)
            listed = await _pair(runs, profile({"fields": paths}), group_by)
            count = await _pair(max(runs, 10), profile(count_body), hand_written_count)
            under_filter = await _pair(
                runs, profile({"filter": SELECTIVE_FILTER}), filtered_group_by
            )
    finally:
        conn.close()
        close_app(app)
    per_field = "a hand-written GROUP BY per field"
    return {
        "whole_profile": _figure(whole, 1.5, baseline_is=per_field, paths=paths),
        # The same without finding the paths (they are named): what finding them costs is the
        # difference between this figure and the one above.
        "listed_fields_profile": _figure(listed, None, baseline_is=per_field),
        "filtered_count": _figure(
            count,
            1.2,
            baseline_is="a hand-written COUNT(*) of the same predicate",
            filter=SELECTIVE_FILTER,
            matched_items=matched,
        ),
        "filtered_profile": _figure(
            under_filter, None, baseline_is=f"{per_field}, under the same predicate"
        ),
    }


def run(items: int, runs: int, workdir: Path) -> dict[str, Any]:
    """Build the database, then measure; returns the report."""
    db = workdir / "profile.sqlite3"
    source = workdir / "items.jsonl"
    write_items(source, items)
    store = Store(db)  # a new database: schema and demo data
    try:
        # The importer's progress goes to stdout, which holds this run's JSON document.
        with contextlib.redirect_stdout(sys.stderr):
            uid, imported = import_file(store, source, "profile", "Profile", sys.stderr)
    finally:
        store.close()
    report: dict[str, Any] = {
        "items": imported,
        "metadata_fields": len(FIELDS),
        "runs_per_figure": runs,
        "sqlite_version": sqlite3.sqlite_version,
    }
    report.update(anyio.run(measure_api, db, uid, runs))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items to generate")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure")
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here")
    args = parser.parse_args(argv)
    if args.items < 1 or args.repeat < 1:
        parser.error("--items and --repeat must be at least 1")
    report = report_in(
        args.workdir, "avala-profile-", lambda workdir: run(args.items, args.repeat, workdir)
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
