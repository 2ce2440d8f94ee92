"""How the API shows what it stores: slices, items, and pages of either."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from starlette.requests import Request

from avala_mcp.embedded.media import MEDIA_SCHEME, THUMBNAIL_SIZES, size_name
from avala_mcp.embedded.paging import Cursor, Page, encode_cursor
from avala_mcp.embedded.seed import SYNTHETIC_MEDIA
from avala_mcp.embedded.store import Item, Slice

T = TypeVar("T")


def slice_json(piece: Slice) -> dict[str, Any]:
    """A slice as the API shows it: the seed's fields, then owner, dataset and filter."""
    return {
        "uid": piece.uid,
        "name": piece.name,
        "slug": piece.slug,
        "description": piece.description,
        "item_count": piece.item_count,
        "created_at": piece.created_at,
        "updated_at": piece.updated_at,
        "owner": piece.owner,
        "dataset": piece.dataset,
        "filter": None if piece.filter_json is None else json.loads(piece.filter_json),
    }


def item_renderer(request: Request, dataset_uid: str) -> Callable[[Item], dict[str, Any]]:
    """How the API shows the items of a dataset in its answer to ``request``.

    A stored ``media:<path>`` url (an image the API serves itself) becomes an absolute URL on the
    request's own base URL, so it is right however the API is reached (in-process, any port);
    a demo item also gets its ``thumbnails``, largest first. Other urls are shown as stored.
    """
    media_base = str(request.url_for("media", dataset_uid=dataset_uid, path=""))
    synthetic = dataset_uid in SYNTHETIC_MEDIA

    def render(item: Item) -> dict[str, Any]:
        url = item.url
        thumbnails: list[dict[str, Any]] = []
        if url is not None and url.startswith(MEDIA_SCHEME):
            url = media_base + quote(url[len(MEDIA_SCHEME) :])
            if synthetic:
                thumbnails = [
                    {"url": f"{url}?size={size_name(size)}", "width": size[0], "height": size[1]}
                    for size in THUMBNAIL_SIZES
                ]
        return {
            "uid": item.uid,
            "key": item.key,
            "dataset": dataset_uid,
            "url": url,
            "thumbnails": thumbnails,
            "metadata": item.metadata,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
        }

    return render


def page_json(
    request: Request, page: Page[T], count: int, render: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """A page in the seed's envelope; ``next`` and ``previous`` are this URL with a cursor."""

    def link(cursor: Cursor | None) -> str | None:
        if cursor is None:
            return None
        return str(request.url.include_query_params(cursor=encode_cursor(cursor)))

    return {
        "count": count,
        "next": link(page.next),
        "previous": link(page.previous),
        "results": [render(row) for row in page.results],
    }
