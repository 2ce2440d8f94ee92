"""Figure 3, paging: walk every item of a large slice with ``AvalaClient.iter_slice_items``.

The baseline reads the same rows, in the same pages of 100, straight from the embedded API's
store (no HTTP, no JSON, no models); the ratio is what the API and the client add per item. Both
walk the same database in the same process, alternately. Peak RSS growth during each walk shows
that paging holds one page at a time, not the slice.
"""

from __future__ import annotations

import contextlib
import gc
import io
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx

from avala_mcp.client import ITER_PAGE_SIZE, AvalaClient
from avala_mcp.commands.serve import LOCAL_BASE_URL
from avala_mcp.embedded import app_store, close_app, create_app
from avala_mcp.embedded.importer import import_file
from avala_mcp.embedded.paging import Cursor
from avala_mcp.embedded.store import Store
from benchmarks.common import comparison, interleave, median
from benchmarks.local_scale import write_items

TARGET = 10.0
TARGET_RSS_GROWTH_MB = 20.0
API_KEY = "paging-benchmark-key"
OWNER = "paging"
SLICE_NAME = "Every item"
_PROC_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kb(field: str) -> int:
    for line in _PROC_STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} is not in {_PROC_STATUS}")


@contextlib.contextmanager
def peak_rss_growth() -> Iterator[list[float]]:
    """Yields a list that receives, on exit, the peak RSS growth (MB) over the block.

    Linux lets a process reset its peak RSS (``5`` into ``clear_refs``); where that is refused,
    a thread samples the RSS every millisecond instead.
    """
    gc.collect()
    result: list[float] = []
    before = _status_kb("VmRSS")
    try:
        _CLEAR_REFS.write_text("5")
        sampler = None
    except OSError:
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.001):
                peak[0] = max(peak[0], _status_kb("VmRSS"))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    yield result
    if sampler is None:
        highest = _status_kb("VmHWM")
    else:
        done.set()
        sampler.join()
        highest = max(peak[0], _status_kb("VmRSS"))
    result.append(max(0, highest - before) / 1024)


def build_slice(db: Path, items: int, workdir: Path) -> str:
    """A dataset of ``items`` items and a slice holding all of them; returns its slug."""
    source = workdir / "items.jsonl"
    write_items(source, items)
    store = Store(db)
    try:
        uid, _ = import_file(store, source, OWNER, "Paging", io.StringIO())
        dataset = store.dataset(uid)
        assert dataset is not None
        return store.create_slice(dataset, SLICE_NAME, "", None).slug
    finally:
        store.close()


def measure(items: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="avala-bench-paging-") as workdir:
        db = Path(workdir) / "paging.sqlite3"
        slug = build_slice(db, items, Path(workdir))
        app = create_app(db, api_key=API_KEY)
        try:
            return _measure(app_store(app), httpx.ASGITransport(app=app), slug, items, rounds)
        finally:
            close_app(app)


def _measure(
    store: Store, transport: httpx.ASGITransport, slug: str, items: int, rounds: int
) -> dict[str, Any]:
    owner = store.owner(OWNER)
    assert owner is not None
    piece = store.get_slice(owner.id, slug)
    assert piece is not None

    def store_walk() -> int:
        seen, cursor = 0, None
        while True:
            rows = store.slice_items(piece, cursor, ITER_PAGE_SIZE)
            page = rows[:ITER_PAGE_SIZE]
            seen += len(page)
            if len(rows) <= ITER_PAGE_SIZE:
                return seen
            cursor = Cursor(ordering="id", forward=True, key=(page[-1].id,))

    async def client_walk_async() -> int:
        seen = 0
        async with AvalaClient(API_KEY, LOCAL_BASE_URL, transport=transport) as client:
            async for _ in client.iter_slice_items(OWNER, slug):
                seen += 1
        return seen

    def client_walk() -> int:
        return anyio.run(client_walk_async)

    growth: dict[str, list[float]] = {"client": [], "store": []}

    def walk(name: str, action: Callable[[], int]) -> Callable[[], float]:
        def run() -> float:
            with peak_rss_growth() as grown:
                started = time.perf_counter()
                seen = action()
                elapsed = time.perf_counter() - started
            if seen != items:
                raise RuntimeError(f"the {name} walk saw {seen} items, not {items}")
            growth[name].extend(grown)
            return elapsed

        return run

    store_walk()  # warms SQLite's and the OS's caches for both sides
    samples = interleave(
        rounds, {"client": walk("client", client_walk), "store": walk("store", store_walk)}
    )
    client_seconds, store_seconds = median(samples["client"]), median(samples["store"])
    peak = max(growth["client"])
    return {
        "what": f"walk all {items} items of one slice, pages of {ITER_PAGE_SIZE}, median seconds",
        "items": items,
        "rounds": rounds,
        "walk": comparison(
            client_seconds,
            store_seconds,
            TARGET,
            "s",
            baseline_is="the same rows and pages read from the store",
            subject_items_per_second=items / client_seconds,
            baseline_items_per_second=items / store_seconds,
        ),
        "peak_rss_growth_mb": {
            "subject": peak,
            "baseline": max(growth["store"]),
            "target_mb": TARGET_RSS_GROWTH_MB,
            "met": peak <= TARGET_RSS_GROWTH_MB,
        },
    }
