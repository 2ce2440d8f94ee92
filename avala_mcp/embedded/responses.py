"""How the API shows what it stores: datasets, slices, items, pages of them, and profiles."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from starlette.requests import Request

from avala_mcp.embedded.media import MEDIA_SCHEME, THUMBNAIL_SIZES, size_name
from avala_mcp.embedded.paging import Cursor, Page, assemble_page, encode_cursor
from avala_mcp.embedded.seed import SYNTHETIC_MEDIA
from avala_mcp.embedded.store import DatasetInfo, FieldProfile, Item, Profile, Slice

T = TypeVar("T")

#: What every dataset of the embedded API holds (the demo's and every import's items are images).
DATA_TYPE = "image"


def dataset_json(info: DatasetInfo) -> dict[str, Any]:
    """A dataset as the API shows it (Avala's SDKs' fields, and always ``owner_name``)."""
    return {
        "uid": info.uid,
        "name": info.name,
        "slug": info.slug,
        "item_count": info.item_count,
        "data_type": DATA_TYPE,
        "owner_name": info.owner,
        "created_at": info.created_at,
        "updated_at": info.updated_at,
    }


def slice_json(piece: Slice) -> dict[str, Any]:
    """A slice as the API shows it: the seed's fields, then owner, dataset and filter."""
    return {
        **listed_slice_json(piece),
        "filter": None if piece.filter_json is None else json.loads(piece.filter_json),
    }


def listed_slice_json(piece: Slice) -> dict[str, Any]:
    """A slice as a listing shows it: without its filter, as Avala's cloud lists slices.

    A filter may be as large as the bounds allow (and one an older version stored, larger), so a
    page of them would have no useful bound; the slice itself shows it.
    """
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


def item_page_json(
    request: Request,
    rows: list[Item],
    limit: int,
    cursor: Cursor | None,
    count: int,
    dataset_uid: str,
) -> dict[str, Any]:
    """A page of a walk over items by id, from the ``limit + 1`` rows the store fetched; a
    slice's items and a dataset's are rendered alike (``item_renderer``)."""

    def key_of(item: Item) -> tuple[int]:
        return (item.id,)

    page = assemble_page(rows, limit, cursor, "id", key_of)
    return page_json(request, page, count, item_renderer(request, dataset_uid))


def profile_json(dataset_uid: str, profile: Profile) -> dict[str, Any]:
    """A profile as the extension answers it; every figure is exact."""
    return {
        "dataset": dataset_uid,
        "count": profile.count,
        "exact": True,
        "fields": [_field_json(entry) for entry in profile.fields],
        "truncated": profile.truncated,
    }


def _field_json(entry: FieldProfile) -> dict[str, Any]:
    return {
        "path": entry.path,
        "types": entry.types,
        "present": entry.present,
        "distinct": entry.distinct,
        "top": [{"value": value, "count": count} for value, count in entry.top],
        "min": entry.min,
        "max": entry.max,
    }
