"""Metadata names in filter paths: non-ASCII ones match whoever wrote the item; "\\" is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from avala_mcp.embedded import seed as demo
from avala_mcp.embedded.importer import import_file
from avala_mcp.embedded.store import Store

pytestmark = pytest.mark.anyio

KEY = "names/a.jpg"
METADATA: dict[str, Any] = {"é": "ü", "天気": "雨", "naïve": {"größe": 3}, "plain": "ok"}
# Each matches the one item above, and only if its path finds the (non-ASCII) name.
FILTERS: list[dict[str, Any]] = [
    {"field": "metadata.é", "op": "eq", "value": "ü"},
    {"field": "metadata.天気", "op": "in", "value": ["雨", "晴"]},
    {"field": "metadata.naïve.größe", "op": "gte", "value": 3},
    {"field": "metadata.é", "op": "exists", "value": True},
    {"field": "metadata.天気", "op": "contains", "value": "雨"},
]


def _counts(store: Store, dataset_uid: str) -> list[int]:
    dataset = store.dataset(dataset_uid)
    assert dataset is not None
    return [
        store.create_slice(dataset, f"names {n}", "", raw).item_count
        for n, raw in enumerate(FILTERS)
    ]


def test_non_ascii_names_match_imported_items(tmp_path: Path, local_db_path: Path) -> None:
    file = tmp_path / "names.jsonl"
    file.write_text(json.dumps({"key": KEY, "metadata": METADATA}) + "\n", encoding="utf-8")
    store = Store(local_db_path)
    try:
        uid, _ = import_file(store, file, demo.DEMO_ORG, "Names")
        assert _counts(store, uid) == [1] * len(FILTERS)
    finally:
        store.close()


def test_non_ascii_names_match_items_the_store_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new database's demo data is written by the store itself: make it the one item.
    stamp = "2025-01-01T00:00:00Z"
    item = demo.DemoItem("9a1d2c3e-0000-4000-8000-000000000001", KEY, "", METADATA, stamp)
    dataset = demo.DemoDataset(
        demo.DEMO_DATASET_UID, "Names", "names", demo.DEMO_ORG, stamp, [item]
    )
    data = demo.DemoData([demo.DEMO_USER], {demo.DEMO_ORG: [demo.DEMO_USER]}, [dataset])
    monkeypatch.setattr(demo, "demo_data", lambda: data)
    store = Store(tmp_path / "written.sqlite3")
    try:
        assert _counts(store, demo.DEMO_DATASET_UID) == [1] * len(FILTERS)
    finally:
        store.close()


@pytest.mark.parametrize("field", ["metadata.a\\b", "metadata.ok.\\", "metadata.x\n"])
async def test_unquotable_names_are_a_clear_400(local_http: httpx.AsyncClient, field: str) -> None:
    body = {
        "name": "unquotable",
        "dataset": demo.DEMO_DATASET_UID,
        "filter": {"and": [{"field": field, "op": "eq", "value": 1}]},
    }
    response = await local_http.post("/slices/", json=body)
    assert response.status_code == 400
    [message] = response.json()["filter"]
    assert message.startswith("and[0].field: bad metadata name")
    assert repr(field) in message
