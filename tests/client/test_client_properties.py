"""Properties over any input: a path segment is refused or sent verbatim; a cursor round-trips."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avala_mcp.client import AvalaClient
from avala_mcp.client.errors import InvalidInputError
from avala_mcp.contract import RESERVED_SEGMENTS, SEGMENT_RE

pytestmark = pytest.mark.anyio

EMPTY_PAGE: dict[str, Any] = {"count": 0, "next": None, "previous": None, "results": []}

segments = st.one_of(
    st.text(max_size=120),
    st.from_regex(SEGMENT_RE),
    st.sampled_from(
        [
            *("dataset", "list"),
            *(
                "..",
                "../x",
                "a/../b",
                "%2e%2e",
                "a%2Fb",
                "a\\b",
                "a\x00",
                "\uff41\uff43\uff4d\uff45",
            ),
        ]
    ),
)


async def send(owner: str, cursor: str | None = None) -> list[httpx.Request]:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=EMPTY_PAGE)

    async with AvalaClient("k", transport=httpx.MockTransport(answer)) as client:
        await client.list_slices(owner, cursor=cursor)
    return requests


@settings(max_examples=300, deadline=None)
@given(owner=segments)
async def test_an_owner_is_refused_or_sent_verbatim(owner: str) -> None:
    # 'dataset' fits the pattern, but /slices/dataset/... is another endpoint's path.
    if SEGMENT_RE.match(owner) and owner != RESERVED_SEGMENTS["owner"]:
        [request] = await send(owner)
        assert request.url.raw_path == f"/api/v1/slices/{owner}/list/".encode()
        assert request.url.host == "api.avala.ai"
    else:
        with pytest.raises(InvalidInputError) as caught:
            await send(owner)
        assert list(caught.value.fields or {}) == ["owner"]


@settings(max_examples=200, deadline=None)
@given(cursor=st.text(st.characters(codec="utf-8", exclude_categories=("C", "Z")), min_size=1))
async def test_a_cursor_is_sent_back_exactly(cursor: str) -> None:
    [request] = await send("acme-ai", cursor=cursor)
    params = request.url.params
    if "cursor" in params:
        assert params["cursor"] == cursor
    else:  # the "page=N" / "offset=N" form of a next_cursor
        assert [f"{key}={value}" for key, value in params.multi_items()] == [cursor]
