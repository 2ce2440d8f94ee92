"""Pydantic models of the Slices API's wire format (see ``docs/contracts.md``).

Wire models keep unknown fields (``extra="allow"``): Avala's newer responses carry fields such
as ``owner_name``, ``visibility`` and ``sub_slices`` that a caller may still want to see.
Timestamps are parsed to ``datetime`` and serialise back to ISO 8601 in JSON mode.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class WireModel(BaseModel):
    """Base of every model read from the API: unknown fields are kept, not dropped."""

    model_config = ConfigDict(extra="allow")


class Slice(WireModel):
    """A slice: a filtered subset of a dataset."""

    uid: str
    name: str
    slug: str
    description: str | None = None
    item_count: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Set by the embedded API; Avala's cloud may omit them.
    owner: str | None = None
    dataset: str | None = None
    filter: dict[str, Any] | None = None


class SliceItem(WireModel):
    """One dataset item belonging to a slice."""

    uid: str
    key: str | None = None
    dataset: str | None = None
    url: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


T = TypeVar("T", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    """One page of a listing.

    ``next_cursor`` is opaque: hand it back as ``cursor=`` to fetch exactly the next page. It is
    ``None`` on the last page. ``count`` is the total across all pages when the API reports it.
    """

    count: int | None = None
    results: list[T] = Field(default_factory=list)
    next_cursor: str | None = None
    previous_cursor: str | None = None


class Dataset(WireModel):
    """A dataset: the items slices are cut from."""

    uid: str
    name: str
    slug: str | None = None
    item_count: int | None = None
    data_type: str | None = None
    # The embedded API always sends it; Avala's cloud may not.
    owner_name: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ValueCount(BaseModel):
    """One of a field's most common values, and how many items hold it."""

    value: str | int | float | bool
    count: int


class FieldProfile(BaseModel):
    """What the profiled items hold at one field path (see ``docs/contracts.md``).

    ``types`` counts items per JSON type (``string``, ``number``, ``boolean``, ``array``,
    ``object``); a null counts as missing. ``min``/``max`` are over the numbers if the field
    has any, else over the strings, else None.
    """

    path: str
    types: dict[str, int] = Field(default_factory=dict)
    present: int = 0
    distinct: int = 0
    top: list[ValueCount] = Field(default_factory=list)
    min: str | int | float | None = None
    max: str | int | float | None = None


class Profile(BaseModel):
    """A profile of a dataset's (or slice's) items: exact, or computed from a sample.

    ``count`` is how many items match the filter: in the dataset when ``exact``, else in the
    sample of ``sampled`` items. ``items`` holds up to the asked number of matching items.
    """

    dataset: str
    count: int
    exact: bool
    sampled: int | None = None
    fields: list[FieldProfile] = Field(default_factory=list)
    truncated: bool = False
    items: list[SliceItem] = Field(default_factory=list)


class NameValidation(WireModel):
    """The API's verdict on a proposed slice name."""

    valid: bool
    name: str | None = None
    slug: str | None = None
    reasons: list[str] = Field(default_factory=list)
