"""Filters an older version stored past today's bounds: the slices stay listed, shown and read.

Older versions bounded neither a filter's field paths nor its total size, so a database may
hold slices whose filters are hundreds of kilobytes. A listing does not read filters (a page of
100 such slices was over the client's 32 MiB cap, so the listing failed for good), and the
slice, its items and its item count still work from the stored filter.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from avala_mcp.client import AvalaClient
from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_ORG_SLICE_COUNT
from avala_mcp.embedded.store import Store, now_stamp
from avala_mcp.embedded.store.slices import insert_slice
from avala_mcp.filters import FilterError, parse_filter

pytestmark = pytest.mark.anyio

LEGACY_SLICES = 80


def _legacy_filter(n: int) -> dict[str, object]:
    """About 460 KB: 64 conditions on 7,000-character paths, which no item has."""
    return {
        "or": [
            {"field": f"metadata.{'w' * 7000}{n}x{index}", "op": "eq", "value": "x"}
            for index in range(64)
        ]
    }


def _store_legacy_slices(db: Path) -> None:
    """Write the slices straight into the database, as an older version could have."""
    store = Store(db)
    try:
        dataset = store.dataset(DEMO_DATASET_UID)
        assert dataset is not None
        with store._write() as conn:
            for n in range(LEGACY_SLICES):
                stamp = now_stamp()
                insert_slice(
                    conn,
                    uid=f"00000000-0000-4000-8000-{n:012d}",
                    owner_id=dataset.owner.id,
                    dataset_id=dataset.id,
                    name=f"Legacy {n}",
                    slug=f"legacy-{n}",
                    description="",
                    filter_json=json.dumps(_legacy_filter(n), separators=(",", ":")),
                    item_count=0,
                    created_at=stamp,
                    updated_at=stamp,
                )
    finally:
        store.close()


def test_the_legacy_filter_is_past_todays_bounds() -> None:
    assert len(json.dumps(_legacy_filter(0))) > 450_000
    with pytest.raises(FilterError) as caught:
        parse_filter(_legacy_filter(0))
    assert str(caught.value) == "or[0].field: field path is 7012 characters, over 200"


async def test_a_page_of_slices_with_huge_stored_filters_lists(
    local_db_path: Path, local_api_key: str
) -> None:
    _store_legacy_slices(local_db_path)
    app = create_app(local_db_path, api_key=local_api_key)
    try:
        async with AvalaClient(
            local_api_key,
            base_url="http://127.0.0.1:8000/api/v1",
            transport=httpx.ASGITransport(app=app),
            max_retries=0,
        ) as client:
            page = await client.list_slices(DEMO_ORG, limit=100)
            assert page.count == DEMO_ORG_SLICE_COUNT + LEGACY_SLICES
            listed = {piece.slug for piece in page.results}
            assert {f"legacy-{n}" for n in range(LEGACY_SLICES)} <= listed
            assert all(piece.filter is None for piece in page.results)  # none is sent

            # The slice itself shows its stored filter, and its items are read through it.
            one = await client.get_slice(DEMO_ORG, "legacy-7")
            assert one.filter == _legacy_filter(7)
            items = await client.list_slice_items(DEMO_ORG, "legacy-7", limit=5)
            assert (items.count, items.results) == (0, [])
    finally:
        close_app(app)
