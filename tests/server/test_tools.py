"""Every tool's success path, through a real MCP client, against the embedded API's demo data."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp_checks import local_settings, send_json, success, text_of
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from avala_mcp.embedded.seed import (
    DEMO_DATASET_UID,
    DEMO_NIGHT_COUNT,
    DEMO_ORG,
    DEMO_ORG_SLICE_COUNT,
    DEMO_SLICE_FILTER,
    DEMO_SLICE_NAME,
    DEMO_SLICE_SLUG,
    RAINY_NIGHT_PEDESTRIANS_FILTER,
)
from avala_mcp.server import build_server

pytestmark = pytest.mark.anyio

TEXT_BUDGET = 8 * 1024


async def test_list_slices_pages_through_an_owner(mcp_session: Client) -> None:
    first = await success(mcp_session, "list_slices", {"owner": DEMO_ORG, "limit": 5})
    assert first["count"] == DEMO_ORG_SLICE_COUNT
    assert len(first["slices"]) == 5
    assert first["next_cursor"]
    seen = [entry["slug"] for entry in first["slices"]]
    cursor = first["next_cursor"]
    while cursor:
        page = await success(
            mcp_session, "list_slices", {"owner": DEMO_ORG, "limit": 5, "cursor": cursor}
        )
        seen += [entry["slug"] for entry in page["slices"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == DEMO_ORG_SLICE_COUNT
    assert DEMO_SLICE_SLUG in seen


async def test_list_slices_entries_are_lean(mcp_session: Client) -> None:
    page = await success(mcp_session, "list_slices", {"owner": DEMO_ORG})
    night = next(entry for entry in page["slices"] if entry["slug"] == DEMO_SLICE_SLUG)
    assert night == {
        "name": DEMO_SLICE_NAME,
        "slug": DEMO_SLICE_SLUG,
        "owner": DEMO_ORG,
        "dataset": DEMO_DATASET_UID,
        "item_count": DEMO_NIGHT_COUNT,
        "description": night["description"],
        "updated_at": night["updated_at"],
    }
    # The last page says so with an explicit null; optional nulls are left out.
    assert page["next_cursor"] is None
    assert "null" not in json.dumps(page["slices"])


async def test_list_slices_with_dataset_uses_the_dataset_listing(mcp_session: Client) -> None:
    page = await success(
        mcp_session, "list_slices", {"owner": DEMO_ORG, "dataset": DEMO_DATASET_UID}
    )
    assert page["slices"]
    assert {entry["dataset"] for entry in page["slices"]} == {DEMO_DATASET_UID}


async def test_get_slice_has_filter_and_resource_uri(mcp_session: Client) -> None:
    slice_ = await success(mcp_session, "get_slice", {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG})
    assert slice_["name"] == DEMO_SLICE_NAME
    assert slice_["item_count"] == DEMO_NIGHT_COUNT
    assert slice_["filter"] == DEMO_SLICE_FILTER
    assert slice_["uri"] == f"avala://slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}"


async def test_create_slice_then_read_it_back(mcp_session: Client) -> None:
    created = await success(
        mcp_session,
        "create_slice",
        {
            "name": "Rainy night pedestrians",
            "dataset": DEMO_DATASET_UID,
            "description": "Night, rain, at least one pedestrian",
            "filter": RAINY_NIGHT_PEDESTRIANS_FILTER,
        },
    )
    assert created["owner"] == DEMO_ORG
    assert created["slug"] == "rainy-night-pedestrians"
    assert created["uri"] == f"avala://slices/{DEMO_ORG}/rainy-night-pedestrians"
    assert created["filter"] == RAINY_NIGHT_PEDESTRIANS_FILTER
    assert 0 < created["item_count"] < DEMO_NIGHT_COUNT

    items = await success(
        mcp_session,
        "list_slice_items",
        {"owner": DEMO_ORG, "slug": created["slug"], "limit": 100},
    )
    assert items["count"] == created["item_count"]
    for item in items["items"]:
        assert item["metadata"]["time_of_day"] == "night"
        assert item["metadata"]["weather"] == "rain"
        assert item["metadata"]["pedestrians"] >= 1


async def test_create_slice_accepts_a_filter_sent_as_a_json_string(mcp_session: Client) -> None:
    # Some clients send object arguments as JSON text.
    created = await success(
        mcp_session,
        "create_slice",
        {
            "name": "Dusk",
            "dataset": DEMO_DATASET_UID,
            "filter": json.dumps({"field": "metadata.time_of_day", "op": "eq", "value": "dusk"}),
        },
    )
    assert created["filter"] == {"field": "metadata.time_of_day", "op": "eq", "value": "dusk"}


async def test_list_slice_items_pages_without_overlap(mcp_session: Client) -> None:
    args = {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "limit": 100}
    keys: list[str] = []
    cursor = None
    while True:
        page = await success(mcp_session, "list_slice_items", {**args, "cursor": cursor})
        assert page["count"] == DEMO_NIGHT_COUNT
        keys += [item["key"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(keys) == len(set(keys)) == DEMO_NIGHT_COUNT


async def test_list_slice_items_concise_and_full(mcp_session: Client) -> None:
    args = {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "limit": 3}
    concise = await success(mcp_session, "list_slice_items", args)
    full = await success(mcp_session, "list_slice_items", {**args, "detail": "full"})
    for short, long in zip(concise["items"], full["items"], strict=True):
        assert set(short) == {"uid", "key", "url", "metadata"}
        assert {"dataset", "created_at"} <= set(long)
        assert short["uid"] == long["uid"]
        assert short["metadata"] == long["metadata"]  # demo values are short: nothing cut


async def test_validate_slice_name(mcp_session: Client) -> None:
    free = await success(
        mcp_session,
        "validate_slice_name",
        {"name": "Zebra crossings at noon", "dataset": DEMO_DATASET_UID},
    )
    assert free == {"valid": True, "slug": "zebra-crossings-at-noon", "reasons": []}

    taken = await success(
        mcp_session,
        "validate_slice_name",
        {"name": DEMO_SLICE_NAME, "dataset": DEMO_DATASET_UID},
    )
    assert taken["valid"] is False
    assert taken["reasons"]


async def test_default_calls_stay_under_8_kb(mcp_session: Client) -> None:
    # 20 slices: the demo owner's 12 and 8 more.
    for n in range(20 - DEMO_ORG_SLICE_COUNT):
        await success(
            mcp_session,
            "create_slice",
            {
                "name": f"Camera study {n:02d}",
                "dataset": DEMO_DATASET_UID,
                "description": "Frames from one camera, for a calibration review",
                "filter": {"field": "metadata.camera", "op": "eq", "value": "front"},
            },
        )
    sizes = {}
    for name, args in {
        "list_slices": {"owner": DEMO_ORG},
        "get_slice": {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG},
        "list_slice_items": {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG},
        "validate_slice_name": {"name": "Anything", "dataset": DEMO_DATASET_UID},
    }.items():
        result = await mcp_session.call_tool(name, args)
        sizes[name] = len(text_of(result).encode())
    listed = await success(mcp_session, "list_slices", {"owner": DEMO_ORG})
    items = await success(
        mcp_session, "list_slice_items", {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG}
    )
    assert len(listed["slices"]) == 20
    assert len(items["items"]) == 20
    print(f"text bytes of default calls: {sizes}")  # shown with -s; reported in the issue
    assert all(size < TEXT_BUDGET for size in sizes.values()), sizes


def _wordy_items(app: Starlette) -> Any:
    """``app``, plus a slice acme-ai/wordy whose 20 items carry long metadata."""
    metadata = {
        "caption": "a rainy street at night " * 30,
        "polygon": [[x, x + 1] for x in range(200)],
        **{f"tag_{n:02d}": n for n in range(40)},
    }
    page = {
        "count": 20,
        "next": None,
        "previous": None,
        "results": [
            {
                "uid": f"00000000-0000-4000-8000-{n:012d}",
                "key": f"wordy/frame_{n:06d}.jpg",
                "url": f"https://storage.acme-ai.example/wordy/frame_{n:06d}.jpg",
                "metadata": metadata,
            }
            for n in range(20)
        ],
    }

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/slices/acme-ai/wordy/items/list/"):
            await send_json(send, 200, page)
            return
        await app(scope, receive, send)

    return wrapped


async def test_concise_items_shorten_long_metadata_and_say_so(
    local_app: Starlette, local_api_key: str, mode: str
) -> None:
    server = build_server(
        local_settings(local_api_key),
        transport=httpx.ASGITransport(app=_wordy_items(local_app)),
    )
    args = {"owner": DEMO_ORG, "slug": "wordy"}
    async with Client(server, mode=mode) as client:
        concise = await client.call_tool("list_slice_items", args)
        full = await success(client, "list_slice_items", {**args, "detail": "full"})
    assert len(text_of(concise).encode()) < TEXT_BUDGET
    assert concise.structured_content is not None
    for item in concise.structured_content["items"]:
        metadata = item["metadata"]
        assert metadata["…"].endswith("more keys; detail='full' shows them")
        long_ones = {"caption", "polygon"} & set(metadata)
        assert long_ones  # shortened, not dropped, while the budget allows
        for key in long_ones:
            assert metadata[key].endswith(" chars)") or "detail='full'" in metadata[key]
            assert len(metadata[key]) < 100
    assert full["items"][0]["metadata"]["caption"] == "a rainy street at night " * 30
    assert len(full["items"][0]["metadata"]["polygon"]) == 200


async def test_a_cloud_style_slice_gets_its_owner_from_owner_name(
    local_app: Starlette, local_api_key: str, mode: str
) -> None:
    # Avala's cloud leaves out owner (and the embedded API's extras) and may say owner_name.
    cloud_slice = {"uid": "u1", "name": "Cloudy", "slug": "cloudy", "owner_name": "acme-cloud"}

    async def cloud(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/slices/someone/cloudy/"):
            await send_json(send, 200, cloud_slice)
            return
        await local_app(scope, receive, send)

    server = build_server(local_settings(local_api_key), transport=httpx.ASGITransport(app=cloud))
    async with Client(server, mode=mode) as client:
        slice_ = await success(client, "get_slice", {"owner": "someone", "slug": "cloudy"})
    assert slice_ == {
        "uid": "u1",
        "name": "Cloudy",
        "slug": "cloudy",
        "owner": "acme-cloud",
        "item_count": 0,
        "filter": None,
        "uri": "avala://slices/acme-cloud/cloudy",
    }
