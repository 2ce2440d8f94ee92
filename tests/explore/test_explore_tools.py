"""The four exploring tools on the demo data, through real MCP clients, with exact numbers.

The expected numbers come from ``truth``: every demo item read through the API with plain httpx
and counted here (``truth.py``), never from the server's or the client's own code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import profile_truth as count
import pytest
from mcp import Client
from mcp_checks import failure, success, text_of

from avala_mcp.embedded.seed import (
    DEMO_DATASET_NAME,
    DEMO_DATASET_UID,
    DEMO_ITEM_COUNT,
    DEMO_NIGHT_COUNT,
    DEMO_ORG,
    DEMO_ORG_SLICE_COUNT,
    DEMO_SLICE_SLUG,
    RAINY_NIGHT_PEDESTRIANS_COUNT,
    RAINY_NIGHT_PEDESTRIANS_FILTER,
)

pytestmark = pytest.mark.anyio

Items = list[dict[str, Any]]
RESULT_BUDGET = 8 * 1024
DESCRIBE_BUDGET = 6 * 1024
WEATHER = "metadata.weather"


def _rainy_night_pedestrians(item: Mapping[str, Any]) -> bool:
    metadata = item["metadata"]
    return (
        metadata["time_of_day"] == "night"
        and metadata["weather"] == "rain"
        and metadata["pedestrians"] >= 1
    )


def _where(items: Items, keep: Callable[[Mapping[str, Any]], bool]) -> Items:
    return [item for item in items if keep(item)]


async def _bytes_of(client: Client, name: str, arguments: dict[str, Any]) -> int:
    return len(text_of(await client.call_tool(name, arguments)).encode())


async def test_list_datasets_lists_the_demo_dataset_with_its_owner(
    explore_session: Client,
) -> None:
    listed = await success(explore_session, "list_datasets", {})
    assert listed == {
        "count": 1,
        "next_cursor": None,
        "datasets": [
            {
                "uid": DEMO_DATASET_UID,
                "name": DEMO_DATASET_NAME,
                "slug": "driving-scenes",
                "owner": DEMO_ORG,
                "item_count": DEMO_ITEM_COUNT,
                "data_type": "image",
            }
        ],
    }
    # The owner is what list_slices takes.
    owner = listed["datasets"][0]["owner"]
    slices = await success(explore_session, "list_slices", {"owner": owner})
    assert {entry["dataset"] for entry in slices["slices"]} == {DEMO_DATASET_UID}


@pytest.mark.parametrize(
    ("arguments", "found"),
    [
        ({"name": "DRIVING"}, 1),
        ({"name": "shelves"}, 0),  # globex's dataset: not the demo user's to see
        ({"owner": DEMO_ORG}, 1),
        ({"owner": "globex"}, 0),
        ({"name": "scenes", "owner": DEMO_ORG, "limit": 1}, 1),
    ],
)
async def test_list_datasets_narrows_by_name_and_owner(
    explore_session: Client, arguments: dict[str, Any], found: int
) -> None:
    listed = await success(explore_session, "list_datasets", arguments)
    assert len(listed["datasets"]) == listed["count"] == found


async def test_describe_dataset_counts_every_field_exactly(
    explore_session: Client, truth: Items
) -> None:
    described = await success(explore_session, "describe_dataset", {"dataset": DEMO_DATASET_UID})
    assert len(truth) == DEMO_ITEM_COUNT
    assert described == {
        "dataset": DEMO_DATASET_UID,
        "count": DEMO_ITEM_COUNT,
        "exact": True,
        "fields": [count.field(truth, path) for path in count.paths_of(truth)],
    }


async def test_describe_dataset_of_the_demo_fits_in_6_kb(explore_session: Client) -> None:
    size = await _bytes_of(explore_session, "describe_dataset", {"dataset": DEMO_DATASET_UID})
    assert size <= DESCRIBE_BUDGET


async def test_describe_dataset_under_a_filter_with_fields_and_top(
    explore_session: Client, truth: Items
) -> None:
    night = {"field": "metadata.time_of_day", "op": "eq", "value": "night"}
    described = await success(
        explore_session,
        "describe_dataset",
        {
            "dataset": DEMO_DATASET_UID,
            "filter": night,
            "fields": [WEATHER, "metadata.camera", "metadata.nothing"],
            "top": 2,
        },
    )
    nights = _where(truth, lambda item: item["metadata"]["time_of_day"] == "night")
    assert described["count"] == len(nights) == DEMO_NIGHT_COUNT
    assert described["fields"] == [
        count.field(nights, WEATHER, top=2),
        count.field(nights, "metadata.camera", top=2),
        # A path no item has is listed as such, not an error.
        {"path": "metadata.nothing", "types": {}, "present": 0, "distinct": 0},
    ]


async def test_describe_slice_describes_the_slices_items(
    explore_session: Client, truth: Items
) -> None:
    described = await success(
        explore_session,
        "describe_slice",
        {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "fields": [WEATHER, "metadata.time_of_day"]},
    )
    nights = _where(truth, lambda item: item["metadata"]["time_of_day"] == "night")
    assert described == {
        "dataset": DEMO_DATASET_UID,
        "count": DEMO_NIGHT_COUNT,
        "exact": True,
        "fields": [count.field(nights, WEATHER), count.field(nights, "metadata.time_of_day")],
    }


async def test_preview_slice_says_what_create_slice_would_make(
    explore_session: Client, truth: Items, requests: list[tuple[str, str]]
) -> None:
    before = len(requests)
    preview = await success(
        explore_session,
        "preview_slice",
        {"dataset": DEMO_DATASET_UID, "filter": RAINY_NIGHT_PEDESTRIANS_FILTER},
    )
    chosen = _where(truth, _rainy_night_pedestrians)
    assert preview["count"] == len(chosen) == RAINY_NIGHT_PEDESTRIANS_COUNT
    assert (preview["exact"], preview["warnings"]) == (True, [])
    assert "sampled" not in preview
    by_uid = {item["uid"]: item for item in chosen}
    assert len(preview["items"]) == 3
    for item in preview["items"]:
        assert item["metadata"] == by_uid[item["uid"]]["metadata"]
    paths = ["metadata.time_of_day", WEATHER, "metadata.pedestrians"]
    assert preview["fields"] == [count.field(chosen, path, top=5) for path in paths]
    # It wrote nothing: every request was a read (a profile is a POST that reads).
    writes = [(m, p) for m, p in requests[before:] if m != "GET" and not p.endswith("/profile/")]
    assert writes == []
    slices = await success(explore_session, "list_slices", {"owner": DEMO_ORG})
    assert slices["count"] == DEMO_ORG_SLICE_COUNT


async def test_preview_slice_without_filter_is_the_whole_dataset(explore_session: Client) -> None:
    preview = await success(
        explore_session, "preview_slice", {"dataset": DEMO_DATASET_UID, "sample": 0}
    )
    assert preview == {
        "dataset": DEMO_DATASET_UID,
        "count": DEMO_ITEM_COUNT,
        "exact": True,
        "items": [],
        "fields": [],
        "warnings": [],
    }


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("list_datasets", {}),
        ("describe_dataset", {"dataset": DEMO_DATASET_UID}),
        ("describe_slice", {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG}),
        ("preview_slice", {"dataset": DEMO_DATASET_UID, "filter": RAINY_NIGHT_PEDESTRIANS_FILTER}),
        ("preview_slice", {"dataset": DEMO_DATASET_UID}),
    ],
)
async def test_every_default_result_fits_in_8_kb(
    explore_session: Client, name: str, arguments: dict[str, Any]
) -> None:
    assert await _bytes_of(explore_session, name, arguments) <= RESULT_BUDGET


async def test_an_unknown_dataset_is_not_found_with_a_hint_to_list_datasets(
    explore_session: Client,
) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    for name in ("describe_dataset", "preview_slice"):
        error = await failure(explore_session, name, {"dataset": unknown})
        assert error["type"] == "not_found"
        assert unknown in error["message"]
        assert "list_datasets" in error["hint"]


async def test_an_unknown_slice_is_not_found_with_a_hint_to_list_slices(
    explore_session: Client,
) -> None:
    error = await failure(explore_session, "describe_slice", {"owner": DEMO_ORG, "slug": "nope"})
    assert error["type"] == "not_found"
    assert f"list_slices(owner='{DEMO_ORG}')" in error["hint"]


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"fields": [f"metadata.f{n}" for n in range(51)]}, "fields"),
        ({"fields": ["weather"]}, "fields"),
        ({"fields": ['metadata.a"b']}, "fields"),
        ({"fields": "metadata.weather"}, "fields"),
        ({"top": 0}, "top"),
        ({"top": 51}, "top"),
        ({"top": "many"}, "top"),
        ({"dataset": "driving-scenes"}, "dataset"),
        ({"filter": {"field": "metadata.weather", "op": "like", "value": "r"}}, "filter"),
        ({"extra": 1}, "extra"),
    ],
)
async def test_forged_or_oversized_arguments_fail_before_any_request(
    explore_session: Client,
    requests: list[tuple[str, str]],
    arguments: dict[str, Any],
    named: str,
) -> None:
    error = await failure(
        explore_session, "describe_dataset", {"dataset": DEMO_DATASET_UID, **arguments}
    )
    assert error["type"] == "invalid_input"
    assert named in error["fields"]
    assert requests == []


@pytest.mark.parametrize("sample", [-1, 7, 1000])
async def test_preview_sample_is_bounded(
    explore_session: Client, requests: list[tuple[str, str]], sample: int
) -> None:
    error = await failure(
        explore_session, "preview_slice", {"dataset": DEMO_DATASET_UID, "sample": sample}
    )
    assert (error["type"], list(error["fields"])) == ("invalid_input", ["sample"])
    assert requests == []


async def test_describe_slice_fields_are_bounded(
    explore_session: Client, requests: list[tuple[str, str]]
) -> None:
    error = await failure(
        explore_session,
        "describe_slice",
        {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "fields": ["metadata.x"] * 51},
    )
    assert error["type"] == "invalid_input"
    assert requests == []
