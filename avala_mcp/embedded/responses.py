"""How the API shows what it stores: slices, items, and pages of either."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request

from avala_mcp.embedded.paging import Cursor, Page, encode_cursor
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


def item_json(item: Item, dataset_uid: str) -> dict[str, Any]:
    """An item as the API shows it."""
    return {
        "uid": item.uid,
        "key": item.key,
        "dataset": dataset_uid,
        "url": item.url,
        "metadata": item.metadata,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


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
