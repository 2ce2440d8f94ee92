"""What each tool returns: compact views of slices and items, whose models are the output schemas.

Views keep a model's context small: list entries shorten descriptions, concise items shorten long
metadata values (and say so), and optional fields left unset are dropped rather than sent as null.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Literal

from mcp.types import ContentBlock
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from avala_mcp.client.models import Dataset, FieldProfile, Profile, Slice, SliceItem

#: The resource templates the server registers; results carry a slice's resource URI.
SLICE_URI = "avala://slices/{owner}/{slug}"
OWNER_URI = "avala://slices/{owner}"
ITEMS_URI = "avala://slices/{owner}/{slug}/items"
DATASET_URI = "avala://datasets/{uid}"

# Concise item views shorten what a model rarely needs in full (captions, embeddings, polygons).
_MAX_VALUE_CHARS = 80
# Characters of metadata JSON a concise item shows: typical metadata whole (the demo's items
# use under 180), then less and less until the page fits its text budget: 20 items (the
# default page) in under 8 KB.
_METADATA_BUDGETS = (200, 120, 0)
_ITEM_BUDGET = 380
_MAX_SUMMARY_CHARS = 200


class ToolOutput(BaseModel):
    """Base of the tool results.

    A field that may be left out defaults to None and is dropped when unset (:meth:`payload`), so
    results carry no nulls a model does not need; a required field is always present.
    """

    def payload(self) -> dict[str, Any]:
        """The structured content: JSON-ready, without optional fields left at their default."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    def blocks(self) -> list[ContentBlock] | None:
        """The result's content blocks; None: one text block, the payload's compact JSON."""
        return None


class SliceSummary(ToolOutput):
    name: str
    slug: str
    owner: str | None = None
    dataset: str | None = None
    item_count: int
    description: str | None = None
    updated_at: str | None = None


class Paged(ToolOutput):
    """One page of a listing; ``next_cursor`` is null on the last page, and says so."""

    count: int | None = Field(description="Total across all pages, when the API reports it.")
    next_cursor: str | None = Field(description="Pass as cursor= for the next page; null: last.")


class SliceList(Paged):
    slices: list[SliceSummary]


class SliceDetail(ToolOutput):
    uid: str
    name: str
    slug: str
    owner: str | None = None
    dataset: str | None = None
    description: str | None = None
    item_count: int
    # Always sent: a slice without a filter holds the whole dataset, and says so.
    filter: dict[str, Any] | None = Field(description="The slice's filter; null: every item.")
    created_at: str | None = None
    updated_at: str | None = None
    uri: str | None = Field(default=None, description="The slice's MCP resource.")


class CreatedSlice(SliceDetail):
    warnings: list[str] = Field(default=[], description="Doubts about the filter; absent: none.")


class ItemView(ToolOutput):
    """A dataset item; concise views hold uid, key, url and metadata only."""

    model_config = ConfigDict(extra="allow")

    uid: str
    key: str | None = None
    url: str | None = None
    metadata: dict[str, Any] | None = None
    dataset: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class ItemList(Paged):
    items: list[ItemView]


class ShownImage(ToolOutput):
    """An item's image in show_items' content, or why it has none (``note``)."""

    item_id: str
    content_index: int | None = Field(default=None, description="Its image in content.")
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    note: str | None = Field(default=None, description="Why the item has no image.")


class Gallery(ItemList):
    """show_items: the page list_slice_items gives, and each item's image, in the same order."""

    images: list[ShownImage] = Field(description="One per item, in the order of items.")
    sampled: int | None = Field(default=None, description="Items sampled; absent when exact.")
    _blocks: list[ContentBlock] = PrivateAttr(default_factory=list)

    def showing(self, blocks: list[ContentBlock]) -> Gallery:
        """This page, with ``blocks`` (lines and images, as ``images`` indexes them) as content."""
        self._blocks = blocks
        return self

    def blocks(self) -> list[ContentBlock]:
        return self._blocks


class DatasetSummary(ToolOutput):
    uid: str
    name: str
    slug: str | None = None
    owner: str | None = Field(default=None, description="Pass to list_slices(owner).")
    item_count: int | None = None
    data_type: str | None = None


class DatasetList(Paged):
    datasets: list[DatasetSummary]


class TopValue(ToolOutput):
    value: str | int | float | bool
    count: int


class FieldStats(ToolOutput):
    """One field path of a profile; ``top`` is left out when every value is distinct."""

    path: str = Field(description="As a filter writes it, e.g. metadata.weather.")
    types: dict[str, int] = Field(description="Items per JSON type.")
    present: int = Field(description="Items with a non-null value.")
    distinct: int
    top: list[TopValue] = Field(default=[], description="Most common values, with counts.")
    min: str | int | float | None = None
    max: str | int | float | None = None


class Described(ToolOutput):
    """What a profile says: exact, or from a sample of ``sampled`` items."""

    dataset: str
    count: int = Field(description="Items selected (of the sample, when not exact).")
    exact: bool
    sampled: int | None = Field(default=None, description="Items sampled; absent when exact.")


class DatasetProfile(Described):
    fields: list[FieldStats]
    truncated: bool = Field(default=False, description="More fields exist than are listed.")


class Preview(Described):
    items: list[ItemView]
    fields: list[FieldStats] = Field(description="The filter's fields, over the selection.")
    warnings: list[str] = Field(description="Doubts about the filter; empty when none.")


class NameCheck(ToolOutput):
    valid: bool
    slug: str | None = Field(description="The slug the name would get; null if invalid.")
    reasons: list[str] = Field(description="Why the name is refused; empty when valid.")


class Deletion(ToolOutput):
    deleted: bool
    owner: str
    slug: str
    message: str | None = None


def slice_uri(owner: str, slug: str) -> str:
    return SLICE_URI.format(owner=owner, slug=slug)


def _timestamp(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def compact_json(value: Any) -> str:
    """JSON without spaces (every byte of a result costs the model context)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… (+{len(text) - limit} chars)"


def summarize(slice_: Slice, owner: str | None = None) -> SliceSummary:
    """A slice as a list entry; ``owner`` fills in for APIs that leave it out."""
    return SliceSummary(
        name=slice_.name,
        slug=slice_.slug,
        owner=owner_of(slice_, owner),
        dataset=slice_.dataset,
        item_count=slice_.item_count,
        description=_shorten(slice_.description, _MAX_SUMMARY_CHARS)
        if slice_.description
        else None,
        updated_at=_timestamp(slice_.updated_at),
    )


def describe(slice_: Slice, owner: str | None = None) -> SliceDetail:
    """A slice in full, with its resource URI when its owner is known."""
    owner = owner_of(slice_, owner)
    return SliceDetail(
        uid=slice_.uid,
        name=slice_.name,
        slug=slice_.slug,
        owner=owner,
        dataset=slice_.dataset,
        description=slice_.description or None,
        item_count=slice_.item_count,
        filter=slice_.filter or None,
        created_at=_timestamp(slice_.created_at),
        updated_at=_timestamp(slice_.updated_at),
        uri=slice_uri(owner, slice_.slug) if owner else None,
    )


def owner_of(slice_: Slice, fallback: str | None) -> str | None:
    """The slice's owner: the embedded API says ``owner``, Avala's newer responses
    ``owner_name``; ``fallback`` (the owner asked about) covers responses with neither."""
    named = (slice_.model_extra or {}).get("owner_name")
    return slice_.owner or (named if isinstance(named, str) and named else None) or fallback


def _concise_value(value: Any) -> Any:
    """A metadata value as a concise view shows it: long ones shortened, and marked so."""
    if isinstance(value, str):
        return _shorten(value, _MAX_VALUE_CHARS)
    if isinstance(value, list | dict):
        size = len(compact_json(value))
        if size > _MAX_VALUE_CHARS:
            kind = "list" if isinstance(value, list) else "object"
            return f"… ({kind} of {len(value)}, {size} chars; detail='full' shows it)"
    return value


def item_view(
    item: SliceItem, detail: Literal["concise", "full"], budget: int = _METADATA_BUDGETS[0]
) -> ItemView:
    """An item as listed; concise metadata is cut to about ``budget`` characters of JSON."""
    if detail == "full":
        return ItemView.model_validate(item.model_dump(mode="json"))
    metadata: dict[str, Any] = {}
    size = 0
    for shown, (key, value) in enumerate(item.metadata.items()):
        value = _concise_value(value)
        size += len(compact_json({key: value}))
        if size > budget:
            metadata["…"] = f"{len(item.metadata) - shown} more keys; detail='full' shows them"
            break
        metadata[key] = value
    return ItemView(uid=item.uid, key=item.key, url=item.url, metadata=metadata or None)


def item_views(items: list[SliceItem], detail: Literal["concise", "full"]) -> list[ItemView]:
    """The page's items; a concise page gives up metadata until it fits the text budget."""
    page_budget = _ITEM_BUDGET * len(items)
    for budget in _METADATA_BUDGETS:
        views = [item_view(item, detail, budget) for item in items]
        if detail == "full" or len(compact_json([v.payload() for v in views])) <= page_budget:
            break
    return views


# What a value in an item's line may show bare; anything else is written as JSON.
_BARE = re.compile(r"[A-Za-z0-9_.:/+@-]{1,80}")
# Characters that could break a line or disguise it (controls, bidi and other formats,
# separators, private and unassigned code points): shown as escapes.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_LINE_VALUE_CHARS = 48
_LINE_CHARS = 280


def _token(value: Any) -> str:
    """One name or value of an item's line: bare when plain, else its JSON, never a raw control
    or format character, so a stranger's metadata cannot break out of its place."""
    if isinstance(value, str) and _BARE.fullmatch(value):
        return value
    if isinstance(value, str):
        value = _shorten(value, _LINE_VALUE_CHARS)
    text = compact_json(value)
    if len(text) > _LINE_VALUE_CHARS + 2 and not isinstance(value, str):
        text = _shorten(text, _LINE_VALUE_CHARS)
    return "".join(
        f"\\u{ord(char):04x}" if unicodedata.category(char) in _HIDDEN_CATEGORIES else char
        for char in text
    )


def item_line(item: SliceItem) -> str:
    """An item as one short line of text: ``key — name=value ...``."""
    line = _token(item.key or item.uid) + (" —" if item.metadata else "")
    for shown, (name, value) in enumerate(item.metadata.items()):
        pair = f" {_token(name)}={_token(value)}"
        if len(line) + len(pair) > _LINE_CHARS:
            return f"{line} … (+{len(item.metadata) - shown} fields)"
        line += pair
    return line


def dataset_summary(dataset: Dataset) -> DatasetSummary:
    """A dataset as list_datasets lists it; ``owner`` is what list_slices takes."""
    return DatasetSummary(
        uid=dataset.uid,
        name=dataset.name,
        slug=dataset.slug,
        owner=dataset.owner_name,
        item_count=dataset.item_count,
        data_type=dataset.data_type,
    )


def field_stats(field: FieldProfile) -> FieldStats:
    """A field's profile, without a ``top`` that lists values each held once by one item."""
    unique = field.distinct == field.present and field.present > 1
    return FieldStats(
        path=field.path,
        types=field.types,
        present=field.present,
        distinct=field.distinct,
        top=[] if unique else [TopValue(value=e.value, count=e.count) for e in field.top],
        min=field.min,
        max=field.max,
    )


def described(profile: Profile) -> DatasetProfile:
    """A profile as describe_dataset and describe_slice return it."""
    return DatasetProfile(
        dataset=profile.dataset,
        count=profile.count,
        exact=profile.exact,
        sampled=None if profile.exact else profile.sampled,
        fields=[field_stats(field) for field in profile.fields],
        truncated=profile.truncated,
    )
