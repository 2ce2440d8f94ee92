"""What the store hands out and takes in: its records, its errors, and its timestamps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from avala_mcp.embedded import seed
from avala_mcp.embedded.paging import Key, Ordering
from avala_mcp.filters import Node, parse_filter


class StoreError(Exception):
    """A problem with the database itself (wrong file, newer schema)."""


class DuplicateName(Exception):
    """A slice of that name already exists in the dataset."""


class ImportFailed(Exception):
    """An import found bad rows; nothing was written. ``errors`` says which and why."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} bad row(s)")
        self.errors = errors


@dataclass(frozen=True)
class Owner:
    """An organization or a user, as an owner of datasets and slices."""

    id: int
    slug: str
    kind: str


@dataclass(frozen=True)
class Dataset:
    """A dataset and its owner; ``media_root`` is the directory its local images live in."""

    id: int
    uid: str
    name: str
    owner: Owner
    media_root: str | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset as the dataset endpoints show it, with its item count as of the read."""

    id: int
    uid: str
    name: str
    slug: str
    owner: str
    item_count: int
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Slice:
    """A stored slice."""

    id: int
    uid: str
    name: str
    slug: str
    description: str
    item_count: int
    created_at: str
    updated_at: str
    owner: str
    dataset: str
    filter_json: str | None
    dataset_id: int

    def filter_node(self) -> Node | None:
        """The stored filter, validated again."""
        return stored_filter(self.filter_json)

    def key_for(self, ordering: Ordering) -> Key:
        """This slice's keyset position under ``ordering``."""
        value: str | int = getattr(self, ordering.field)
        return (value, self.id)


@dataclass(frozen=True)
class Item:
    """A stored item."""

    id: int
    uid: str
    key: str
    url: str | None
    metadata: dict[str, Any]
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class NewItem:
    """An item to add; ``line`` is where an importer read it (for error messages)."""

    key: str
    url: str | None
    metadata_json: str
    line: int = 0


def stored_filter(filter_json: str | None) -> Node | None:
    """A filter the database holds, parsed again: its shape was checked when it was stored,
    but an older version may have let it past today's size bounds, which it keeps."""
    return None if filter_json is None else parse_filter(json.loads(filter_json), stored=True)


def now_stamp() -> str:
    """The current time in the API's format."""
    return seed.stamp(datetime.now(UTC))
