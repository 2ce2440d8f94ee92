"""show_items' work: a few items as a model can see them, one line of text and an image each.

The items come from one of two places, read the way the tools that list them read them: a
slice's page exactly as ``list_slice_items`` reads it, or the first items a filter selects
exactly as ``preview_slice`` picks them (:func:`~avala_mcp.server.exploring.select`). Their
images come from the server's :class:`~avala_mcp.client.media.MediaFetcher`, all at once and
within :data:`IMAGES_WITHIN` seconds in all; an item without one gets a note, not a failure.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mcp.types import ContentBlock, ImageContent, TextContent

from avala_mcp.client.errors import InvalidInputError
from avala_mcp.client.images import FetchedImage, ImageNote
from avala_mcp.client.models import SliceItem
from avala_mcp.server.exploring import select
from avala_mcp.server.inputs import ShowItemsInput
from avala_mcp.server.outputs import Gallery, ShownImage, item_line, item_views

if TYPE_CHECKING:
    from avala_mcp.client import AvalaClient
    from avala_mcp.client.media import MediaFetcher

#: Seconds the images of one call may take in all (each download has its own, shorter bound).
IMAGES_WITHIN = 8.0


@dataclass(frozen=True)
class _Shown:
    """The items to show, their page, and where the summary line says they are from."""

    items: list[SliceItem]
    count: int | None
    next_cursor: str | None
    sampled: int | None
    where: str


async def show_items(client: AvalaClient, args: ShowItemsInput, media: MediaFetcher) -> Gallery:
    """The items ``args`` name, each with its image as ``media`` fetches it (or a note)."""
    shown = await _items(client, args)
    images = await media.fetch_items(shown.items, within=IMAGES_WITHIN)
    return _gallery(shown, images)


def _source(args: ShowItemsInput) -> tuple[str, str] | None:
    """The slice (owner, slug) the items come from, or None for the dataset's; arguments that
    do not name exactly one source are refused, naming each one at fault."""
    of_slice = [name for name in ("owner", "slug") if getattr(args, name) is not None]
    problems: dict[str, list[str]] = {}
    if args.dataset is not None and of_slice:
        for name in (*of_slice, "dataset"):
            problems[name] = ["give owner and slug (a slice) or dataset (a filter), not both"]
    elif args.dataset is None and not of_slice:
        for name in ("owner", "slug", "dataset"):
            problems[name] = ["give owner and slug (a slice's items) or dataset (a filter's)"]
    elif of_slice and len(of_slice) == 1:
        missing = "slug" if of_slice == ["owner"] else "owner"
        problems[missing] = [f"needed with {of_slice[0]}"]
    if args.dataset is not None and args.cursor is not None:
        problems["cursor"] = ["only with owner and slug: a filter's items come in one page"]
    if args.dataset is None and args.filter is not None:
        problems["filter"] = ["only with dataset: a slice's filter is its own"]
    if problems:
        error = InvalidInputError.for_fields(problems)
        error.hint = (
            "call show_items(owner, slug) for a slice's items, or show_items(dataset, filter) "
            "for what a filter selects"
        )
        raise error
    return None if args.owner is None or args.slug is None else (args.owner, args.slug)


async def _items(client: AvalaClient, args: ShowItemsInput) -> _Shown:
    of_slice = _source(args)
    if of_slice is not None:
        owner, slug = of_slice
        page = await client.list_slice_items(owner, slug, cursor=args.cursor, limit=args.limit)
        more = "last page" if page.next_cursor is None else f"next_cursor={page.next_cursor}"
        where = f"in {owner}/{slug}; {more}"
        return _Shown(page.results, page.count, page.next_cursor, None, where)
    dataset = args.dataset or ""  # _source saw that there is one: no slice, so a dataset
    picked = await select(client, dataset, args.filter, args.limit)
    where = f"of dataset {dataset}" + ("" if args.filter is None else " matching the filter")
    if not picked.exact:
        where += f" (in a sample of {picked.sampled})"
    sampled = None if picked.exact else picked.sampled
    return _Shown(picked.items, picked.count, None, sampled, where)


def _gallery(shown: _Shown, images: Sequence[FetchedImage | ImageNote]) -> Gallery:
    blocks: list[ContentBlock] = [TextContent(type="text", text=_summary(shown))]
    entries: list[ShownImage] = []
    for item, image in zip(shown.items, images, strict=True):
        line = item_line(item)
        if isinstance(image, ImageNote):
            blocks.append(TextContent(type="text", text=f"{line}; no image: {image}"))
            entries.append(ShownImage(item_id=item.uid, note=str(image)))
            continue
        blocks.append(TextContent(type="text", text=line))
        entries.append(
            ShownImage(
                item_id=item.uid,
                content_index=len(blocks),
                mime_type=image.mime_type,
                width=image.width,
                height=image.height,
            )
        )
        data = base64.b64encode(image.data).decode("ascii")
        blocks.append(ImageContent(type="image", data=data, mime_type=image.mime_type))
    return Gallery(
        count=shown.count,
        next_cursor=shown.next_cursor,
        items=item_views(shown.items, "concise"),
        images=entries,
        sampled=shown.sampled,
    ).showing(blocks)


def _summary(shown: _Shown) -> str:
    total = "" if shown.count is None else f" of {shown.count}"
    return f"{len(shown.items)}{total} items {shown.where}"
