"""The dataset endpoints through AvalaClient: the embedded API in-process and over uvicorn."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from standins import NoDatasetsStandIn, Recorder, Served

from avala_mcp.client import AvalaClient, Dataset
from avala_mcp.client.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from avala_mcp.embedded.seed import (
    DEMO_DATASET_NAME,
    DEMO_DATASET_UID,
    DEMO_ITEM_COUNT,
    DEMO_ORG,
    OTHER_DATASET_UID,
    OTHER_ORG,
)
from avala_mcp.filters import parse_filter

pytestmark = pytest.mark.anyio

DEMO_SLUG = "driving-scenes"
UNKNOWN_UID = str(uuid.UUID(int=1))


@pytest.fixture
async def recorded(served: Served) -> AsyncIterator[tuple[Recorder, AvalaClient]]:
    stand_in, client = served.client()
    async with client:
        yield stand_in, client


@pytest.fixture
def client(recorded: tuple[Recorder, AvalaClient]) -> AvalaClient:
    return recorded[1]


async def test_list_datasets_shows_those_of_the_keys_organizations(client: AvalaClient) -> None:
    page = await client.list_datasets()
    assert page.count == 1
    assert page.next_cursor is None
    [found] = page.results
    assert isinstance(found, Dataset)
    assert (found.uid, found.name, found.slug) == (DEMO_DATASET_UID, DEMO_DATASET_NAME, DEMO_SLUG)
    assert (found.item_count, found.data_type, found.owner_name) == (
        DEMO_ITEM_COUNT,
        "image",
        DEMO_ORG,
    )
    assert found.created_at is not None
    assert found.updated_at is not None
    assert OTHER_DATASET_UID not in {result.uid for result in page.results}


async def test_name_is_a_case_insensitive_substring(client: AvalaClient) -> None:
    for name in ("driving", "SCENES", "g S"):
        assert [found.uid for found in (await client.list_datasets(name=name)).results] == [
            DEMO_DATASET_UID
        ], name
    nothing = await client.list_datasets(name="shelves")  # globex's, which the key cannot see
    assert (nothing.count, nothing.results) == (0, [])


async def test_list_datasets_pages_by_cursor(served: Served, client: AvalaClient) -> None:
    for index in range(4):
        served.import_dataset(f"Extra {index}", [{"n": index}])
    uids: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await client.list_datasets(cursor=cursor, limit=2)
        pages += 1
        assert page.count == 5
        uids += [found.uid for found in page.results]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert len(uids) == len(set(uids)) == 5
    assert DEMO_DATASET_UID in uids


async def test_get_dataset(client: AvalaClient) -> None:
    found = await client.get_dataset(DEMO_DATASET_UID.upper())
    listed = (await client.list_datasets()).results[0]
    assert found == listed


async def test_another_organizations_dataset_is_forbidden(client: AvalaClient) -> None:
    with pytest.raises(PermissionDeniedError) as denied:
        await client.get_dataset(OTHER_DATASET_UID)
    assert denied.value.status == 403
    with pytest.raises(PermissionDeniedError):
        await client.list_dataset_items(OTHER_ORG, "retail-shelves")


async def test_unknown_datasets_are_not_found(client: AvalaClient) -> None:
    with pytest.raises(NotFoundError) as missing:
        await client.get_dataset(UNKNOWN_UID)
    assert "does not offer datasets" not in missing.value.message
    with pytest.raises(NotFoundError):
        await client.list_dataset_items(DEMO_ORG, "no-such-dataset")
    with pytest.raises(NotFoundError):
        await client.list_dataset_items("no-such-owner", DEMO_SLUG)


async def test_dataset_items_page_to_the_end(client: AvalaClient) -> None:
    keys: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await client.list_dataset_items(DEMO_ORG, DEMO_SLUG, cursor=cursor, limit=300)
        pages += 1
        assert page.count == DEMO_ITEM_COUNT
        assert len(page.results) == (300 if page.next_cursor else DEMO_ITEM_COUNT % 300)
        keys += [item.key or "" for item in page.results]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 7
    assert len(set(keys)) == DEMO_ITEM_COUNT
    walked = [item.key async for item in client.iter_dataset_items(DEMO_ORG, DEMO_SLUG)]
    assert walked == keys
    # The same items, in the same shape, as the slice that holds the whole dataset lists.
    whole = {
        item.uid: item.model_dump()
        async for item in client.iter_slice_items(DEMO_ORG, "all-driving-scenes", limit=1000)
    }
    items = {
        item.uid: item.model_dump()
        async for item in client.iter_dataset_items(DEMO_ORG, DEMO_SLUG, page_size=1000)
    }
    assert items == whole
    sample = next(iter(items.values()))
    assert sample["dataset"] == DEMO_DATASET_UID
    assert set(sample["metadata"]) >= {"weather", "time_of_day", "pedestrians"}


async def test_the_largest_page_is_a_thousand(client: AvalaClient) -> None:
    page = await client.list_dataset_items(DEMO_ORG, DEMO_SLUG, limit=1000)
    assert len(page.results) == 1000
    assert page.next_cursor is not None


BAD_CALLS: list[tuple[str, Callable[[AvalaClient], Any], str]] = [
    ("limit 0", lambda c: c.list_datasets(limit=0), "limit"),
    ("limit 1001", lambda c: c.list_datasets(limit=1001), "limit"),
    ("empty name", lambda c: c.list_datasets(name=""), "name"),
    ("name not text", lambda c: c.list_datasets(name=5), "name"),
    ("empty cursor", lambda c: c.list_datasets(cursor=""), "cursor"),
    ("uid not a uuid", lambda c: c.get_dataset("driving-scenes"), "uid"),
    ("owner with a space", lambda c: c.list_dataset_items("acme ai", DEMO_SLUG), "owner"),
    ("slug empty", lambda c: c.list_dataset_items(DEMO_ORG, ""), "slug"),
    ("items limit", lambda c: c.list_dataset_items(DEMO_ORG, DEMO_SLUG, limit=-1), "limit"),
    ("neither", lambda c: c.profile(), "dataset"),
    ("both", lambda c: c.profile(dataset=DEMO_DATASET_UID, slice=(DEMO_ORG, "x")), "dataset"),
    ("dataset not a uuid", lambda c: c.profile(dataset="driving"), "dataset"),
    ("slice of one", lambda c: c.profile(slice=(DEMO_ORG,)), "slice"),
    ("slice bad slug", lambda c: c.profile(slice=(DEMO_ORG, "a b")), "slug"),
    (
        "filter not parsed",
        lambda c: c.profile(dataset=DEMO_DATASET_UID, filter={"field": "key"}),
        "filter",
    ),
    (
        "filter with a slice",
        lambda c: c.profile(
            slice=(DEMO_ORG, "rainy-scenes"),
            filter=parse_filter({"field": "key", "op": "exists", "value": True}),
        ),
        "filter",
    ),
    (
        "fields as one string",
        lambda c: c.profile(dataset=DEMO_DATASET_UID, fields="metadata.weather"),
        "fields",
    ),
    (
        "a field that is no path",
        lambda c: c.profile(dataset=DEMO_DATASET_UID, fields=["metadata.weather", "weather"]),
        "fields",
    ),
    (
        "a field twice",
        lambda c: c.profile(dataset=DEMO_DATASET_UID, fields=["key", "key"]),
        "fields",
    ),
    (
        "too many fields",
        lambda c: c.profile(
            dataset=DEMO_DATASET_UID, fields=[f"metadata.f{n}" for n in range(101)]
        ),
        "fields",
    ),
    ("top 0", lambda c: c.profile(dataset=DEMO_DATASET_UID, top=0), "top"),
    ("top 51", lambda c: c.profile(dataset=DEMO_DATASET_UID, top=51), "top"),
    ("top true", lambda c: c.profile(dataset=DEMO_DATASET_UID, top=True), "top"),
    ("sample 7", lambda c: c.profile(dataset=DEMO_DATASET_UID, sample=7), "sample"),
    ("sample -1", lambda c: c.profile(dataset=DEMO_DATASET_UID, sample=-1), "sample"),
]


@pytest.mark.parametrize(
    ("call", "field"), [(c, f) for _, c, f in BAD_CALLS], ids=[n for n, *_ in BAD_CALLS]
)
async def test_bad_arguments_are_refused_before_any_request(
    recorded: tuple[Recorder, AvalaClient], call: Callable[[AvalaClient], Any], field: str
) -> None:
    stand_in, client = recorded
    with pytest.raises(InvalidInputError) as refused:
        await call(client)
    assert refused.value.fields is not None
    assert field in refused.value.fields, refused.value.fields
    assert stand_in.requests == []


async def test_an_api_without_dataset_endpoints_says_so(served: Served) -> None:
    _, client = served.client(NoDatasetsStandIn)
    async with client:
        calls = [
            client.list_datasets(),
            client.get_dataset(DEMO_DATASET_UID),
            client.list_dataset_items(DEMO_ORG, DEMO_SLUG),
            client.profile(dataset=DEMO_DATASET_UID),
        ]
        for call in calls:
            with pytest.raises(NotFoundError, match="this API does not offer datasets"):
                await call
        # The slices still answer.
        assert (await client.get_slice(DEMO_ORG, "rainy-scenes")).slug == "rainy-scenes"
