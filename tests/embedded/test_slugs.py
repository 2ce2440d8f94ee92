"""Slugs at the length limit: numeric suffixes past -9, -99, and concurrent creates."""

from __future__ import annotations

import anyio
import httpx
import pytest

from avala_mcp.embedded import naming
from avala_mcp.embedded.seed import DEMO_DATASET_UID

pytestmark = pytest.mark.anyio

# Slugified, this base is longer than a slug may be: every suffix has to shorten it.
LONG = "a" * 120


async def _create(client: httpx.AsyncClient, name: str) -> httpx.Response:
    return await client.post("/slices/", json={"name": name, "dataset": DEMO_DATASET_UID})


async def test_long_names_get_distinct_slugs_past_ten_and_a_hundred(
    local_http: httpx.AsyncClient,
) -> None:
    slugs = []
    for n in range(105):
        response = await _create(local_http, f"{LONG} {n}")
        assert response.status_code == 201, (n, response.text)
        slugs.append(response.json()["slug"])
    base = "a" * naming.MAX_SLUG_LENGTH
    assert slugs[0] == base
    assert slugs[1:] == [naming.with_suffix(base, number) for number in range(2, 106)]
    assert all(len(slug) <= naming.MAX_SLUG_LENGTH for slug in slugs)
    validated = await local_http.post(
        "/slice/validate/name", json={"name": f"{LONG} next", "dataset": DEMO_DATASET_UID}
    )
    assert validated.json()["slug"] == naming.with_suffix(base, 106)
    created = await _create(local_http, f"{LONG} next")
    assert created.json()["slug"] == validated.json()["slug"]


async def test_concurrent_long_names_get_distinct_slugs(local_http: httpx.AsyncClient) -> None:
    statuses: list[int] = []
    slugs: list[str] = []

    async def create(n: int) -> None:
        response = await _create(local_http, f"{LONG} {n}")
        statuses.append(response.status_code)
        slugs.append(response.json().get("slug", ""))

    async with anyio.create_task_group() as group:
        for n in range(24):
            group.start_soon(create, n)
    assert statuses == [201] * 24
    assert len(set(slugs)) == 24
