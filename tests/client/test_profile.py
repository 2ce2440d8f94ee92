"""AvalaClient.profile: exact through the embedded API's extension, sampled against the cloud.

The truth is computed here by reading every item and counting in plain Python, apart from the
client's profiler. The cloud is a stand-in (``standins.py``): the embedded API answering 404 for
its profile route, in-process and over uvicorn.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standins import IN_PROCESS_URL, CloudStandIn, Recorder, Served, SmallPagesStandIn

from avala_mcp.client import AvalaClient, FieldProfile, SliceItem
from avala_mcp.client.errors import NotFoundError
from avala_mcp.client.profiling import item_paths, profile_items
from avala_mcp.embedded.seed import (
    DEMO_DATASET_UID,
    DEMO_ITEM_COUNT,
    DEMO_NIGHT_COUNT,
    DEMO_ORG,
    DEMO_SLICE_SLUG,
)
from avala_mcp.filters import parse_filter
from avala_mcp.settings import Settings

pytestmark = pytest.mark.anyio

DEMO_SLUG = "driving-scenes"
RAW_RAIN = {"field": "metadata.weather", "op": "eq", "value": "rain"}
RAIN = parse_filter(RAW_RAIN)
UNKNOWN_UID = "00000000-0000-4000-8000-000000000001"
PROFILE = "/profile/"
ITEMS = "/items/"


def truth(items: list[SliceItem], path: str, top: int = 10) -> dict[str, Any]:
    """A field's profile by a plain reading of the demo items (flat, one type per field)."""
    name = path.removeprefix("metadata.")
    values = [item.metadata[name] for item in items if item.metadata.get(name) is not None]
    kinds = Counter("string" if isinstance(value, str) else "number" for value in values)
    counts = Counter(values)
    common = sorted(counts.items(), key=lambda entry: (-entry[1], entry[0]))[:top]
    return {
        "path": path,
        "types": dict(kinds),
        "present": len(values),
        "distinct": len(counts),
        "top": [{"value": value, "count": count} for value, count in common],
        "min": min(values) if values else None,
        "max": max(values) if values else None,
    }


def truths(items: list[SliceItem], top: int = 10) -> list[dict[str, Any]]:
    paths = sorted({f"metadata.{name}" for item in items for name in item.metadata})
    return [truth(items, path, top) for path in paths]


def fields_of(profile: Any) -> list[dict[str, Any]]:
    return [found.model_dump() for found in profile.fields]


@pytest.fixture
async def everything(served: Served) -> list[SliceItem]:
    """Every demo item, in listing order, read by a client of its own."""
    _, reader = served.client()
    async with reader:
        return [item async for item in reader.iter_dataset_items(DEMO_ORG, DEMO_SLUG)]


@pytest.fixture
async def exact(served: Served) -> AsyncIterator[tuple[Recorder, AvalaClient]]:
    stand_in, client = served.client()
    async with client:
        yield stand_in, client


@pytest.fixture
async def cloud(served: Served) -> AsyncIterator[tuple[Recorder, AvalaClient]]:
    """A client of the cloud stand-in whose samples hold 500 items (a quarter of the demo)."""
    stand_in, client = served.client(CloudStandIn, sample_items=500)
    async with client:
        yield stand_in, client


# ------------------------------------------------------------------------------------ exact


async def test_the_demo_dataset_profile_is_exact(
    exact: tuple[Recorder, AvalaClient], everything: list[SliceItem]
) -> None:
    stand_in, client = exact
    profile = await client.profile(dataset=DEMO_DATASET_UID)
    assert (profile.dataset, profile.count, profile.exact, profile.sampled) == (
        DEMO_DATASET_UID,
        DEMO_ITEM_COUNT,
        True,
        None,
    )
    assert (profile.truncated, profile.items) == (False, [])
    assert fields_of(profile) == truths(everything)
    assert stand_in.requests == [("POST", f"/api/v1/datasets/{DEMO_DATASET_UID}/profile/", "")]


async def test_an_exact_profile_under_a_filter(
    exact: tuple[Recorder, AvalaClient], everything: list[SliceItem]
) -> None:
    _, client = exact
    rainy = [item for item in everything if item.metadata["weather"] == "rain"]
    profile = await client.profile(dataset=DEMO_DATASET_UID, filter=RAIN, top=3, sample=4)
    assert (profile.count, profile.exact) == (len(rainy), True)
    assert fields_of(profile) == truths(rainy, top=3)
    assert len(profile.items) == 4
    assert all(item.metadata["weather"] == "rain" for item in profile.items)


async def test_fields_are_profiled_in_the_order_given(
    exact: tuple[Recorder, AvalaClient], everything: list[SliceItem]
) -> None:
    _, client = exact
    profile = await client.profile(
        dataset=DEMO_DATASET_UID, fields=["metadata.weather", "metadata.wether", "key"]
    )
    weather, typo, key = fields_of(profile)
    assert weather == truth(everything, "metadata.weather")
    assert typo == FieldProfile(path="metadata.wether").model_dump()
    assert (typo["present"], typo["types"], typo["top"]) == (0, {}, [])
    keys = sorted(item.key or "" for item in everything)
    assert (key["present"], key["distinct"], key["min"], key["max"]) == (
        DEMO_ITEM_COUNT,
        DEMO_ITEM_COUNT,
        keys[0],
        keys[-1],
    )


async def test_a_slice_is_its_dataset_under_its_filter(
    exact: tuple[Recorder, AvalaClient], everything: list[SliceItem]
) -> None:
    _, client = exact
    night = [item for item in everything if item.metadata["time_of_day"] == "night"]
    profile = await client.profile(slice=(DEMO_ORG, DEMO_SLICE_SLUG))
    assert (profile.dataset, profile.count, profile.exact) == (
        DEMO_DATASET_UID,
        DEMO_NIGHT_COUNT,
        True,
    )
    assert fields_of(profile) == truths(night)


async def test_an_unknown_dataset_is_not_found_and_proves_nothing(
    exact: tuple[Recorder, AvalaClient],
) -> None:
    stand_in, client = exact
    with pytest.raises(NotFoundError) as missing:
        await client.profile(dataset=UNKNOWN_UID)
    assert "does not offer datasets" not in missing.value.message
    # That 404 was the dataset's, not the extension's: the next profile is still exact.
    assert (await client.profile(dataset=DEMO_DATASET_UID)).exact is True
    assert stand_in.count(PROFILE) == 2


# ------------------------------------------------------------------------------------ sampled


async def test_the_cloud_answers_from_a_sample(
    cloud: tuple[Recorder, AvalaClient], everything: list[SliceItem]
) -> None:
    stand_in, client = cloud
    sample = everything[:500]  # the listing's first 500 items
    profile = await client.profile(dataset=DEMO_DATASET_UID)
    assert (profile.dataset, profile.count, profile.exact, profile.sampled) == (
        DEMO_DATASET_UID,
        500,
        False,
        500,
    )
    assert fields_of(profile) == truths(sample)

    rainy = [item for item in sample if item.metadata["weather"] == "rain"]
    under = await client.profile(dataset=DEMO_DATASET_UID, filter=RAIN, sample=6)
    assert (under.count, under.exact, under.sampled) == (len(rainy), False, 500)
    assert fields_of(under) == truths(rainy)
    assert [item.uid for item in under.items] == [item.uid for item in rainy[:6]]

    # A probe, the dataset, one page (asking for exactly what the sample lacks); then nothing.
    assert stand_in.requests == [
        ("POST", f"/api/v1/datasets/{DEMO_DATASET_UID}/profile/", ""),
        ("GET", f"/api/v1/datasets/{DEMO_DATASET_UID}/", ""),
        ("GET", f"/api/v1/datasets/{DEMO_ORG}/{DEMO_SLUG}/items/", "limit=500"),
    ]


async def test_a_sample_of_the_whole_dataset_equals_the_exact_profile(served: Served) -> None:
    exact_stand_in, exact = served.client()
    stand_in, cloud = served.client(CloudStandIn)
    async with exact, cloud:
        truth = await exact.profile(dataset=DEMO_DATASET_UID, filter=RAIN)
        sampled = await cloud.profile(dataset=DEMO_DATASET_UID, filter=RAIN)
    assert (sampled.exact, sampled.sampled, sampled.count) == (False, DEMO_ITEM_COUNT, truth.count)
    assert sampled.fields == truth.fields
    # 2,000 items in two pages of the largest size.
    pages = [query for _, path, query in stand_in.requests if path.endswith(ITEMS)]
    assert pages[0] == "limit=1000"
    assert len(pages) == 2
    assert "limit=1000" in pages[1]
    assert exact_stand_in.count(PROFILE) == 1


@pytest.mark.parametrize(
    "raw_filter",
    [
        {"field": "created_at", "op": "lt", "value": "2025-03-10T09:10:00Z"},
        {"field": "key", "op": "contains", "value": "frame_0001"},
        {"or": [{"field": "metadata.pedestrians", "op": "gte", "value": 9.5}, {"not": RAW_RAIN}]},
    ],
)
async def test_columns_and_combinators_select_the_same_items(
    served: Served, raw_filter: dict[str, Any]
) -> None:
    node = parse_filter(raw_filter)
    _, exact = served.client()
    _, cloud = served.client(CloudStandIn)
    async with exact, cloud:
        truth = await exact.profile(dataset=DEMO_DATASET_UID, filter=node, fields=["key"])
        sampled = await cloud.profile(dataset=DEMO_DATASET_UID, filter=node, fields=["key"])
    assert 0 < truth.count < DEMO_ITEM_COUNT
    assert (sampled.count, sampled.fields) == (truth.count, truth.fields)


async def test_the_missing_extension_is_remembered_per_client(served: Served) -> None:
    stand_in, client = served.client(CloudStandIn, sample_items=300)
    async with client:
        night = await client.profile(slice=(DEMO_ORG, DEMO_SLICE_SLUG))
        assert (night.exact, night.sampled, night.count) == (False, 300, 300)
        assert night.dataset == DEMO_DATASET_UID
        for filter in (None, RAIN):
            assert (await client.profile(dataset=DEMO_DATASET_UID, filter=filter)).exact is False
        rainy = await client.profile(slice=(DEMO_ORG, "rainy-scenes"))
        assert rainy.fields[-1].top[0].value == "rain"
    assert stand_in.count(PROFILE) == 1
    # Known to lack the extension, the client asks for no slice before sampling one.
    assert stand_in.count(f"/{DEMO_ORG}/rainy-scenes/") == 0
    # Another client finds out for itself, once.
    other_stand_in, other = served.client(CloudStandIn, sample_items=300)
    async with other:
        for _ in range(2):
            assert (await other.profile(dataset=DEMO_DATASET_UID)).exact is False
    assert other_stand_in.count(PROFILE) == 1


async def test_a_slice_sample_holds_the_slice_items(
    cloud: tuple[Recorder, AvalaClient], everything: list[SliceItem]
) -> None:
    _, client = cloud
    night = [item for item in everything if item.metadata["time_of_day"] == "night"]
    profile = await client.profile(slice=(DEMO_ORG, DEMO_SLICE_SLUG), sample=2)
    assert (profile.exact, profile.sampled, profile.count) == (False, DEMO_NIGHT_COUNT, 340)
    assert fields_of(profile) == truths(night)
    assert [item.uid for item in profile.items] == [item.uid for item in night[:2]]


async def test_a_sample_is_reused_for_a_while_then_read_again(served: Served) -> None:
    clock = [datetime(2025, 1, 1, tzinfo=UTC)]
    stand_in, client = served.client(CloudStandIn, sample_items=100, now=lambda: clock[0])
    async with client:
        await client.profile(dataset=DEMO_DATASET_UID)
        clock[0] += timedelta(seconds=119)
        await client.profile(dataset=DEMO_DATASET_UID, fields=["metadata.weather"])
        assert stand_in.count(ITEMS) == 1
        clock[0] += timedelta(seconds=2)
        await client.profile(dataset=DEMO_DATASET_UID)
        assert stand_in.count(ITEMS) == 2
    assert stand_in.count(PROFILE) == 1


async def test_smaller_pages_than_asked_for_are_taken(served: Served) -> None:
    stand_in, client = served.client(lambda app: SmallPagesStandIn(app, most=100), sample_items=450)
    async with client:
        profile = await client.profile(dataset=DEMO_DATASET_UID)
    assert (profile.sampled, profile.count) == (450, 450)
    asked = [query for _, path, query in stand_in.requests if path.endswith(ITEMS)]
    limits = [int(dict(part.split("=") for part in q.split("&"))["limit"]) for q in asked]
    assert limits == [450, 350, 250, 150, 50]


# ------------------------------------------------------------------------------------ property

# With names no filter can write ("x.y" would mean x -> y; a quote; none at all), which no
# profile lists.
_NAMES = st.sampled_from(["a", "b", "c", "two words", "é", "x.y", 'q"t', "", "[0]"])
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([2**63, -(2**63) - 1, 2**70, 1.0, 2.5, -0.0]),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=3),
    st.sampled_from(["rain", "Rain", "5"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_NAMES, inner, max_size=3),
    max_leaves=6,
)
_METADATA = st.dictionaries(_NAMES, _VALUES, max_size=4)
_FILTERS = st.one_of(
    st.none(),
    st.builds(
        lambda name, present: {"field": f"metadata.{name}", "op": "exists", "value": present},
        st.sampled_from(["a", "b", "x"]),
        st.booleans(),
    ),
)
_DATASETS = itertools.count()


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    metadata=st.lists(_METADATA, min_size=1, max_size=8),
    raw_filter=_FILTERS,
    top=st.integers(1, 4),
)
async def test_the_python_profile_of_every_item_equals_the_sql_profile(
    served_in_process: Served, metadata: list[dict[str, Any]], raw_filter: Any, top: int
) -> None:
    uid = served_in_process.import_dataset(f"random {next(_DATASETS)}", metadata)
    node = None if raw_filter is None else parse_filter(raw_filter)
    _, exact = served_in_process.client()
    _, cloud = served_in_process.client(CloudStandIn)
    async with exact, cloud:
        truth = await exact.profile(dataset=uid, filter=node, top=top)
        sampled = await cloud.profile(dataset=uid, filter=node, top=top)
        dataset = await exact.get_dataset(uid)
        assert dataset.owner_name is not None
        assert dataset.slug is not None
        items = [
            item.model_dump(mode="json")
            async for item in exact.iter_dataset_items(dataset.owner_name, dataset.slug)
        ]
    assert (truth.exact, sampled.exact, sampled.sampled) == (True, False, len(metadata))
    assert sampled.count == truth.count
    assert [found.path for found in truth.fields] == item_paths(items)
    assert sampled.fields == truth.fields
    if node is None:
        assert profile_items(items, item_paths(items), top=top) == truth.fields


async def test_the_sample_size_comes_from_the_environment(served_in_process: Served) -> None:
    stand_in = CloudStandIn(served_in_process.app)
    settings = Settings.from_env(
        {"AVALA_MCP_SAMPLE_ITEMS": "7", "AVALA_BASE_URL": IN_PROCESS_URL},
        api_key=served_in_process.api_key,
    )
    client = AvalaClient.from_settings(settings, transport=httpx.ASGITransport(app=stand_in))
    async with client:
        profile = await client.profile(dataset=DEMO_DATASET_UID, fields=["key"])
    assert (profile.sampled, profile.count, profile.fields[0].present) == (7, 7, 7)
    assert stand_in.requests[-1][2] == "limit=7"
