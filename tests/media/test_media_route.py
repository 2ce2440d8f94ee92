"""The media route of the embedded API, in-process and over uvicorn.

Each demo item's ``url`` and ``thumbnails`` are absolute URLs on the base URL the API was reached
by, and answer with a JPEG of the promised size; the route keeps the API's key, 404 and 403
rules.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.app import app_store
from avala_mcp.embedded.seed import (
    DEMO_DATASET_UID,
    DEMO_ORG,
    DEMO_SLICE_SLUG,
    OTHER_DATASET_UID,
    OTHER_ORG,
    OTHER_SLICE_SLUG,
    OTHER_USER,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["in-process", "uvicorn"])
async def api(
    request: pytest.FixtureRequest, local_api_key: str
) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"X-Avala-Api-Key": local_api_key}
    if request.param == "uvicorn":
        url: str = request.getfixturevalue("local_api_url")
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            yield client
        return
    app = request.getfixturevalue("local_app")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1/api/v1", headers=headers
    ) as client:
        yield client


async def night_items(api: httpx.AsyncClient, limit: int = 3) -> list[dict[str, Any]]:
    page = await api.get(
        f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/items/list/", params={"limit": limit}
    )
    assert page.status_code == 200
    items: list[dict[str, Any]] = page.json()["results"]
    return items


def jpeg_size(response: httpx.Response) -> tuple[int, int]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG"
    return image.size


async def test_demo_items_point_at_frames_that_exist(api: httpx.AsyncClient) -> None:
    base = str(api.base_url).rstrip("/")
    for item in await night_items(api):
        assert item["url"] == f"{base}/media/{DEMO_DATASET_UID}/{item['key']}"
        assert [(t["width"], t["height"]) for t in item["thumbnails"]] == [(640, 360), (160, 90)]
        assert jpeg_size(await api.get(item["url"])) == (1280, 720)
        for thumbnail in item["thumbnails"]:
            assert thumbnail["url"].startswith(item["url"] + "?size=")
            size = jpeg_size(await api.get(thumbnail["url"]))
            assert size == (thumbnail["width"], thumbnail["height"])


async def test_a_frame_is_the_same_bytes_every_time(api: httpx.AsyncClient) -> None:
    item = (await night_items(api, 1))[0]
    url = item["thumbnails"][0]["url"]
    first, again = await api.get(url), await api.get(url)
    assert first.content == again.content
    assert "max-age" in first.headers["cache-control"]


async def test_the_route_keeps_the_api_rules(api: httpx.AsyncClient) -> None:
    item = (await night_items(api, 1))[0]
    anonymous = await api.get(item["url"], headers={"X-Avala-Api-Key": ""})
    assert anonymous.status_code == 401
    other = await api.get(f"/media/{OTHER_DATASET_UID}/retail-shelves/shelf_00001.jpg")
    assert other.status_code == 403
    for path in (
        f"/media/{DEMO_DATASET_UID}/driving-scenes/no_such_frame.jpg",
        "/media/00000000-0000-0000-0000-000000000000/frame.jpg",
        "/media/not-a-uuid/frame.jpg",
    ):
        missing = await api.get(path)
        assert missing.status_code == 404, path
        assert missing.json() == {"detail": "Not found."}
    bad = await api.get(item["url"], params={"size": "4000x4000"})
    assert bad.status_code == 400
    assert bad.json() == {"size": ["Must be one of 1280x720, 640x360, 160x90."]}


async def test_other_organizations_see_their_shelves(tmp_path: Path) -> None:
    app = create_app(tmp_path / "shelves.sqlite3")
    try:
        app_store(app).add_api_key(OTHER_USER, "globex-test-key")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://127.0.0.1:8765/api/v1",
            headers={"X-Avala-Api-Key": "globex-test-key"},
        ) as api:
            page = await api.get(f"/slices/{OTHER_ORG}/{OTHER_SLICE_SLUG}/items/list/")
            item = page.json()["results"][0]
            assert item["url"].startswith("http://127.0.0.1:8765/api/v1/media/")
            assert jpeg_size(await api.get(item["thumbnails"][1]["url"])) == (160, 90)
    finally:
        close_app(app)
