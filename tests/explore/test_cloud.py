"""The exploring tools against stand-ins of Avala's cloud: the embedded API without its profile
extension (so answers are sampled: ``exact: false, sampled: N``), and without dataset endpoints.

The expected numbers are those of the sample itself: the first :data:`CLOUD_SAMPLE` items of the
dataset's listing, read with plain httpx and counted in ``truth.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import profile_truth as count
import pytest
from explore_checks import CLOUD_SAMPLE, DRIVING_SCENES_ITEMS, Recorder, cloud, read_items
from mcp import Client
from mcp_checks import failure, local_server, success
from starlette.applications import Starlette

from avala_mcp.embedded.seed import (
    DEMO_DATASET_UID,
    DEMO_NIGHT_COUNT,
    DEMO_ORG,
    DEMO_SLICE_SLUG,
    RAINY_NIGHT_PEDESTRIANS_FILTER,
)

pytestmark = pytest.mark.anyio

Items = list[dict[str, Any]]


@pytest.fixture
async def sample(local_http: httpx.AsyncClient) -> Items:
    """What the cloud stand-in's client samples: the listing's first CLOUD_SAMPLE items."""
    return await read_items(local_http, most=CLOUD_SAMPLE)


@pytest.fixture
def stand_in(local_app: Starlette) -> Recorder:
    return cloud(local_app)


@pytest.fixture
async def session(stand_in: Recorder, local_api_key: str, mode: str) -> AsyncIterator[Client]:
    server = local_server(stand_in, local_api_key, sample_items=CLOUD_SAMPLE)
    async with Client(server, mode=mode) as client:
        yield client


async def test_describe_dataset_is_sampled_and_counts_the_sample(
    session: Client, sample: Items
) -> None:
    described = await success(session, "describe_dataset", {"dataset": DEMO_DATASET_UID})
    assert described == {
        "dataset": DEMO_DATASET_UID,
        "count": CLOUD_SAMPLE,
        "exact": False,
        "sampled": CLOUD_SAMPLE,
        "fields": [count.field(sample, path) for path in count.paths_of(sample)],
    }


async def test_preview_slice_counts_the_matches_in_the_sample(
    session: Client, sample: Items
) -> None:
    preview = await success(
        session,
        "preview_slice",
        {"dataset": DEMO_DATASET_UID, "filter": RAINY_NIGHT_PEDESTRIANS_FILTER},
    )
    matching = [
        item
        for item in sample
        if item["metadata"]["time_of_day"] == "night"
        and item["metadata"]["weather"] == "rain"
        and item["metadata"]["pedestrians"] >= 1
    ]
    assert (preview["exact"], preview["sampled"]) == (False, CLOUD_SAMPLE)
    assert preview["count"] == len(matching) > 0
    assert {item["uid"] for item in preview["items"]} <= {item["uid"] for item in matching}
    assert preview["warnings"] == []


async def test_describe_slice_samples_the_slices_items(session: Client) -> None:
    described = await success(
        session,
        "describe_slice",
        {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "fields": ["metadata.time_of_day"]},
    )
    # The slice holds fewer items than the sample size: all of them were read.
    assert described == {
        "dataset": DEMO_DATASET_UID,
        "count": DEMO_NIGHT_COUNT,
        "exact": False,
        "sampled": DEMO_NIGHT_COUNT,
        "fields": [
            {
                "path": "metadata.time_of_day",
                "types": {"string": DEMO_NIGHT_COUNT},
                "present": DEMO_NIGHT_COUNT,
                "distinct": 1,
                "top": [{"value": "night", "count": DEMO_NIGHT_COUNT}],
                "min": "night",
                "max": "night",
            }
        ],
    }


async def test_with_a_sample_a_misspelt_field_is_a_warning_not_a_refusal(session: Client) -> None:
    created = await success(
        session,
        "create_slice",
        {
            "name": "Rain",
            "dataset": DEMO_DATASET_UID,
            "filter": {"field": "metadata.wether", "op": "eq", "value": "rain"},
        },
    )
    assert created["item_count"] == 0
    assert created["warnings"] == [
        f"metadata.wether: none of the {CLOUD_SAMPLE} sampled items have this field; "
        "did you mean metadata.weather?",
        "the filter matches no item of the dataset",
    ]


async def test_describe_preview_and_create_read_the_sample_once(
    session: Client, stand_in: Recorder
) -> None:
    filter_ = {"field": "metadata.weather", "op": "eq", "value": "fog"}
    await success(session, "describe_dataset", {"dataset": DEMO_DATASET_UID})
    await success(session, "preview_slice", {"dataset": DEMO_DATASET_UID, "filter": filter_})
    await success(
        session, "create_slice", {"name": "Fog", "dataset": DEMO_DATASET_UID, "filter": filter_}
    )
    item_pages = [path for _, path in stand_in.requests if path == DRIVING_SCENES_ITEMS]
    assert len(item_pages) == 1  # one page of up to 1,000 holds the 500-item sample
    # The missing extension was asked about once, and remembered.
    assert [path for _, path in stand_in.requests if path.endswith("/profile/")] == [
        f"/api/v1/datasets/{DEMO_DATASET_UID}/profile/"
    ]


@pytest.fixture
async def no_datasets(local_app: Starlette, local_api_key: str, mode: str) -> AsyncIterator[Client]:
    """A cloud without dataset endpoints at all."""
    server = local_server(cloud(local_app, datasets=False), local_api_key)
    async with Client(server, mode=mode) as client:
        yield client


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("list_datasets", {}),
        ("describe_dataset", {"dataset": DEMO_DATASET_UID}),
        ("preview_slice", {"dataset": DEMO_DATASET_UID}),
    ],
)
async def test_without_dataset_endpoints_the_failure_says_so_and_asks_for_a_uid(
    no_datasets: Client, name: str, arguments: dict[str, Any]
) -> None:
    error = await failure(no_datasets, name, arguments)
    assert error["type"] == "not_found"
    assert "does not offer datasets" in error["message"]
    assert "uid" in error["hint"]
    assert "pass it as dataset" in error["hint"]


async def test_without_dataset_endpoints_create_slice_creates_unchecked(
    no_datasets: Client,
) -> None:
    created = await success(
        no_datasets,
        "create_slice",
        {
            "name": "Fog",
            "dataset": DEMO_DATASET_UID,
            "filter": {"field": "metadata.weather", "op": "eq", "value": "fog"},
        },
    )
    assert created["item_count"] > 0
    (warning,) = created["warnings"]
    assert warning.startswith("the filter was not checked against the dataset:")
    assert "does not offer datasets" in warning


async def test_show_items_picks_a_filter_s_items_from_the_sample(session: Client) -> None:
    arguments = {"dataset": DEMO_DATASET_UID, "filter": RAINY_NIGHT_PEDESTRIANS_FILTER}
    result = await session.call_tool("show_items", {**arguments, "limit": 3})
    shown = await success(session, "show_items", {**arguments, "limit": 3})
    preview = await success(session, "preview_slice", {**arguments, "sample": 3})
    assert (shown["count"], shown["sampled"]) == (preview["count"], CLOUD_SAMPLE)
    assert shown["items"] == preview["items"]
    assert [entry["width"] for entry in shown["images"]] == [512] * 3
    summary = result.content[0]
    assert getattr(summary, "text", "").endswith(
        f"matching the filter (in a sample of {CLOUD_SAMPLE})"
    )
