"""AvalaClient on httpx.MockTransport: endpoints, errors, pagination, retries, safety, secrecy."""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from avala_mcp.client import AvalaClient
from avala_mcp.client.errors import (
    AuthenticationError,
    AvalaError,
    ConflictError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
    failure_payload,
)
from avala_mcp.client.models import Slice, SliceItem
from avala_mcp.settings import Settings

pytestmark = pytest.mark.anyio

CANARY = "sk-canary-7d3f2a9c41"
BASE = "https://api.avala.ai/api/v1"
DATASET = "550e8400-e29b-41d4-a716-446655440000"
NOW = datetime(2026, 11, 30, 14, 0, 0, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


def slice_json(slug: str = "night-driving-scenes", **extra: Any) -> dict[str, Any]:
    return {
        "uid": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "name": "Night Driving Scenes",
        "slug": slug,
        "description": "Images captured in low-light driving conditions",
        "item_count": 340,
        "created_at": "2025-03-15T08:30:00Z",
        "updated_at": "2025-03-16T12:00:00Z",
        **extra,
    }


def item_json(number: int) -> dict[str, Any]:
    return {
        "uid": f"item-{number}",
        "key": f"frames/{number:05d}.jpg",
        "dataset": DATASET,
        "url": f"https://cdn.example.com/{number}.jpg",
        "metadata": {"time_of_day": "night", "pedestrians": number % 3},
        "created_at": "2025-03-15T08:30:00Z",
        "updated_at": "2025-03-15T08:30:00Z",
    }


class FakeApi:
    """A MockTransport handler that records every request and answers from a script."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


class Waits:
    """An injected sleep that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@asynccontextmanager
async def client_for(
    api: Handler, waits: Waits | None = None, **options: Any
) -> AsyncIterator[AvalaClient]:
    options.setdefault("jitter", lambda: 0.5)
    async with AvalaClient(
        CANARY,
        options.pop("base_url", BASE),
        transport=httpx.MockTransport(api),
        sleep=waits if waits is not None else Waits(),
        now=lambda: NOW,
        **options,
    ) as client:
        yield client


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


# ----------------------------------------------------------------------------------- endpoints


async def test_list_slices_request_and_page() -> None:
    api = FakeApi(
        httpx.Response(
            200,
            json={
                "count": 12,
                "next": f"{BASE}/slices/acme-ai/list/?cursor=cD0yMDI1&limit=5",
                "previous": None,
                "results": [slice_json(owner_name="acme-ai", visibility="private")],
            },
        )
    )
    async with client_for(api) as client:
        page = await client.list_slices("acme-ai", ordering="-created_at", cursor="abc", limit=5)
    request = api.last
    assert request.method == "GET"
    assert request.url.path == "/api/v1/slices/acme-ai/list/"
    assert dict(request.url.params) == {"ordering": "-created_at", "cursor": "abc", "limit": "5"}
    assert request.headers["X-Avala-Api-Key"] == CANARY
    assert request.headers["Accept"] == "application/json"
    assert page.count == 12
    assert page.next_cursor == "cD0yMDI1"
    assert page.previous_cursor is None
    assert page.results == [
        Slice.model_validate(slice_json(owner_name="acme-ai", visibility="private"))
    ]
    assert page.results[0].item_count == 340
    assert page.results[0].model_extra == {"owner_name": "acme-ai", "visibility": "private"}


async def test_list_slices_sends_no_query_by_default() -> None:
    api = FakeApi(httpx.Response(200, json={"count": 0, "next": None, "results": []}))
    async with client_for(api) as client:
        page = await client.list_slices("acme-ai")
    assert api.last.url == httpx.URL(f"{BASE}/slices/acme-ai/list/")
    assert (page.count, page.results, page.next_cursor) == (0, [], None)


async def test_list_dataset_slices_request() -> None:
    api = FakeApi(httpx.Response(200, json={"count": 1, "next": None, "results": [slice_json()]}))
    async with client_for(api) as client:
        page = await client.list_dataset_slices(DATASET.upper(), ordering="name", limit=1000)
    assert api.last.method == "GET"
    assert api.last.url.path == f"/api/v1/slices/dataset/{DATASET}/"
    assert dict(api.last.url.params) == {"ordering": "name", "limit": "1000"}
    assert page.results[0].slug == "night-driving-scenes"


async def test_get_slice_request() -> None:
    api = FakeApi(httpx.Response(200, json=slice_json(owner="acme-ai", dataset=DATASET)))
    async with client_for(api) as client:
        found = await client.get_slice("acme-ai", "night-driving-scenes")
    assert (api.last.method, api.last.url.path) == (
        "GET",
        "/api/v1/slices/acme-ai/night-driving-scenes/",
    )
    assert api.last.url.query == b""
    assert (found.item_count, found.owner, found.dataset) == (340, "acme-ai", DATASET)


async def test_create_slice_request_with_every_field() -> None:
    rule = {"field": "metadata.time_of_day", "op": "eq", "value": "night"}
    api = FakeApi(httpx.Response(201, json=slice_json(item_count=0, filter=rule)))
    async with client_for(api) as client:
        created = await client.create_slice(
            name="Night Driving Scenes", dataset=DATASET, description="low light", filter=rule
        )
    assert (api.last.method, api.last.url.path) == ("POST", "/api/v1/slices/")
    assert api.last.headers["Content-Type"] == "application/json"
    assert body_of(api.last) == {
        "name": "Night Driving Scenes",
        "dataset": DATASET,
        "description": "low light",
        "filter": rule,
    }
    assert created.filter == rule
    assert created.item_count == 0


async def test_create_slice_sends_only_what_is_given() -> None:
    api = FakeApi(httpx.Response(201, json=slice_json(item_count=0)))
    async with client_for(api) as client:
        await client.create_slice(name="Night", dataset=DATASET)
    assert body_of(api.last) == {"name": "Night", "dataset": DATASET}


async def test_list_slice_items_request() -> None:
    api = FakeApi(
        httpx.Response(
            200,
            json={
                "count": 340,
                "next": f"{BASE}/slices/acme-ai/night/items/list/?cursor=Y3Vy&limit=2",
                "previous": f"{BASE}/slices/acme-ai/night/items/list/?cursor=cHJl&limit=2",
                "results": [item_json(1), item_json(2)],
            },
        )
    )
    async with client_for(api) as client:
        page = await client.list_slice_items("acme-ai", "night", cursor="abc", limit=2)
    assert (api.last.method, api.last.url.path) == (
        "GET",
        "/api/v1/slices/acme-ai/night/items/list/",
    )
    assert dict(api.last.url.params) == {"cursor": "abc", "limit": "2"}
    assert (page.count, page.next_cursor, page.previous_cursor) == (340, "Y3Vy", "cHJl")
    assert page.results == [SliceItem.model_validate(item_json(n)) for n in (1, 2)]
    assert page.results[0].metadata == {"time_of_day": "night", "pedestrians": 1}


async def test_validate_slice_name_valid() -> None:
    answer = {"name": "Night Driving Scenes", "slug": "night-driving-scenes", "valid": True}
    api = FakeApi(httpx.Response(200, json=answer))
    async with client_for(api) as client:
        verdict = await client.validate_slice_name("Night Driving Scenes", dataset=DATASET)
    assert (api.last.method, api.last.url.path) == ("POST", "/api/v1/slice/validate/name")
    assert body_of(api.last) == {"name": "Night Driving Scenes", "dataset": DATASET}
    assert (verdict.valid, verdict.slug, verdict.reasons) == (True, "night-driving-scenes", [])


@pytest.mark.parametrize(
    "body",
    [
        {"name": ["A slice with this name already exists in this dataset."]},
        {"detail": {"name": ["A slice with this name already exists in this dataset."]}},
    ],
)
async def test_validate_slice_name_invalid_is_an_answer(body: dict[str, Any]) -> None:
    api = FakeApi(httpx.Response(400, json=body))
    async with client_for(api) as client:
        verdict = await client.validate_slice_name("Night Driving Scenes")
    assert body_of(api.last) == {"name": "Night Driving Scenes"}
    assert verdict.valid is False
    assert verdict.name == "Night Driving Scenes"
    assert verdict.reasons == ["A slice with this name already exists in this dataset."]


async def test_validate_slice_name_prefixes_other_fields_in_reasons() -> None:
    body = {"name": ["Ensure this field has no more than 255 characters."], "dataset": ["Bad."]}
    async with client_for(FakeApi(httpx.Response(400, json=body))) as client:
        verdict = await client.validate_slice_name("x" * 300)
    assert verdict.reasons == [
        "Ensure this field has no more than 255 characters.",
        "dataset: Bad.",
    ]


async def test_validate_slice_name_other_failures_still_raise() -> None:
    api = FakeApi(httpx.Response(400, json={"detail": "Malformed JSON."}))
    async with client_for(api) as client:
        with pytest.raises(ValidationError, match="Malformed JSON"):
            await client.validate_slice_name("Night")
    api = FakeApi(httpx.Response(401, json={"detail": "Invalid API key."}))
    async with client_for(api) as client:
        with pytest.raises(AuthenticationError):
            await client.validate_slice_name("Night")


async def test_delete_slice_request() -> None:
    api = FakeApi(httpx.Response(204))
    async with client_for(api) as client:
        await client.delete_slice("acme-ai", "night-driving-scenes")  # no exception: deleted
    assert (api.last.method, api.last.url.path) == (
        "DELETE",
        "/api/v1/slices/acme-ai/night-driving-scenes/",
    )
    assert api.last.content == b""


# ------------------------------------------------------------------------------ status mapping


@pytest.mark.parametrize(
    ("status", "body", "error_class", "message"),
    [
        (400, {"name": ["This field is required."]}, ValidationError, "invalid name"),
        (401, {"detail": "Invalid API key."}, AuthenticationError, "Invalid API key."),
        (403, {"detail": "You do not have permission."}, PermissionDeniedError, "permission"),
        (404, {"detail": "Not found."}, NotFoundError, "Not found."),
        (409, {"detail": "Duplicate name.", "code": "duplicate"}, ConflictError, "Duplicate"),
        (429, {"detail": "Throttled."}, RateLimitError, "Throttled."),
        (500, {"detail": "Boom."}, ServerError, "Boom."),
        (502, "<html>Bad Gateway</html>", ServerError, r"502 Bad Gateway \(non-JSON response\)"),
        (405, {"detail": 'Method "PUT" not allowed.'}, ServerError, "not allowed"),
    ],
)
async def test_every_status_maps_through_the_client(
    status: int, body: Any, error_class: type[AvalaError], message: str
) -> None:
    answer = (
        httpx.Response(status, text=body)
        if isinstance(body, str)
        else httpx.Response(status, json=body)
    )
    api = FakeApi(answer)
    async with client_for(api, max_retries=0) as client:
        with pytest.raises(error_class, match=message) as caught:
            await client.get_slice("acme-ai", "night")
    assert caught.value.status == status
    assert len(api.requests) == 1


async def test_a_redirect_is_not_followed() -> None:
    api = FakeApi(httpx.Response(302, headers={"Location": "https://elsewhere.example.com/x"}))
    async with client_for(api) as client:
        with pytest.raises(ServerError, match="302") as caught:
            await client.get_slice("acme-ai", "night")
    assert caught.value.status == 302
    assert [request.url.host for request in api.requests] == ["api.avala.ai"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(200, text="<html>hello</html>"), "not JSON"),
        (httpx.Response(200, json={"uid": "x"}), "not a valid Slice: name: Field required"),
        (httpx.Response(200, json=[1, 2]), "not a valid Slice"),
    ],
)
async def test_an_unusable_success_body_is_a_server_error(
    answer: httpx.Response, message: str
) -> None:
    async with client_for(FakeApi(answer)) as client:
        with pytest.raises(ServerError, match=message):
            await client.get_slice("acme-ai", "night")


async def test_a_page_without_results_is_a_server_error() -> None:
    async with client_for(FakeApi(httpx.Response(200, json={"detail": "ok"}))) as client:
        with pytest.raises(ServerError, match="without a page of results"):
            await client.list_slices("acme-ai")


# ---------------------------------------------------------------------------------- pagination


def cursor_api(total: int, *, style: str = "cursor", relative: bool = False) -> FakeApi:
    """A paginated items endpoint over ``total`` items, linking pages by cursor, page or offset."""

    def answer(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        limit = int(params.get("limit", "10"))
        if style == "cursor":
            start = int(base64.b64decode(params["cursor"])) if "cursor" in params else 0
        elif style == "page":
            start = (int(params.get("page", "1")) - 1) * limit
        else:
            start = int(params.get("offset", "0"))
        end = min(start + limit, total)

        def link(position: int) -> str:
            if style == "cursor":
                query = f"cursor={base64.b64encode(str(position).encode()).decode()}"
            elif style == "page":
                query = f"page={position // limit + 1}"
            else:
                query = f"offset={position}"
            path = "" if relative else f"{BASE}/slices/acme-ai/night/items/list/"
            return f"{path}?{query}&limit={limit}"

        return httpx.Response(
            200,
            json={
                "count": total,
                "next": link(end) if end < total else None,
                "previous": link(max(0, start - limit)) if start > 0 else None,
                "results": [item_json(n) for n in range(start, end)],
            },
        )

    return FakeApi(answer)


@pytest.mark.parametrize("style", ["cursor", "page", "offset"])
async def test_next_cursor_round_trips_to_the_end(style: str) -> None:
    api = cursor_api(23, style=style)
    seen: list[str] = []
    cursor: str | None = None
    async with client_for(api) as client:
        while True:
            page = await client.list_slice_items("acme-ai", "night", cursor=cursor, limit=10)
            seen += [item.uid for item in page.results]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert seen == [f"item-{n}" for n in range(23)]
    assert len(api.requests) == 3
    if style != "cursor":
        # The position travels in its own parameter, never as cursor=.
        assert "cursor" not in api.last.url.params
        assert style in api.last.url.params


async def test_page_style_cursor_is_key_equals_value() -> None:
    api = cursor_api(23, style="page")
    async with client_for(api) as client:
        first = await client.list_slice_items("acme-ai", "night", limit=10)
        second = await client.list_slice_items(
            "acme-ai", "night", cursor=first.next_cursor, limit=10
        )
    assert first.next_cursor == "page=2"
    assert dict(api.last.url.params) == {"page": "2", "limit": "10"}
    assert second.previous_cursor == "page=1"
    assert second.results[0].uid == "item-10"


async def test_relative_next_links_are_resolved() -> None:
    async with client_for(cursor_api(15, relative=True)) as client:
        items = [item.uid async for item in client.iter_slice_items("acme-ai", "night", limit=10)]
    assert items == [f"item-{n}" for n in range(15)]


async def test_iter_slice_items_walks_every_page_lazily() -> None:
    api = cursor_api(340)
    async with client_for(api) as client:
        walk = client.iter_slice_items("acme-ai", "night")
        first = await walk.__anext__()
        assert first.uid == "item-0"
        assert len(api.requests) == 1  # only the first page is fetched so far
        rest = [item.uid async for item in walk]
    assert rest == [f"item-{n}" for n in range(1, 340)]
    assert len(api.requests) == 4  # 100 per page by default
    assert all(request.url.params["limit"] == "100" for request in api.requests)


async def test_iter_slices_and_iter_dataset_slices_walk_to_the_end() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("cursor", "0"))
        return httpx.Response(
            200,
            json={
                "count": 3,
                "next": f"{BASE}{request.url.path[len('/api/v1') :]}?cursor={number + 1}"
                if number < 2
                else None,
                "results": [slice_json(slug=f"s-{number}")],
            },
        )

    api = FakeApi(answer)
    async with client_for(api) as client:
        owned = [s.slug async for s in client.iter_slices("acme-ai", ordering="name", limit=1)]
        of_dataset = [s.slug async for s in client.iter_dataset_slices(DATASET, limit=1)]
    assert owned == of_dataset == ["s-0", "s-1", "s-2"]
    assert {request.url.path for request in api.requests} == {
        "/api/v1/slices/acme-ai/list/",
        f"/api/v1/slices/dataset/{DATASET}/",
    }
    assert api.requests[0].url.params["ordering"] == "name"


async def test_a_repeating_cursor_stops_the_walk() -> None:
    stuck = {"count": 9, "next": f"{BASE}/slices/acme-ai/list/?cursor=same", "results": []}
    api = FakeApi(httpx.Response(200, json=stuck))
    async with client_for(api) as client:
        with pytest.raises(ServerError, match=r"cycle.*'same'"):
            [found async for found in client.iter_slices("acme-ai")]
    assert len(api.requests) == 2


@pytest.mark.parametrize(
    ("cycle", "requests"),
    [
        (["A", "B", "A"], 3),
        (["A", "B", "C", "B"], 4),  # a cycle that does not go back to the start
        (["page=2", "page=3", "page=2"], 3),  # page numbers too
    ],
)
async def test_a_cycle_of_cursors_stops_the_walk(cycle: list[str], requests: int) -> None:
    """Only an immediate repeat was caught: A -> B -> A walked forever."""
    following = dict(zip([None, *cycle[:-1]], cycle, strict=True))

    def answer(request: httpx.Request) -> httpx.Response:
        if len(api.requests) > 20:  # a regression walks forever: end it with another error
            return httpx.Response(500)
        params = request.url.params
        here = next((f"{key}={params[key]}" for key in ("page",) if key in params), None)
        here = params.get("cursor", here)
        link = f"{BASE}/slices/acme-ai/list/?" + (
            following[here] if "=" in following[here] else f"cursor={following[here]}"
        )
        return httpx.Response(200, json={"count": 9, "next": link, "results": [slice_json()]})

    api = FakeApi(answer)
    async with client_for(api) as client:
        with pytest.raises(ServerError, match=f"cycle.*'{cycle[-1]}', already read") as caught:
            [found async for found in client.iter_slices("acme-ai")]
    assert len(api.requests) == requests
    assert caught.value.type == "server_error"


@pytest.mark.parametrize(
    ("link", "position"),
    [
        # Avala's seed example: next links on server.avala.ai while the API is api.avala.ai.
        ("https://server.avala.ai/api/v1/slices/acme-ai/list/?cursor=abc", {"cursor": "abc"}),
        # A TLS-terminating proxy: the API believes it is served over http.
        ("http://api.avala.ai/api/v1/slices/acme-ai/list/?cursor=abc", {"cursor": "abc"}),
        ("https://api.avala.ai:8443/api/v1/slices/acme-ai/list/?page=2", {"page": "2"}),
        ("//evil.example.com/api/v1/slices/acme-ai/list/?offset=100&limit=100", {"offset": "100"}),
    ],
)
async def test_a_next_link_on_another_origin_is_asked_of_the_base_url(
    link: str, position: dict[str, str]
) -> None:
    """Only the link's position is used; the request, and the key, go to the base URL only."""

    def answer(request: httpx.Request) -> httpx.Response:
        last = any(key in request.url.params for key in position)
        page = {"count": 2, "next": None if last else link, "results": [slice_json()]}
        return httpx.Response(200, json=page)

    api = FakeApi(answer)
    async with client_for(api) as client:
        first = await client.list_slices("acme-ai")
        assert first.next_cursor is not None
        again = await client.list_slices("acme-ai", cursor=first.next_cursor)
        walked = [found async for found in client.iter_slices("acme-ai")]
    assert again.next_cursor is None
    assert len(walked) == 2
    assert len(api.requests) == 4
    for request in api.requests:
        assert (request.url.scheme, request.url.host, request.url.port) == (
            "https",
            "api.avala.ai",
            None,
        )
        assert request.url.path == "/api/v1/slices/acme-ai/list/"
        assert request.headers["X-Avala-Api-Key"] == CANARY
    for request in (api.requests[1], api.requests[3]):
        assert {key: request.url.params[key] for key in position} == position


async def test_an_explicit_default_port_is_the_same_origin() -> None:
    link = "https://api.avala.ai:443/api/v1/slices/acme-ai/list/?cursor=abc"
    api = FakeApi(httpx.Response(200, json={"count": 2, "next": link, "results": []}))
    async with client_for(api) as client:
        assert (await client.list_slices("acme-ai")).next_cursor == "abc"


async def test_a_next_link_without_a_position_is_a_server_error() -> None:
    link = f"{BASE}/slices/acme-ai/list/?limit=10"
    api = FakeApi(httpx.Response(200, json={"count": 2, "next": link, "results": []}))
    async with client_for(api) as client:
        with pytest.raises(ServerError, match="no cursor, page or offset"):
            await client.list_slices("acme-ai")


def nested(depth: int, leaf: bytes = b"1") -> bytes:
    return b'{"a":' * depth + leaf + b"}" * depth


@pytest.mark.parametrize("depth", [70, 900, 100_000])
async def test_a_deeply_nested_answer_is_a_malformed_answer(depth: int) -> None:
    """Past the recursion limit it raised a bare RecursionError; under it, it was read, as deep
    as no reader of it (validation, redaction, a tool result) is built for."""
    slice_body = json.dumps(slice_json())[:-1].encode() + b', "extra": ' + nested(depth) + b"}"
    item = (
        json.dumps(item_json(1))
        .encode()
        .replace(b'"metadata": {', b'"metadata": ' + nested(depth) + b', "x": {', 1)
    )
    page = b'{"count": 1, "next": null, "results": [' + item + b"]}"
    api = FakeApi(httpx.Response(200, content=slice_body), httpx.Response(200, content=page))
    async with client_for(api) as client:
        with pytest.raises(ServerError, match="malformed: nested deeper than 64 levels") as got:
            await client.get_slice("acme-ai", "night")
        assert got.value.status == 200
        with pytest.raises(ServerError, match="malformed: nested deeper than 64 levels"):
            await client.list_slice_items("acme-ai", "night")


async def test_an_answer_nested_within_the_bound_is_read() -> None:
    item = item_json(1)
    deep: Any = "leaf"
    for _ in range(60):  # the page, its results, the item and metadata add 4 levels: 64 in all
        deep = {"a": deep}
    item["metadata"] = deep
    api = FakeApi(httpx.Response(200, json={"count": 1, "next": None, "results": [item]}))
    async with client_for(api) as client:
        page = await client.list_slice_items("acme-ai", "night")
    assert page.results[0].metadata == deep


async def test_a_deeply_nested_filter_is_refused_before_sending() -> None:
    deep: dict[str, Any] = {"field": "x", "op": "eq", "value": 1}
    for _ in range(5000):
        deep = {"not": deep}
    api = FakeApi(httpx.Response(201, json=slice_json()))
    async with client_for(api) as client:
        with pytest.raises(InvalidInputError, match="nested too deeply") as caught:
            await client.create_slice(name="Deep", dataset=DATASET, filter=deep)
    assert caught.value.fields == {"filter": ["expected a JSON object; it is nested too deeply"]}
    assert api.requests == []


# ------------------------------------------------------------------------------------- retries


async def test_get_retries_503_with_jittered_exponential_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    api = FakeApi(httpx.Response(503), httpx.Response(503), httpx.Response(200, json=slice_json()))
    waits = Waits()
    async with client_for(api, waits) as client:
        found = await client.get_slice("acme-ai", "night")
    assert found.slug == "night-driving-scenes"
    assert len(api.requests) == 3
    assert waits.seconds == [0.25, 0.5]  # jitter 0.5 of 0.5 s, then of 1 s
    retries = [record for record in caplog.records if "retry" in record.getMessage()]
    assert [record.levelno for record in retries] == [logging.DEBUG, logging.DEBUG]
    assert "GET slices/acme-ai/night/" in retries[0].getMessage()
    assert "retry 1 of 3 in 0.25 s" in retries[0].getMessage()


async def test_backoff_grows_to_its_cap() -> None:
    api = FakeApi(httpx.Response(502))
    waits = Waits()
    async with client_for(
        api, waits, jitter=lambda: 1.0, max_retries=6, max_retry_wait=100.0
    ) as client:
        with pytest.raises(ServerError):
            await client.get_slice("acme-ai", "night")
    assert waits.seconds == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert len(api.requests) == 7


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_get_gives_up_after_max_retries(status: int) -> None:
    api = FakeApi(httpx.Response(status, json={"detail": "busy"}))
    waits = Waits()
    async with client_for(api, waits) as client:
        with pytest.raises(AvalaError) as caught:
            await client.list_slices("acme-ai")
    assert caught.value.status == status
    assert caught.value.retryable is True
    assert len(api.requests) == 4
    assert len(waits.seconds) == 3


async def test_no_retry_when_max_retries_is_zero() -> None:
    api = FakeApi(httpx.Response(503))
    waits = Waits()
    async with client_for(api, waits, max_retries=0) as client:
        with pytest.raises(ServerError):
            await client.list_slices("acme-ai")
    assert (len(api.requests), waits.seconds) == (1, [])


async def test_retry_after_in_seconds_is_honoured() -> None:
    throttled = httpx.Response(429, json={"detail": "Throttled."}, headers={"Retry-After": "7"})
    api = FakeApi(throttled, httpx.Response(200, json=slice_json()))
    waits = Waits()
    async with client_for(api, waits) as client:
        await client.get_slice("acme-ai", "night")
    assert waits.seconds == [7.0]


async def test_retry_after_as_http_date_is_honoured() -> None:
    throttled = httpx.Response(429, headers={"Retry-After": "Mon, 30 Nov 2026 14:00:12 GMT"})
    api = FakeApi(throttled, httpx.Response(200, json=slice_json()))
    waits = Waits()
    async with client_for(api, waits) as client:
        await client.get_slice("acme-ai", "night")
    assert waits.seconds == [12.0]


async def test_waits_are_capped_by_the_budget() -> None:
    throttled = httpx.Response(429, headers={"Retry-After": "20"})
    api = FakeApi(throttled)
    waits = Waits()
    async with client_for(api, waits) as client:  # default budget: 30 s
        with pytest.raises(RateLimitError) as caught:
            await client.list_slices("acme-ai")
    assert waits.seconds == [20.0]  # a second 20 s wait would pass 30 s
    assert len(api.requests) == 2
    assert caught.value.retry_after == 20.0


async def test_a_retry_after_beyond_the_budget_is_not_waited() -> None:
    api = FakeApi(httpx.Response(429, headers={"Retry-After": "120"}))
    waits = Waits()
    async with client_for(api, waits, max_retry_wait=10.0) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.list_slices("acme-ai")
    assert (len(api.requests), waits.seconds) == (1, [])
    assert caught.value.retry_after == 120.0
    assert failure_payload(caught.value)["error"]["retry_after"] == 120.0


async def test_get_does_not_retry_500() -> None:
    api = FakeApi(httpx.Response(500, json={"detail": "Boom."}))
    async with client_for(api) as client:
        with pytest.raises(ServerError, match="Boom"):
            await client.get_slice("acme-ai", "night")
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("Connection refused"),
        httpx.ConnectTimeout("timed out"),
        httpx.ReadTimeout("timed out"),
        httpx.ReadError("Connection reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
async def test_get_retries_network_errors(failure: Exception) -> None:
    api = FakeApi(failure, httpx.Response(200, json=slice_json()))
    waits = Waits()
    async with client_for(api, waits) as client:
        assert (await client.get_slice("acme-ai", "night")).slug == "night-driving-scenes"
    assert len(api.requests) == 2
    assert waits.seconds == [0.25]


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (httpx.ConnectError("Connection refused"), "could not connect to api.avala.ai"),
        (httpx.ReadTimeout("timed out"), "api.avala.ai did not answer within 30 s"),
        (httpx.ReadError("reset"), "the connection to api.avala.ai failed: reset"),
    ],
)
async def test_network_errors_become_network_error(failure: Exception, message: str) -> None:
    api = FakeApi(failure)
    async with client_for(api) as client:
        with pytest.raises(NetworkError) as caught:
            await client.list_slices("acme-ai")
    assert str(caught.value).startswith(message)
    assert caught.value.retryable is True
    assert caught.value.status is None
    assert caught.value.__cause__ is None
    assert len(api.requests) == 4


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_post_is_not_retried_when_the_server_may_have_acted(status: int) -> None:
    api = FakeApi(httpx.Response(status))
    waits = Waits()
    async with client_for(api, waits) as client:
        with pytest.raises(ServerError):
            await client.create_slice(name="Night", dataset=DATASET)
    assert (len(api.requests), waits.seconds) == (1, [])


async def test_post_is_not_retried_on_503_without_retry_after() -> None:
    api = FakeApi(httpx.Response(503))
    async with client_for(api) as client:
        with pytest.raises(ServerError):
            await client.validate_slice_name("Night")
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("timed out"), httpx.ReadError("reset"), httpx.WriteError("x")]
)
async def test_post_is_not_retried_after_a_failure_mid_request(failure: Exception) -> None:
    api = FakeApi(failure)
    async with client_for(api) as client:
        with pytest.raises(NetworkError):
            await client.create_slice(name="Night", dataset=DATASET)
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    "first",
    [
        httpx.Response(429, json={"detail": "Throttled."}),
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(503, headers={"Retry-After": "2"}),
        httpx.ConnectError("Connection refused"),
        httpx.ConnectTimeout("timed out"),
    ],
)
async def test_post_is_retried_where_the_server_did_not_act(first: Any) -> None:
    api = FakeApi(first, httpx.Response(201, json=slice_json(item_count=0)))
    waits = Waits()
    async with client_for(api, waits) as client:
        created = await client.create_slice(name="Night", dataset=DATASET)
    assert created.item_count == 0
    assert len(api.requests) == 2
    assert [body_of(request) for request in api.requests] == [
        {"name": "Night", "dataset": DATASET}
    ] * 2
    assert len(waits.seconds) == 1


async def test_delete_is_retried_and_a_404_after_a_lost_answer_means_deleted() -> None:
    api = FakeApi(httpx.ReadError("reset"), httpx.Response(404, json={"detail": "Not found."}))
    async with client_for(api) as client:
        await client.delete_slice("acme-ai", "night")  # no NotFoundError: deleted
    assert [request.method for request in api.requests] == ["DELETE", "DELETE"]


async def test_delete_retries_503_and_a_404_then_is_still_not_found() -> None:
    # A 503 means the server did not act, so a later 404 is a genuine "no such slice".
    api = FakeApi(httpx.Response(503), httpx.Response(404, json={"detail": "Not found."}))
    async with client_for(api) as client:
        with pytest.raises(NotFoundError):
            await client.delete_slice("acme-ai", "night")
    assert len(api.requests) == 2


async def test_delete_of_a_missing_slice_is_not_found() -> None:
    api = FakeApi(httpx.Response(404, json={"detail": "Not found."}))
    async with client_for(api) as client:
        with pytest.raises(NotFoundError, match=r"Not found\."):
            await client.delete_slice("acme-ai", "night")
    assert len(api.requests) == 1


# ---------------------------------------------------------------------- invalid input, no request


BAD_SEGMENTS = ["", "..", "../etc", "a/b", "a b", "café", "x" * 101, "-x", ".x", "a\n", "a?b=c"]


def no_request(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected, got {request.method} {request.url}")


async def invalid(call: Callable[[AvalaClient], Any]) -> InvalidInputError:
    async with client_for(no_request) as client:
        with pytest.raises(InvalidInputError) as caught:
            await call(client)
    error = caught.value
    assert error.type == "invalid_input"
    assert error.status is None
    assert error.retryable is False
    return error


@pytest.mark.parametrize("value", [*BAD_SEGMENTS, None, 7])
async def test_bad_owner_is_refused_for_every_method(value: Any) -> None:
    calls: list[Callable[[AvalaClient], Any]] = [
        lambda c: c.list_slices(value),
        lambda c: c.get_slice(value, "night"),
        lambda c: c.list_slice_items(value, "night"),
        lambda c: c.delete_slice(value, "night"),
        lambda c: anext(c.iter_slices(value)),
        lambda c: anext(c.iter_slice_items(value, "night")),
    ]
    for call in calls:
        error = await invalid(call)
        assert list(error.fields or {}) == ["owner"]
        assert str(error).startswith("invalid owner: got ")


@pytest.mark.parametrize("value", BAD_SEGMENTS)
async def test_bad_slug_is_refused_for_every_method(value: str) -> None:
    calls: list[Callable[[AvalaClient], Any]] = [
        lambda c: c.get_slice("acme-ai", value),
        lambda c: c.list_slice_items("acme-ai", value),
        lambda c: c.delete_slice("acme-ai", value),
    ]
    for call in calls:
        error = await invalid(call)
        assert list(error.fields or {}) == ["slug"]


async def test_words_of_other_endpoints_paths_are_refused() -> None:
    # get_slice(o, "list") would read /slices/o/list/, the owner's listing, and an owner named
    # "dataset" would reach /slices/dataset/{uid}/.
    slug_error = await invalid(lambda c: c.get_slice("acme-ai", "list"))
    owner_error = await invalid(lambda c: c.list_slices("dataset"))
    assert slug_error.fields == {"slug": ["'list' cannot be a slug"]}
    assert owner_error.fields == {"owner": ["'dataset' cannot be an owner"]}


async def test_every_bad_argument_is_named_at_once() -> None:
    error = await invalid(lambda c: c.get_slice("../x", "a/b"))
    assert list(error.fields or {}) == ["owner", "slug"]
    assert "invalid owner" in str(error)
    assert "invalid slug" in str(error)


@pytest.mark.parametrize(
    "value", ["not-a-uuid", DATASET.replace("-", ""), "{" + DATASET + "}", f"{DATASET}\n", "", 1]
)
async def test_bad_dataset_uid_is_refused(value: Any) -> None:
    assert list((await invalid(lambda c: c.list_dataset_slices(value))).fields or {}) == [
        "dataset_uid"
    ]
    assert list(
        (await invalid(lambda c: c.create_slice(name="N", dataset=value))).fields or {}
    ) == ["dataset"]
    assert list(
        (await invalid(lambda c: c.validate_slice_name("N", dataset=value))).fields or {}
    ) == ["dataset"]


@pytest.mark.parametrize("value", [0, -1, 1001, True, "10", 2.5])
async def test_limit_outside_1_to_1000_is_refused(value: Any) -> None:
    for call in (
        lambda c: c.list_slices("acme-ai", limit=value),
        lambda c: c.list_dataset_slices(DATASET, limit=value),
        lambda c: c.list_slice_items("acme-ai", "night", limit=value),
    ):
        error = await invalid(call)
        assert list(error.fields or {}) == ["limit"]
        assert "1 to 1000" in str(error)


@pytest.mark.parametrize("value", ["", "name;drop table", "a b", "-", "x" * 201, 3])
async def test_bad_ordering_is_refused(value: Any) -> None:
    error = await invalid(lambda c: c.list_slices("acme-ai", ordering=value))
    assert list(error.fields or {}) == ["ordering"]


@pytest.mark.parametrize("value", ["", "x" * 5000, "a\nb", 5])
async def test_bad_cursor_is_refused(value: Any) -> None:
    error = await invalid(lambda c: c.list_slice_items("acme-ai", "night", cursor=value))
    assert list(error.fields or {}) == ["cursor"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": None}, "name"),
        ({"name": "N", "description": 5}, "description"),
        ({"name": "N", "filter": "time_of_day = night"}, "filter"),
        ({"name": "N", "filter": [1, 2]}, "filter"),
        ({"name": "N", "filter": {"field": "x", "op": "eq", "value": float("nan")}}, "filter"),
        ({"name": "N", "filter": {"field": "x", "op": "eq", "value": object()}}, "filter"),
    ],
)
async def test_bad_create_arguments_are_refused(arguments: dict[str, Any], field: str) -> None:
    error = await invalid(lambda c: c.create_slice(dataset=DATASET, **arguments))
    assert list(error.fields or {}) == [field]


async def test_validate_slice_name_needs_a_string() -> None:
    error = await invalid(lambda c: c.validate_slice_name(None))  # type: ignore[arg-type]
    assert list(error.fields or {}) == ["name"]


async def test_a_long_bad_value_is_shown_short() -> None:
    error = await invalid(lambda c: c.list_slices("é" * 500))
    assert len(str(error)) < 200


# ------------------------------------------------------------------------- construction, safety


@pytest.mark.parametrize(
    "base_url",
    ["http://api.avala.ai/api/v1", "ftp://api.avala.ai", "api.avala.ai", "https://u:p@h.example"],
)
def test_unsafe_base_urls_are_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match=r"https|URL|credentials"):
        AvalaClient(CANARY, base_url)


async def test_plain_http_on_loopback_is_allowed() -> None:
    api = FakeApi(httpx.Response(200, json=slice_json()))
    async with client_for(api, base_url="http://127.0.0.1:8765/api/v1/") as client:
        assert client.base_url == "http://127.0.0.1:8765/api/v1"
        await client.get_slice("acme-ai", "night")
    assert str(api.last.url) == "http://127.0.0.1:8765/api/v1/slices/acme-ai/night/"


def test_bad_client_options_are_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        AvalaClient(CANARY, max_retries=-1)
    with pytest.raises(ValueError, match="timeout"):
        AvalaClient(CANARY, timeout=0)
    with pytest.raises(ValueError, match="api_key is malformed") as caught:
        AvalaClient(f"{CANARY} {CANARY}")
    assert CANARY not in str(caught.value)


async def test_without_a_key_no_key_header_is_sent() -> None:
    api = FakeApi(
        httpx.Response(401, json={"detail": "Authentication credentials were not provided."})
    )
    async with AvalaClient(transport=httpx.MockTransport(api), max_retries=0) as client:
        with pytest.raises(AuthenticationError, match="not provided"):
            await client.list_slices("acme-ai")
    assert "X-Avala-Api-Key" not in api.last.headers


async def test_from_settings_uses_every_client_setting() -> None:
    settings = Settings.from_env(
        {
            "AVALA_API_KEY": CANARY,
            "AVALA_BASE_URL": "http://localhost:9000/v1",
            "AVALA_TIMEOUT": "4",
            "AVALA_MAX_RETRIES": "1",
        }
    )
    api = FakeApi(httpx.ReadTimeout("slow"))
    client = AvalaClient.from_settings(settings, transport=httpx.MockTransport(api))
    async with client:
        with pytest.raises(NetworkError, match="did not answer within 4 s"):
            await client.list_slices("acme-ai")
    assert client.base_url == "http://localhost:9000/v1"
    assert len(api.requests) == 2  # one retry
    assert api.last.headers["X-Avala-Api-Key"] == CANARY
    assert str(api.last.url) == "http://localhost:9000/v1/slices/acme-ai/list/"


# ----------------------------------------------------------------------------------- the canary


def everything_said(error: BaseException) -> str:
    text = "".join(traceback.format_exception(error))
    if isinstance(error, AvalaError):
        text += repr(error) + json.dumps(failure_payload(error))
    return text


FAILURES: list[httpx.Response | Exception] = [
    httpx.Response(400, json={"name": [f"key {CANARY} is wrong"]}),
    httpx.Response(401, json={"detail": f"Invalid API key {CANARY}."}),
    httpx.Response(403, json={"detail": "You do not have permission to perform this action."}),
    httpx.Response(404, json={"detail": "Not found."}),
    httpx.Response(409, json={"detail": {"name": [f"dup for {CANARY}"]}}),
    httpx.Response(429, json={"detail": "Throttled."}, headers={"Retry-After": "1"}),
    httpx.Response(500, text=f"<html>Traceback ... X-Avala-Api-Key: {CANARY}</html>"),
    httpx.Response(502, text="<html>Bad Gateway</html>"),
    httpx.Response(503),
    httpx.Response(302, headers={"Location": "https://elsewhere.example.com/"}),
    httpx.Response(200, text=f"not json {CANARY}"),
    httpx.Response(
        200, json={"count": 1, "next": f"https://evil.example.com/?key={CANARY}", "results": []}
    ),
    httpx.ConnectError(f"refused while sending {CANARY}"),
    httpx.ReadTimeout("timed out"),
    httpx.RemoteProtocolError(f"garbled {CANARY}"),
]


@pytest.mark.parametrize("failure", FAILURES)
async def test_the_key_never_appears_in_errors_or_logs(
    failure: httpx.Response | Exception, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = FakeApi(failure)
    async with client_for(api) as client:
        assert CANARY not in repr(client)
        assert CANARY not in str(client)
        with pytest.raises(AvalaError) as caught:
            await client.list_slices("acme-ai")
        with pytest.raises(AvalaError) as caught_post:
            await client.create_slice(name="N", dataset=DATASET)
    assert api.last.headers["X-Avala-Api-Key"] == CANARY  # it was sent, to the API
    for error in (caught.value, caught_post.value):
        assert CANARY not in everything_said(error)
    assert CANARY not in caplog.text
    assert all(CANARY not in repr(record.args) for record in caplog.records)


async def test_an_echoed_key_is_redacted_not_dropped() -> None:
    api = FakeApi(httpx.Response(401, json={"detail": f"Invalid API key {CANARY}."}))
    async with client_for(api) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.get_slice("acme-ai", "night")
    assert str(caught.value) == "Invalid API key [redacted]."
