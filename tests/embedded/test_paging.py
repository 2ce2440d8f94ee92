"""Keyset pagination: every ordering, complete walks both ways, and walks during inserts."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio.to_thread
import httpx
import pytest
from starlette.applications import Starlette

from avala_mcp.embedded import app_store
from avala_mcp.embedded.paging import SLICE_ORDERINGS
from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ITEM_COUNT, DEMO_ORG
from avala_mcp.embedded.store import NewItem

pytestmark = pytest.mark.anyio


async def _walk(client: httpx.AsyncClient, url: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every result of a walk along ``next`` links, and the ``previous`` links met on the way."""
    results: list[dict[str, Any]] = []
    previous: list[str] = []
    next_url: str | None = url
    while next_url:
        response = await client.get(next_url)
        assert response.status_code == 200, response.text
        page = response.json()
        results.extend(page["results"])
        if page["previous"]:
            previous.append(page["previous"])
        next_url = page["next"]
    return results, previous


async def _make_slices(client: httpx.AsyncClient, count: int) -> None:
    # Equal item counts and names that sort differently from creation order, to exercise ties.
    for n in range(count):
        body = {
            "name": f"Slice {(n * 7) % count:02d}",
            "dataset": DEMO_DATASET_UID,
            "filter": {"field": "metadata.camera", "op": "eq", "value": ["rear", "left"][n % 2]},
        }
        assert (await client.post("/slices/", json=body)).status_code == 201


def _sort_key(piece: dict[str, Any], field: str) -> Any:
    return piece[field]


@pytest.mark.parametrize("ordering", SLICE_ORDERINGS)
async def test_every_ordering_walks_completely_both_ways(
    local_http: httpx.AsyncClient, ordering: str
) -> None:
    await _make_slices(local_http, 9)
    everything = (
        await local_http.get(
            f"/slices/{DEMO_ORG}/list/", params={"limit": 1000, "ordering": ordering}
        )
    ).json()
    total = everything["count"]
    assert total == 21
    field = ordering.lstrip("-")
    values = [_sort_key(piece, field) for piece in everything["results"]]
    assert values == sorted(values, reverse=ordering.startswith("-"))

    forward, previous_links = await _walk(
        local_http, f"/slices/{DEMO_ORG}/list/?ordering={ordering}&limit=4"
    )
    assert [piece["uid"] for piece in forward] == [p["uid"] for p in everything["results"]]
    # Walking back from the last page's previous link revisits every earlier page in order.
    backward: list[dict[str, Any]] = []
    url: str | None = previous_links[-1]
    while url:
        page = (await local_http.get(url)).json()
        backward = page["results"] + backward
        url = page["previous"]
    last_page_size = total - 4 * (len(previous_links))
    assert [p["uid"] for p in backward] == [p["uid"] for p in forward[: total - last_page_size]]


async def test_item_walk_during_inserts_is_complete_and_never_repeats(
    local_app: Starlette, local_http: httpx.AsyncClient
) -> None:
    store = app_store(local_app)
    dataset = store.dataset(DEMO_DATASET_UID)
    assert dataset is not None
    seen: list[str] = []
    url: str | None = f"/slices/{DEMO_ORG}/all-driving-scenes/items/list/?limit=150"
    batch = 0
    while url:
        page = (await local_http.get(url)).json()
        seen.extend(item["key"] for item in page["results"])
        # Between pages, another writer adds items (which land after the walk's position).
        batch += 1
        new = [NewItem(f"late/{batch}/{n}.jpg", None, "{}") for n in range(7)]
        await anyio.to_thread.run_sync(store.add_items, dataset, new)
        url = page["next"]
    assert len(seen) == len(set(seen))
    original = [f"driving-scenes/frame_{n:06d}.jpg" for n in range(1, DEMO_ITEM_COUNT + 1)]
    assert seen[:DEMO_ITEM_COUNT] == original


async def test_slice_walk_during_concurrent_creates(local_http: httpx.AsyncClient) -> None:
    await _make_slices(local_http, 20)
    before = (await local_http.get(f"/slices/{DEMO_ORG}/list/", params={"limit": 1000})).json()
    original = {piece["uid"] for piece in before["results"]}

    async def create_more() -> None:
        for n in range(30):
            body = {"name": f"Concurrent {n:02d}", "dataset": DEMO_DATASET_UID}
            assert (await local_http.post("/slices/", json=body)).status_code == 201

    async def walk() -> list[dict[str, Any]]:
        results, _ = await _walk(local_http, f"/slices/{DEMO_ORG}/list/?ordering=name&limit=3")
        return results

    creating = asyncio.ensure_future(create_more())
    walked = await walk()
    await creating
    uids = [piece["uid"] for piece in walked]
    assert len(uids) == len(set(uids))
    assert original <= set(uids)
    names = [piece["name"] for piece in walked]
    assert names == sorted(names)


async def test_fifty_concurrent_same_name_creates(local_api_url: str, local_api_key: str) -> None:
    body = {"name": "Race", "dataset": DEMO_DATASET_UID}
    async with httpx.AsyncClient(
        base_url=local_api_url,
        headers={"X-Avala-Api-Key": local_api_key},
        limits=httpx.Limits(max_connections=50),
    ) as client:
        answers = await asyncio.gather(*(client.post("/slices/", json=body) for _ in range(50)))
        listing = (await client.get(f"/slices/{DEMO_ORG}/list/", params={"limit": 1000})).json()
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] + [409] * 49
    assert [piece["name"] for piece in listing["results"]].count("Race") == 1


async def test_fifty_concurrent_colliding_slugs_stay_unique(
    local_api_url: str, local_api_key: str
) -> None:
    # Different names, one slug: every create succeeds and each gets its own suffix.
    names = [f"Same Slug{'!' * n}" for n in range(50)]
    async with httpx.AsyncClient(
        base_url=local_api_url,
        headers={"X-Avala-Api-Key": local_api_key},
        limits=httpx.Limits(max_connections=50),
    ) as client:
        answers = await asyncio.gather(
            *(
                client.post("/slices/", json={"name": name, "dataset": DEMO_DATASET_UID})
                for name in names
            )
        )
    assert {answer.status_code for answer in answers} == {201}
    slugs = {answer.json()["slug"] for answer in answers}
    assert slugs == {"same-slug"} | {f"same-slug-{n}" for n in range(2, 51)}
