"""The embedded API answers as the seed says: shapes, fields, errors and status codes."""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from seed_examples import SEED_SLICE
from starlette.applications import Starlette

from avala_mcp.embedded import app_store, close_app, create_app
from avala_mcp.embedded.seed import (
    DEMO_DATASET_UID,
    DEMO_ITEM_COUNT,
    DEMO_NIGHT_COUNT,
    DEMO_ORG,
    DEMO_ORG_SLICE_COUNT,
    DEMO_SLICE_FILTER,
    DEMO_SLICE_SLUG,
    OTHER_DATASET_UID,
    OTHER_ORG,
    OTHER_SLICE_SLUG,
    RAINY_NIGHT_PEDESTRIANS_COUNT,
    RAINY_NIGHT_PEDESTRIANS_FILTER,
    RAINY_NIGHT_PEDESTRIANS_NAME,
    demo_data,
)
from avala_mcp.embedded.store import Store, StoreError

from .reference import matches

pytestmark = pytest.mark.anyio

SEED_FIELDS = list(SEED_SLICE)
LISTED_SLICE_FIELDS = [*SEED_FIELDS, "owner", "dataset"]  # a listing shows no filter
SLICE_FIELDS = [*LISTED_SLICE_FIELDS, "filter"]
ITEM_FIELDS = [
    "uid", "key", "dataset", "url", "thumbnails", "metadata", "created_at", "updated_at"
]  # fmt: skip
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}


def _night_items() -> list[dict[str, Any]]:
    items = demo_data().datasets[0].items
    return [
        {"key": item.key, "created_at": item.created_at, "metadata": item.metadata}
        for item in items
    ]


async def test_seed_list_example(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/slices/{DEMO_ORG}/list/")
    assert response.status_code == 200
    page = response.json()
    assert list(page) == ["count", "next", "previous", "results"]
    assert page["count"] == DEMO_ORG_SLICE_COUNT == 12
    assert page["previous"] is None
    assert page["next"] is None
    first = page["results"][0]
    assert list(first) == LISTED_SLICE_FIELDS
    assert {field: first[field] for field in SEED_FIELDS} == SEED_SLICE
    assert first["owner"] == DEMO_ORG
    assert first["dataset"] == DEMO_DATASET_UID


async def test_seed_get_example(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert {field: response.json()[field] for field in SEED_FIELDS} == SEED_SLICE


async def test_seed_create_example(api: httpx.AsyncClient) -> None:
    body = {
        "name": "Night Driving Scenes 2",
        "dataset": DEMO_DATASET_UID,
        "description": "Images captured in low-light driving conditions",
    }
    response = await api.post("/slices/", json=body)
    assert response.status_code == 201
    created = response.json()
    assert list(created) == SLICE_FIELDS
    uuid.UUID(created["uid"])
    assert created["name"] == body["name"]
    assert created["slug"] == "night-driving-scenes-2"
    assert created["description"] == body["description"]
    # A slice without a filter holds its whole dataset (the seed's example shows 0).
    assert created["item_count"] == DEMO_ITEM_COUNT
    assert STAMP.match(created["created_at"])
    assert created["created_at"] == created["updated_at"]
    assert created["filter"] is None
    fetched = await api.get(f"/slices/{DEMO_ORG}/{created['slug']}/")
    assert fetched.json() == created


async def test_seed_items_example(api: httpx.AsyncClient) -> None:
    response = await api.get(
        f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/items/list/", params={"limit": 7}
    )
    page = response.json()
    assert response.status_code == 200
    assert page["count"] == DEMO_NIGHT_COUNT
    assert len(page["results"]) == 7
    for item in page["results"]:
        assert list(item) == ITEM_FIELDS
        assert item["dataset"] == DEMO_DATASET_UID
        assert item["metadata"]["time_of_day"] == "night"
        assert STAMP.match(item["created_at"])
        # The demo frames are served by this API, at absolute URLs on the base it was reached by.
        assert item["url"].startswith(str(api.base_url).rstrip("/") + "/media/")
    assert page["next"].startswith(str(api.base_url).rstrip("/") + "/slices/")
    assert "cursor=" in page["next"]
    assert "limit=7" in page["next"]


async def test_seed_validation_error_example(api: httpx.AsyncClient) -> None:
    response = await api.post("/slices/", json={})
    assert response.status_code == 400
    assert response.json() == {
        "name": ["This field is required."],
        "dataset": ["This field is required."],
    }


@pytest.mark.parametrize("key", [None, "", "not-a-key"])
async def test_seed_unauthorized_example(api: httpx.AsyncClient, key: str | None) -> None:
    headers = {} if key is None else {"X-Avala-Api-Key": key}
    api.headers.pop("X-Avala-Api-Key", None)
    response = await api.get(f"/slices/{DEMO_ORG}/list/", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key."}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/slices/{OTHER_ORG}/list/", None),
        ("GET", f"/slices/{OTHER_ORG}/{OTHER_SLICE_SLUG}/", None),
        ("GET", f"/slices/{OTHER_ORG}/{OTHER_SLICE_SLUG}/items/list/", None),
        ("DELETE", f"/slices/{OTHER_ORG}/{OTHER_SLICE_SLUG}/", None),
        ("GET", f"/slices/dataset/{OTHER_DATASET_UID}/", None),
        ("POST", "/slices/", {"name": "Mine now", "dataset": OTHER_DATASET_UID}),
        ("POST", "/slice/validate/name", {"name": "Mine now", "dataset": OTHER_DATASET_UID}),
    ],
)
async def test_seed_forbidden_across_organizations(
    api: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    response = await api.request(method, path, json=body)
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


async def test_forbidden_delete_leaves_the_slice(local_app: Starlette) -> None:
    store = app_store(local_app)
    owner = store.owner(OTHER_ORG)
    assert owner is not None
    assert store.get_slice(owner.id, OTHER_SLICE_SLUG) is not None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/slices/no-such-owner/list/", None),
        ("GET", f"/slices/{DEMO_ORG}/no-such-slice/", None),
        ("GET", f"/slices/{DEMO_ORG}/no-such-slice/items/list/", None),
        ("DELETE", f"/slices/{DEMO_ORG}/no-such-slice/", None),
        ("GET", f"/slices/dataset/{uuid.UUID(int=1)}/", None),
        ("GET", "/slices/dataset/not-a-uuid/", None),
        ("POST", "/slices/", {"name": "x", "dataset": str(uuid.UUID(int=1))}),
        ("POST", "/slice/validate/name", {"name": "x", "dataset": str(uuid.UUID(int=1))}),
        ("GET", "/no/such/endpoint", None),
    ],
)
async def test_seed_not_found(api: httpx.AsyncClient, method: str, path: str, body: Any) -> None:
    response = await api.request(method, path, json=body)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_dataset_listing_holds_only_that_datasets_slices(
    local_http: httpx.AsyncClient,
) -> None:
    page = (await local_http.get(f"/slices/dataset/{DEMO_DATASET_UID}/")).json()
    assert page["count"] == DEMO_ORG_SLICE_COUNT
    assert {piece["dataset"] for piece in page["results"]} == {DEMO_DATASET_UID}


async def test_create_with_filter_counts_exactly(local_http: httpx.AsyncClient) -> None:
    body = {
        "name": RAINY_NIGHT_PEDESTRIANS_NAME,
        "dataset": DEMO_DATASET_UID,
        "filter": RAINY_NIGHT_PEDESTRIANS_FILTER,
    }
    response = await local_http.post("/slices/", json=body)
    assert response.status_code == 201
    expected = [item for item in _night_items() if matches(item, RAINY_NIGHT_PEDESTRIANS_FILTER)]
    assert len(expected) == RAINY_NIGHT_PEDESTRIANS_COUNT
    assert 20 <= len(expected) <= 60  # "a few dozen", enough for the MCP demo's two pages
    assert response.json()["item_count"] == len(expected)
    assert response.json()["filter"] == RAINY_NIGHT_PEDESTRIANS_FILTER
    keys: list[str] = []
    url: str | None = f"/slices/{DEMO_ORG}/rainy-night-pedestrians/items/list/?limit=10"
    while url:
        page = (await local_http.get(url)).json()
        keys.extend(item["key"] for item in page["results"])
        url = page["next"]
    assert keys == [item["key"] for item in expected]


async def test_night_slice_matches_the_demo_constant() -> None:
    night = [item for item in _night_items() if matches(item, DEMO_SLICE_FILTER)]
    assert len(night) == DEMO_NIGHT_COUNT
    assert len(demo_data().datasets[0].items) == DEMO_ITEM_COUNT


async def test_bad_filter_is_a_field_error(local_http: httpx.AsyncClient) -> None:
    body = {
        "name": "Bad",
        "dataset": DEMO_DATASET_UID,
        "filter": {"and": [{"field": "key", "op": "like", "value": "x"}]},
    }
    response = await local_http.post("/slices/", json=body)
    assert response.status_code == 400
    assert list(response.json()) == ["filter"]
    assert response.json()["filter"][0].startswith("and[0].op: unknown operator 'like'")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": "   ", "dataset": DEMO_DATASET_UID}, {"name": ["This field may not be blank."]}),
        (
            {"name": None, "dataset": None},
            {"name": ["This field may not be null."], "dataset": ["This field may not be null."]},
        ),
        (
            {"name": 5, "dataset": "abc"},
            {"name": ["Not a valid string."], "dataset": ["Must be a valid UUID."]},
        ),
        (
            {"name": "x" * 256, "dataset": DEMO_DATASET_UID},
            {"name": ["Ensure this field has no more than 255 characters."]},
        ),
        (
            {"name": "a\nb", "dataset": DEMO_DATASET_UID},
            {
                "name": [
                    "Name may not contain control, format or separator characters (found U+000A)."
                ]
            },
        ),
        (
            {"name": "ok", "dataset": DEMO_DATASET_UID, "description": 3},
            {"description": ["Not a valid string."]},
        ),
    ],
)
async def test_create_field_errors(
    local_http: httpx.AsyncClient, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    response = await local_http.post("/slices/", json=body)
    assert response.status_code == 400
    assert response.json() == errors


async def test_duplicate_name_is_409_and_names_are_trimmed(local_http: httpx.AsyncClient) -> None:
    body = {"name": "  Night Driving Scenes  ", "dataset": DEMO_DATASET_UID}
    response = await local_http.post("/slices/", json=body)
    assert response.status_code == 409
    assert "Night Driving Scenes" in response.json()["detail"]
    assert list(response.json()) == ["detail"]


async def test_validate_name(local_http: httpx.AsyncClient) -> None:
    free = await local_http.post(
        "/slice/validate/name",
        json={"name": " Night  Driving Scenes! ", "dataset": DEMO_DATASET_UID},
    )
    assert free.status_code == 200
    assert free.json() == {
        "name": "Night  Driving Scenes!",
        "slug": "night-driving-scenes-2",
        "valid": True,
    }
    taken = await local_http.post(
        "/slice/validate/name", json={"name": "Night Driving Scenes", "dataset": DEMO_DATASET_UID}
    )
    assert taken.status_code == 400
    assert list(taken.json()) == ["name"]
    assert "already exists" in taken.json()["name"][0]
    bad = await local_http.post("/slice/validate/name", json={"name": ""})
    assert bad.status_code == 400
    assert bad.json() == {"name": ["This field may not be blank."]}
    missing = await local_http.post("/slice/validate/name", json={})
    assert missing.json() == {"name": ["This field is required."]}
    odd = await local_http.post("/slice/validate/name", json={"name": "Ünïcode ★ list"})
    assert odd.json()["slug"] == "unicode-list"
    reserved = await local_http.post(
        "/slice/validate/name", json={"name": "List", "dataset": DEMO_DATASET_UID}
    )
    assert reserved.json()["slug"] == "list-2"


async def test_delete_semantics(local_http: httpx.AsyncClient) -> None:
    path = f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/"
    deleted = await local_http.delete(path)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await local_http.get(path)).status_code == 404
    again = await local_http.delete(path)
    assert again.status_code == 404
    assert again.json() == NOT_FOUND
    # The dataset's items are untouched: a new slice of the same filter finds them all.
    recreated = await local_http.post(
        "/slices/",
        json={"name": "Night again", "dataset": DEMO_DATASET_UID, "filter": DEMO_SLICE_FILTER},
    )
    assert recreated.json()["item_count"] == DEMO_NIGHT_COUNT
    listing = (await local_http.get(f"/slices/{DEMO_ORG}/list/")).json()
    assert listing["count"] == DEMO_ORG_SLICE_COUNT


async def test_method_not_allowed(local_http: httpx.AsyncClient) -> None:
    response = await local_http.put(f"/slices/{DEMO_ORG}/list/")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "PUT" not allowed.'}
    assert "GET" in response.headers["allow"]


async def test_body_too_large(local_http: httpx.AsyncClient) -> None:
    big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    response = await local_http.post(
        "/slices/", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "1 MiB" in response.json()["detail"]


@pytest.mark.parametrize(
    ("declared", "status", "detail"),
    [
        *(
            (spelled, 400, b"Content-Length header is not a number.")
            for spelled in ["²", "٣", "1_0", "+5", " 5", "-1", "0x10", ""]
        ),
        ("9" * 5000, 413, b"larger than 1 MiB"),  # more digits than int() reads
    ],
)
async def test_a_content_length_that_is_not_ascii_digits_is_refused(
    local_app: Starlette, local_api_key: str, declared: str, status: int, detail: bytes
) -> None:
    # HTTP clients and servers refuse such a header before it reaches the app, so the app is
    # called as an ASGI server would call it, with the header as sent.
    body = b'{"name": "Spelled length", "dataset": "%s"}' % DEMO_DATASET_UID.encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/slices/",
        "raw_path": b"/api/v1/slices/",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", declared.encode()),
            (b"x-avala-api-key", local_api_key.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await local_app(scope, receive, send)
    assert sent[0]["status"] == status
    assert detail in b"".join(m.get("body", b"") for m in sent[1:])
    # Nothing was created.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=local_app),
        base_url="http://testserver/api/v1",
        headers={"X-Avala-Api-Key": local_api_key},
    ) as client:
        names = [
            s["name"]
            for s in (await client.get(f"/slices/{DEMO_ORG}/list/?limit=100")).json()["results"]
        ]
    assert "Spelled length" not in names


async def test_not_json(local_http: httpx.AsyncClient) -> None:
    form = await local_http.post(
        "/slices/", content=b"name=x", headers={"Content-Type": "text/plain"}
    )
    assert form.status_code == 415
    assert form.json() == {"detail": 'Unsupported media type "text/plain" in request.'}
    broken = await local_http.post(
        "/slices/", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["detail"].startswith("JSON parse error")
    nan = await local_http.post(
        "/slices/", content=b'{"name": NaN}', headers={"Content-Type": "application/json"}
    )
    assert nan.status_code == 400
    # Well under 1 MiB, but nested past the decoder's recursion limit.
    deep = b'{"name": "x", "dataset": "%s", "filter": %s%s}' % (
        DEMO_DATASET_UID.encode(),
        b"[" * 100_000,
        b"]" * 100_000,
    )
    nested = await local_http.post(
        "/slices/", content=deep, headers={"Content-Type": "application/json"}
    )
    assert nested.status_code == 400
    assert nested.json() == {"detail": "JSON parse error - nested too deeply"}
    listing = await local_http.post("/slices/", json=[1, 2])
    assert listing.status_code == 400
    assert listing.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"limit": "abc"}, {"limit": ["A valid integer is required."]}),
        ({"limit": "0"}, {"limit": ["Ensure this value is between 1 and 1000."]}),
        ({"limit": "1001"}, {"limit": ["Ensure this value is between 1 and 1000."]}),
        (
            {"ordering": "size"},
            {
                "ordering": [
                    "Unknown ordering 'size'; expected one of name, -name, created_at, "
                    "-created_at, updated_at, -updated_at, item_count, -item_count."
                ]
            },
        ),
        ({"cursor": "!!!"}, {"cursor": ["Invalid cursor."]}),
        ({"cursor": "eyJvIjoibmFtZSJ9"}, {"cursor": ["Invalid cursor."]}),
    ],
)
async def test_malformed_query_parameters(
    local_http: httpx.AsyncClient, params: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = await local_http.get(f"/slices/{DEMO_ORG}/list/", params=params)
    assert response.status_code == 400
    assert response.json() == errors


async def test_unknown_query_parameters_are_ignored(local_http: httpx.AsyncClient) -> None:
    response = await local_http.get(f"/slices/{DEMO_ORG}/list/", params={"colour": "blue"})
    assert response.status_code == 200
    assert response.json()["count"] == DEMO_ORG_SLICE_COUNT


async def test_cursor_of_another_ordering_is_refused(local_http: httpx.AsyncClient) -> None:
    page = (await local_http.get(f"/slices/{DEMO_ORG}/list/", params={"limit": 2})).json()
    cursor = httpx.URL(page["next"]).params["cursor"]
    response = await local_http.get(
        f"/slices/{DEMO_ORG}/list/", params={"cursor": cursor, "ordering": "name"}
    )
    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor."]}


async def test_item_counts_follow_added_and_removed_items(
    local_app: Starlette, local_http: httpx.AsyncClient
) -> None:
    from avala_mcp.embedded.store import NewItem

    store = app_store(local_app)
    dataset = store.dataset(DEMO_DATASET_UID)
    assert dataset is not None
    new = [
        NewItem(f"extra/{n}.jpg", None, '{"time_of_day": "night", "weather": "rain"}')
        for n in range(5)
    ] + [NewItem("extra/day.jpg", None, '{"time_of_day": "day"}')]
    assert store.add_items(dataset, new) == 6
    night = (await local_http.get(f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/")).json()
    assert night["item_count"] == DEMO_NIGHT_COUNT + 5
    whole = (await local_http.get(f"/slices/{DEMO_ORG}/all-driving-scenes/")).json()
    assert whole["item_count"] == DEMO_ITEM_COUNT + 6
    assert store.remove_items(dataset, ["extra/0.jpg", "extra/day.jpg", "absent"]) == 2
    night = (await local_http.get(f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/")).json()
    assert night["item_count"] == DEMO_NIGHT_COUNT + 4
    whole = (await local_http.get(f"/slices/{DEMO_ORG}/all-driving-scenes/")).json()
    assert whole["item_count"] == DEMO_ITEM_COUNT + 4


async def test_rate_limit(local_db_path: Path, local_api_key: str) -> None:
    app = create_app(local_db_path, api_key=local_api_key, rate_limit=3)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver/api/v1",
            headers={"X-Avala-Api-Key": local_api_key},
        ) as client:
            answers = [await client.get(f"/slices/{DEMO_ORG}/list/") for _ in range(4)]
            anonymous = await client.get(
                f"/slices/{DEMO_ORG}/list/", headers={"X-Avala-Api-Key": ""}
            )
    finally:
        close_app(app)
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert {answer.headers["X-RateLimit-Limit"] for answer in answers} == {"3"}
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) >= 1
    assert int(refused.headers["X-RateLimit-Reset"]) >= 1
    assert refused.json()["detail"].startswith("Request was throttled.")
    # Another caller has its own allowance.
    assert anonymous.status_code == 401
    assert anonymous.headers["X-RateLimit-Remaining"] == "2"


async def test_made_up_keys_share_their_clients_bucket(
    local_db_path: Path, local_api_key: str
) -> None:
    app = create_app(local_db_path, api_key=local_api_key, rate_limit=3)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver/api/v1"
        ) as client:
            guesses = [
                await client.get(f"/slices/{DEMO_ORG}/list/", headers={"X-Avala-Api-Key": f"k{n}"})
                for n in range(200)
            ]
            valid = await client.get(
                f"/slices/{DEMO_ORG}/list/", headers={"X-Avala-Api-Key": local_api_key}
            )
        held = len(app.state.limiter)
    finally:
        close_app(app)
    assert [guess.status_code for guess in guesses] == [401] * 3 + [429] * 197
    # The valid key has its own allowance; the guesses left one bucket (their client's), not 200.
    assert valid.status_code == 200
    assert held == 2


async def test_no_rate_limit_headers_when_off(local_http: httpx.AsyncClient) -> None:
    response = await local_http.get(f"/slices/{DEMO_ORG}/list/")
    assert "X-RateLimit-Limit" not in response.headers


def test_keys_are_stored_hashed(
    local_app: Starlette, local_db_path: Path, local_api_key: str
) -> None:
    close_app(local_app)
    assert local_api_key.encode() not in local_db_path.read_bytes()
    with sqlite3.connect(local_db_path) as conn:
        stored = [row[0] for row in conn.execute("SELECT key_hash FROM api_keys")]
    conn.close()
    assert stored
    assert local_api_key not in stored


def test_reopening_keeps_data_and_demo_is_not_duplicated(local_db_path: Path) -> None:
    store = Store(local_db_path)
    try:
        owner = store.owner(DEMO_ORG)
        assert owner is not None
        assert store.count_slices("owner", owner.id) == DEMO_ORG_SLICE_COUNT
    finally:
        store.close()


def test_demo_data_is_deterministic(tmp_path: Path) -> None:
    first = Store(tmp_path / "one.sqlite3")
    second = Store(tmp_path / "two.sqlite3")
    try:
        a = first.dataset(DEMO_DATASET_UID)
        b = second.dataset(DEMO_DATASET_UID)
        assert a is not None
        assert b is not None
        piece_a = first.get_slice(a.owner.id, DEMO_SLICE_SLUG)
        piece_b = second.get_slice(b.owner.id, DEMO_SLICE_SLUG)
        assert piece_a is not None
        assert piece_b is not None
        assert first.slice_items(piece_a, None, 1000) == second.slice_items(piece_b, None, 1000)
    finally:
        first.close()
        second.close()


def test_unopenable_paths_and_non_databases_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the database"):
        Store(tmp_path)  # a directory
    garbage = tmp_path / "notes.txt"
    garbage.write_bytes(b"just some text, not SQLite at all" * 100)
    with pytest.raises(StoreError, match="file is not a database"):
        Store(garbage)
    assert garbage.read_bytes() == b"just some text, not SQLite at all" * 100


def test_newer_or_foreign_databases_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="schema version 99 is newer"):
        Store(newer)
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.close()
    with pytest.raises(StoreError, match="not an avala-mcp database"):
        Store(foreign)
    with sqlite3.connect(foreign) as conn:
        assert conn.execute("SELECT body FROM notes").fetchall() == [("keep me",)]
    conn.close()


def test_new_uids_are_random_version_4_uuids() -> None:
    from avala_mcp.embedded.store import new_uid

    uids = {new_uid() for _ in range(500)}
    assert len(uids) == 500
    for text in uids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


async def test_a_locked_database_is_503_not_a_crash(
    local_db_path: Path, local_api_key: str
) -> None:
    app = create_app(local_db_path, api_key=local_api_key)
    blocker = sqlite3.connect(local_db_path, isolation_level=None)
    try:
        # Another process's long write transaction (an import) holds the lock.
        blocker.execute("BEGIN IMMEDIATE")
        store = app_store(app)
        store._writer.execute("PRAGMA busy_timeout = 0")  # fail at once instead of waiting
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver/api/v1",
            headers={"X-Avala-Api-Key": local_api_key},
        ) as client:
            write = await client.post("/slices/", json={"name": "x", "dataset": DEMO_DATASET_UID})
            read = await client.get(f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        close_app(app)
    assert write.status_code == 503
    assert write.headers["Retry-After"] == "5"
    assert "busy" in write.json()["detail"]
    assert read.status_code == 200  # readers are never blocked by the writer (WAL)


async def test_a_waiting_write_never_blocks_the_event_loop(
    local_app: Starlette, local_db_path: Path, local_http: httpx.AsyncClient
) -> None:
    import anyio

    blocker = sqlite3.connect(local_db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process's write transaction holds the lock
    released = False
    try:
        async with anyio.create_task_group() as group:
            answers: list[httpx.Response] = []

            async def create() -> None:
                body = {"name": "Patient", "dataset": DEMO_DATASET_UID}
                answers.append(await local_http.post("/slices/", json=body))

            group.start_soon(create)
            await anyio.wait_all_tasks_blocked()
            # The create waits on SQLite's lock in a worker thread; reads still get answers.
            read = await local_http.get(f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/")
            assert read.status_code == 200
            assert answers == []
            blocker.execute("ROLLBACK")
            released = True
    finally:
        if not released:
            blocker.execute("ROLLBACK")
        blocker.close()
    assert [answer.status_code for answer in answers] == [201]
