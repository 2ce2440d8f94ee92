"""The dataset endpoints: listing, lookup and items, with the slice endpoints' rules and errors."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from avala_mcp.embedded.importer import import_file
from avala_mcp.embedded.paging import Cursor, encode_cursor
from avala_mcp.embedded.seed import (
    DEMO_DATASET_NAME,
    DEMO_DATASET_UID,
    DEMO_ITEM_COUNT,
    DEMO_ORG,
    DEMO_USER,
    OTHER_DATASET_UID,
    OTHER_ORG,
    demo_data,
)
from avala_mcp.embedded.store import Store

from .clients import in_process_api

pytestmark = pytest.mark.anyio

DATASET_FIELDS = [
    "uid",
    "name",
    "slug",
    "item_count",
    "data_type",
    "owner_name",
    "created_at",
    "updated_at",
]
ITEM_FIELDS = [
    "uid", "key", "dataset", "url", "thumbnails", "metadata", "created_at", "updated_at"
]  # fmt: skip
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}
DEMO_ITEMS_URL = f"/datasets/{DEMO_ORG}/driving-scenes/items/"


def _import(store: Store, tmp_path: Path, owner: str, name: str, count: int = 1) -> str:
    source = tmp_path / f"{uuid.uuid4()}.jsonl"
    lines = [json.dumps({"key": f"{name}/{n}.jpg", "metadata": {"n": n}}) for n in range(count)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    uid, _ = import_file(store, source, owner, name)
    return uid


async def _walk(api: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    """Every result of a listing, page by page, following ``next`` to the end."""
    results: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        response = await api.get(next_url)
        assert response.status_code == 200, response.text
        page = response.json()
        results.extend(page["results"])
        next_url = page["next"]
    return results


async def test_list_shows_the_datasets_of_the_callers_organizations(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/datasets/")
    assert response.status_code == 200
    page = response.json()
    assert list(page) == ["count", "next", "previous", "results"]
    assert (page["count"], page["next"], page["previous"]) == (1, None, None)
    [dataset] = page["results"]
    assert list(dataset) == DATASET_FIELDS
    demo = demo_data().datasets[0]
    assert dataset == {
        "uid": DEMO_DATASET_UID,
        "name": DEMO_DATASET_NAME,
        "slug": demo.slug,
        "item_count": len(demo.items),
        "data_type": "image",
        "owner_name": DEMO_ORG,
        "created_at": demo.created_at,
        "updated_at": dataset["updated_at"],
    }
    assert dataset["item_count"] == DEMO_ITEM_COUNT
    assert dataset["updated_at"].endswith("Z")
    assert (await api.get(f"/datasets/{DEMO_DATASET_UID}/")).json() == dataset


@pytest.mark.parametrize(
    ("name", "expected"),
    [("driving", 1), ("DRIVING sc", 1), ("scenes", 1), ("retail", 0), ("nothing like it", 0)],
)
async def test_name_is_a_case_insensitive_substring(
    api: httpx.AsyncClient, name: str, expected: int
) -> None:
    page = (await api.get("/datasets/", params={"name": name})).json()
    assert page["count"] == len(page["results"]) == expected


async def test_listing_pages_to_the_end_and_back(
    local_db_path: Path, local_api_key: str, tmp_path: Path
) -> None:
    store = Store(local_db_path)
    try:
        names = [f"Set {n:02d}" for n in range(24)] + ["Straße", "set 99"]
        for name in names:
            _import(store, tmp_path, DEMO_ORG, name)
        _import(store, tmp_path, OTHER_ORG, "Set of another organization")
        _import(store, tmp_path, DEMO_USER, "My own set")
    finally:
        store.close()
    expected = sorted([*names, DEMO_DATASET_NAME, "My own set"])
    async with in_process_api(local_db_path, local_api_key) as api:
        first = (await api.get("/datasets/")).json()
        assert first["count"] == len(expected)
        assert len(first["results"]) == 20  # the default page of a dataset listing
        forward = await _walk(api, "/datasets/?limit=3")
        assert [entry["name"] for entry in forward] == expected
        assert forward[-2]["owner_name"] == DEMO_ORG
        mine = next(entry for entry in forward if entry["name"] == "My own set")
        assert mine["owner_name"] == DEMO_USER
        # Back from the last page, by ``previous``, to the first.
        url = "/datasets/?limit=4"
        while (page := (await api.get(url)).json())["next"]:
            url = page["next"]
        backward = list(reversed(page["results"]))
        while page["previous"]:
            page = (await api.get(page["previous"])).json()
            backward.extend(reversed(page["results"]))
        assert [entry["name"] for entry in reversed(backward)] == expected
        # The name filter folds case in every script, and pages like the rest.
        strasse = (await api.get("/datasets/", params={"name": "STRASSE"})).json()
        assert [entry["name"] for entry in strasse["results"]] == ["Straße"]
        sets = await _walk(api, "/datasets/?name=SET&limit=5")
        assert [entry["name"] for entry in sets] == [n for n in expected if "set" in n.lower()]


_BAD_PAGING = [
    ({"cursor": "garbage"}, {"cursor": ["Invalid cursor."]}),
    ({"limit": "0"}, {"limit": ["Ensure this value is between 1 and 1000."]}),
    ({"limit": "1001"}, {"limit": ["Ensure this value is between 1 and 1000."]}),
    ({"limit": "ten"}, {"limit": ["A valid integer is required."]}),
]
# A cursor of another walk is refused, not misread: an item walk's (by id) in the dataset
# listing, and the dataset listing's (by name) in an item walk.
_ITEM_CURSOR = {"cursor": encode_cursor(Cursor("id", True, (5,)))}
_NAME_CURSOR = {"cursor": encode_cursor(Cursor("name", True, ("Set", 5)))}


@pytest.mark.parametrize(
    ("url", "params", "errors"),
    [
        *[("/datasets/", params, errors) for params, errors in _BAD_PAGING],
        *[(DEMO_ITEMS_URL, params, errors) for params, errors in _BAD_PAGING],
        ("/datasets/", _ITEM_CURSOR, {"cursor": ["Invalid cursor."]}),
        (DEMO_ITEMS_URL, _NAME_CURSOR, {"cursor": ["Invalid cursor."]}),
    ],
)
async def test_bad_paging_parameters(
    api: httpx.AsyncClient, url: str, params: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = await api.get(url, params=params)
    assert response.status_code == 400
    assert response.json() == errors


async def test_items_page_to_the_end_in_id_order(api: httpx.AsyncClient) -> None:
    first = await api.get(DEMO_ITEMS_URL)
    assert first.status_code == 200
    page = first.json()
    assert page["count"] == DEMO_ITEM_COUNT
    assert len(page["results"]) == 100  # the default page of an item listing
    items = await _walk(api, f"{DEMO_ITEMS_URL}?limit=700")
    demo = demo_data().datasets[0].items
    assert [item["key"] for item in items] == [item.key for item in demo]
    assert [item["metadata"] for item in items] == [item.metadata for item in demo]
    assert all(list(item) == ITEM_FIELDS for item in items)
    assert {item["dataset"] for item in items} == {DEMO_DATASET_UID}
    # The demo frames at absolute URLs on the base the API was reached by, with thumbnails.
    media = f"{str(api.base_url).rstrip('/')}/media/{DEMO_DATASET_UID}/"
    assert all(item["url"] == media + item["key"] for item in items)
    assert all(item["thumbnails"] and item["url"] in item["thumbnails"][0]["url"] for item in items)
    # The same items, in the same shape, as the slice that holds the whole dataset lists.
    whole = (await api.get(f"/slices/{DEMO_ORG}/all-driving-scenes/items/list/?limit=5")).json()
    assert whole["results"] == items[:5]


async def test_local_images_are_rendered_as_the_slice_renders_them(
    local_db_path: Path, local_api_key: str, tmp_path: Path
) -> None:
    (tmp_path / "images").mkdir()
    Image.new("RGB", (8, 6), (10, 20, 30)).save(tmp_path / "images" / "cat.png")
    source = tmp_path / "pets.jsonl"
    rows = [{"key": "cat", "url": "images/cat.png"}, {"key": "web", "url": "https://cdn.example/w"}]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    store = Store(local_db_path)
    try:
        uid, _ = import_file(store, source, DEMO_ORG, "Pets")
        owner = store.owner(DEMO_ORG)
        assert owner is not None
        found = store.dataset_by_slug(owner.id, "pets")
        # The lookup by slug carries the media root, as the lookup by uid does.
        assert found == store.dataset(uid)
        assert found is not None
        assert found.media_root == str(tmp_path)
    finally:
        store.close()
    async with in_process_api(local_db_path, local_api_key) as api:
        items = (await api.get(f"/datasets/{DEMO_ORG}/pets/items/")).json()["results"]
        whole = (await api.get(f"/slices/{DEMO_ORG}/all-pets/items/list/")).json()["results"]
        image = await api.get(items[0]["url"])
    assert items == whole
    assert [(item["url"], item["thumbnails"]) for item in items] == [
        (f"http://testserver/api/v1/media/{uid}/images/cat.png", []),
        ("https://cdn.example/w", []),
    ]
    assert (image.status_code, image.headers["content-type"]) == (200, "image/png")


@pytest.mark.parametrize(
    "path",
    [
        f"/datasets/{OTHER_DATASET_UID}/",
        f"/datasets/{OTHER_ORG}/retail-shelves/items/",
        f"/datasets/{OTHER_ORG}/no-such-dataset/items/",
    ],
)
async def test_forbidden_across_organizations(api: httpx.AsyncClient, path: str) -> None:
    response = await api.get(path)
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


@pytest.mark.parametrize(
    "path",
    [
        f"/datasets/{uuid.UUID(int=1)}/",
        "/datasets/not-a-uuid/",
        "/datasets/no-such-owner/driving-scenes/items/",
        f"/datasets/{DEMO_ORG}/no-such-dataset/items/",
    ],
)
async def test_not_found(api: httpx.AsyncClient, path: str) -> None:
    response = await api.get(path)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("path", ["/datasets/", f"/datasets/{DEMO_DATASET_UID}/", DEMO_ITEMS_URL])
async def test_a_key_is_required(api: httpx.AsyncClient, path: str) -> None:
    api.headers.pop("X-Avala-Api-Key", None)
    response = await api.get(path, headers={"X-Avala-Api-Key": "not-a-key"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key."}


async def test_rate_limited_like_every_endpoint(local_db_path: Path, local_api_key: str) -> None:
    async with in_process_api(local_db_path, local_api_key, rate_limit=2) as api:
        answers = [await api.get("/datasets/") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Remaining"] == "1"
    assert "Retry-After" in answers[2].headers


def test_imports_of_names_with_one_slug_get_their_own(tmp_path: Path, local_db_path: Path) -> None:
    store = Store(local_db_path)
    try:
        first = _import(store, tmp_path, DEMO_ORG, "Scale", count=2)
        second = _import(store, tmp_path, DEMO_ORG, "scale!", count=3)
        owner = store.owner(DEMO_ORG)
        assert owner is not None
        by_slug = {slug: store.dataset_by_slug(owner.id, slug) for slug in ("scale", "scale-2")}
        assert {slug: found.uid if found else None for slug, found in by_slug.items()} == {
            "scale": first,
            "scale-2": second,
        }
    finally:
        store.close()
