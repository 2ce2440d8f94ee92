"""AvalaClient against the real embedded Slices API: in-process (ASGI) and over real HTTP (uvicorn).

The same tests run both ways; the demo data gives the expected answers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from avala_mcp.client import AvalaClient
from avala_mcp.client.errors import (
    AuthenticationError,
    AvalaError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ValidationError,
)
from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.seed import (
    DEMO_DATASET_UID,
    DEMO_NIGHT_COUNT,
    DEMO_ORG,
    DEMO_ORG_SLICE_COUNT,
    DEMO_SLICE_NAME,
    DEMO_SLICE_SLUG,
    DEMO_SLICE_UID,
    OTHER_DATASET_UID,
    OTHER_ORG,
    OTHER_SLICE_SLUG,
)

pytestmark = pytest.mark.anyio

# Any loopback host works in-process: the ASGI transport never resolves it.
IN_PROCESS_URL = "http://localhost/api/v1"
RAIN = {"field": "metadata.weather", "op": "eq", "value": "rain"}


class Waits:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture(params=["in_process", "over_http"])
def target(request: pytest.FixtureRequest) -> tuple[str, httpx.AsyncBaseTransport | None]:
    """Where the embedded API is: an ASGI transport, or a uvicorn server's base URL."""
    if request.param == "in_process":
        return IN_PROCESS_URL, httpx.ASGITransport(app=request.getfixturevalue("local_app"))
    return request.getfixturevalue("local_api_url"), None


@pytest.fixture
async def client(
    target: tuple[str, httpx.AsyncBaseTransport | None], local_api_key: str
) -> AsyncIterator[AvalaClient]:
    base_url, transport = target
    async with AvalaClient(local_api_key, base_url, transport=transport, sleep=Waits()) as client:
        yield client


@pytest.fixture
async def stranger(
    target: tuple[str, httpx.AsyncBaseTransport | None],
) -> AsyncIterator[AvalaClient]:
    """A client whose key the API does not know."""
    base_url, transport = target
    async with AvalaClient("avk-not-a-real-key", base_url, transport=transport) as client:
        yield client


async def test_get_the_demo_slice(client: AvalaClient) -> None:
    found = await client.get_slice(DEMO_ORG, DEMO_SLICE_SLUG)
    assert (found.uid, found.name, found.slug) == (DEMO_SLICE_UID, DEMO_SLICE_NAME, DEMO_SLICE_SLUG)
    assert found.item_count == DEMO_NIGHT_COUNT == 340
    assert (found.owner, found.dataset) == (DEMO_ORG, DEMO_DATASET_UID)
    assert found.created_at is not None
    assert found.model_dump(mode="json")["created_at"] == "2025-03-15T08:30:00Z"


async def test_list_slices_pages_to_the_end_by_next_cursor(client: AvalaClient) -> None:
    slugs: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await client.list_slices(DEMO_ORG, ordering="name", cursor=cursor, limit=5)
        pages += 1
        assert page.count == DEMO_ORG_SLICE_COUNT
        slugs += [found.slug for found in page.results]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert len(slugs) == len(set(slugs)) == DEMO_ORG_SLICE_COUNT
    assert DEMO_SLICE_SLUG in slugs
    names = [found.name async for found in client.iter_slices(DEMO_ORG, ordering="name", limit=5)]
    assert names == sorted(names, key=str.lower) or names == sorted(names)
    assert len(names) == DEMO_ORG_SLICE_COUNT


async def test_previous_cursor_goes_back(client: AvalaClient) -> None:
    first = await client.list_slices(DEMO_ORG, ordering="-created_at", limit=4)
    second = await client.list_slices(
        DEMO_ORG, ordering="-created_at", cursor=first.next_cursor, limit=4
    )
    assert second.previous_cursor is not None
    back = await client.list_slices(
        DEMO_ORG, ordering="-created_at", cursor=second.previous_cursor, limit=4
    )
    assert [s.uid for s in back.results] == [s.uid for s in first.results]
    stamps = [s.created_at for s in [*first.results, *second.results]]
    assert stamps == sorted(stamps, reverse=True)  # type: ignore[type-var]


async def test_list_dataset_slices_walks_to_the_end(client: AvalaClient) -> None:
    found = [s async for s in client.iter_dataset_slices(DEMO_DATASET_UID.upper(), limit=3)]
    assert found
    assert {s.dataset for s in found} == {DEMO_DATASET_UID}
    assert len({s.uid for s in found}) == len(found)
    page = await client.list_dataset_slices(DEMO_DATASET_UID, limit=1000)
    assert page.count == len(found) == len(page.results)
    assert page.next_cursor is None


@pytest.mark.parametrize("limit", [30, 1000])
async def test_every_item_of_the_night_slice(client: AvalaClient, limit: int) -> None:
    keys = [
        item.key async for item in client.iter_slice_items(DEMO_ORG, DEMO_SLICE_SLUG, limit=limit)
    ]
    assert len(keys) == len(set(keys)) == DEMO_NIGHT_COUNT


async def test_slice_items_page_by_page(client: AvalaClient) -> None:
    page = await client.list_slice_items(DEMO_ORG, DEMO_SLICE_SLUG, limit=50)
    assert page.count == DEMO_NIGHT_COUNT
    assert len(page.results) == 50
    item = page.results[0]
    assert item.dataset == DEMO_DATASET_UID
    assert item.metadata["time_of_day"] == "night"
    assert item.key
    assert item.url
    seen = len(page.results)
    while page.next_cursor is not None:
        page = await client.list_slice_items(
            DEMO_ORG, DEMO_SLICE_SLUG, cursor=page.next_cursor, limit=50
        )
        assert all(i.metadata["time_of_day"] == "night" for i in page.results)
        seen += len(page.results)
    assert seen == DEMO_NIGHT_COUNT


async def test_create_validate_get_delete_lifecycle(client: AvalaClient) -> None:
    name = f"Rainy scenes {uuid.uuid4().hex[:8]}"
    before = await client.validate_slice_name(name, dataset=DEMO_DATASET_UID)
    assert before.valid is True
    assert before.slug is not None
    assert before.slug.startswith("rainy-scenes-")

    created = await client.create_slice(
        name=name, dataset=DEMO_DATASET_UID, description="rain only", filter=RAIN
    )
    assert (created.name, created.slug, created.owner) == (name, before.slug, DEMO_ORG)
    assert created.filter == RAIN
    assert 0 < created.item_count < 2000
    fetched = await client.get_slice(DEMO_ORG, created.slug)
    assert fetched.uid == created.uid
    assert fetched.description == "rain only"
    weathers = {
        item.metadata.get("weather")
        async for item in client.iter_slice_items(DEMO_ORG, created.slug)
    }
    assert weathers == {"rain"}

    after = await client.validate_slice_name(name, dataset=DEMO_DATASET_UID)
    assert after.valid is False
    assert after.reasons
    assert name in after.reasons[0]
    with pytest.raises(ConflictError) as clash:
        await client.create_slice(name=name, dataset=DEMO_DATASET_UID)
    assert clash.value.status == 409

    await client.delete_slice(DEMO_ORG, created.slug)
    with pytest.raises(NotFoundError):
        await client.get_slice(DEMO_ORG, created.slug)
    with pytest.raises(NotFoundError):
        await client.delete_slice(DEMO_ORG, created.slug)


async def test_validate_without_a_dataset(client: AvalaClient) -> None:
    verdict = await client.validate_slice_name("Brand New Slice")
    assert (verdict.valid, verdict.slug) == (True, "brand-new-slice")
    empty = await client.validate_slice_name("")
    assert empty.valid is False
    assert empty.reasons


async def test_field_errors_are_validation_errors(client: AvalaClient) -> None:
    bad_filter = {"field": "metadata.weather", "op": "like", "value": "rain"}
    with pytest.raises(ValidationError) as caught:
        await client.create_slice(name="Bad filter", dataset=DEMO_DATASET_UID, filter=bad_filter)
    assert caught.value.status == 400
    assert list(caught.value.fields or {}) == ["filter"]
    assert str(caught.value).startswith("invalid filter: ")
    with pytest.raises(ValidationError) as long_text:
        await client.create_slice(name="Long", dataset=DEMO_DATASET_UID, description="x" * 10_001)
    assert list(long_text.value.fields or {}) == ["description"]


async def test_unknown_key_is_unauthorized(stranger: AvalaClient) -> None:
    with pytest.raises(AuthenticationError, match=r"Invalid API key\.") as caught:
        await stranger.list_slices(DEMO_ORG)
    assert caught.value.status == 401


async def test_other_organization_is_forbidden(client: AvalaClient) -> None:
    for call in (
        client.list_slices(OTHER_ORG),
        client.get_slice(OTHER_ORG, OTHER_SLICE_SLUG),
        client.list_slice_items(OTHER_ORG, OTHER_SLICE_SLUG),
        client.delete_slice(OTHER_ORG, OTHER_SLICE_SLUG),
        client.list_dataset_slices(OTHER_DATASET_UID),
        client.create_slice(name="Mine now", dataset=OTHER_DATASET_UID),
    ):
        with pytest.raises(PermissionDeniedError) as caught:
            await call
        assert caught.value.status == 403


async def test_missing_things_are_not_found(client: AvalaClient) -> None:
    for call in (
        client.get_slice(DEMO_ORG, "no-such-slice"),
        client.list_slice_items(DEMO_ORG, "no-such-slice"),
        client.list_slices("no-such-org"),
        client.list_dataset_slices(str(uuid.uuid4())),
        client.create_slice(name="Orphan", dataset=str(uuid.uuid4())),
    ):
        with pytest.raises(NotFoundError) as caught:
            await call
        assert caught.value.status == 404


async def test_rate_limit_is_retried_with_the_servers_retry_after(
    tmp_path: Path, local_db_path: Path, local_api_key: str
) -> None:
    app = create_app(local_db_path, api_key=local_api_key, rate_limit=2)
    waits = Waits()
    try:
        async with AvalaClient(
            local_api_key,
            IN_PROCESS_URL,
            transport=httpx.ASGITransport(app=app),
            max_retries=2,
            max_retry_wait=1000.0,
            sleep=waits,
        ) as client:
            await client.get_slice(DEMO_ORG, DEMO_SLICE_SLUG)
            await client.get_slice(DEMO_ORG, DEMO_SLICE_SLUG)
            with pytest.raises(RateLimitError) as caught:
                await client.get_slice(DEMO_ORG, DEMO_SLICE_SLUG)
    finally:
        close_app(app)
    error = caught.value
    assert error.status == 429
    assert error.retry_after is not None
    assert error.retry_after > 0
    # The injected sleep saw the server's own Retry-After, once per retry; the clock did not move.
    assert len(waits.seconds) == 2
    assert all(wait > 0 for wait in waits.seconds)


async def test_the_key_never_reaches_logs_or_errors(
    client: AvalaClient, local_api_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[AvalaError] = []
    calls: list[Any] = [
        client.get_slice(OTHER_ORG, OTHER_SLICE_SLUG),
        client.get_slice(DEMO_ORG, "no-such-slice"),
        client.create_slice(name="x", dataset=DEMO_DATASET_UID, filter={"op": "??"}),
    ]
    for call in calls:
        with pytest.raises(AvalaError) as caught:
            await call
        errors.append(caught.value)
    await client.get_slice(DEMO_ORG, DEMO_SLICE_SLUG)
    assert local_api_key not in repr(client)
    for error in errors:
        assert local_api_key not in f"{error!s}{error!r}{error.fields}"
    assert local_api_key not in caplog.text
