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


class NameValidation(WireModel):
    """The API's verdict on a proposed slice name."""

    valid: bool
    name: str | None = None
    slug: str | None = None
    reasons: list[str] = Field(default_factory=list)
