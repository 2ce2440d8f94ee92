"""Slices: keyset-paged listings, lookups, creation with an exact item count, deletion.

A slice's ``item_count`` is kept exact by every write: counted when the slice is created, and
adjusted (``adjust_item_counts``) whenever items of its dataset come or go.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from avala_mcp.embedded import naming
from avala_mcp.embedded.paging import Cursor, Ordering
from avala_mcp.embedded.sql import compile_filter
from avala_mcp.embedded.store.connection import Database
from avala_mcp.embedded.store.records import (
    Dataset,
    DuplicateName,
    Slice,
    now_stamp,
    stored_filter,
)
from avala_mcp.filters import Node, parse_filter

#: What a listing is scoped to, and its column; ``schema`` indexes every (scope, ordering) pair.
SCOPES = {"owner": "owner_id", "dataset": "dataset_id"}
ORDER_COLUMNS = {
    "name": "s.name",
    "created_at": "s.created_at",
    "updated_at": "s.updated_at",
    "item_count": "s.item_count",
}

_SLICE_COLUMNS = """
    s.id, s.uid, s.name, s.slug, s.description, s.item_count, s.created_at, s.updated_at,
    o.slug, d.uid, s.filter, s.dataset_id
"""
# A listing never reads filters: a page of them has no useful size bound (an older version
# stored filters of any size), and the listing does not show them.
_LISTED_COLUMNS = _SLICE_COLUMNS.replace("s.filter", "NULL")
_SLICE_FROM = """
    FROM slices s JOIN accounts o ON o.id = s.owner_id JOIN datasets d ON d.id = s.dataset_id
"""


class SliceQueries(Database):
    """Reading and writing slices."""

    def count_slices(self, scope: str, scope_id: int) -> int:
        """How many slices an owner (scope ``owner``) or a dataset (``dataset``) has."""
        column = SCOPES[scope]
        with self._read() as conn:
            row = conn.execute(f"SELECT count(*) FROM slices WHERE {column} = ?", (scope_id,))  # noqa: S608 - only compiled filter SQL and fixed names, values bound
            return int(row.fetchone()[0])

    def list_slices(
        self, scope: str, scope_id: int, ordering: Ordering, cursor: Cursor | None, limit: int
    ) -> list[Slice]:
        """Up to ``limit + 1`` slices from the cursor on, in the cursor's direction, without
        their filters (``filter_json`` is None; ``get_slice`` reads one)."""
        column = ORDER_COLUMNS[ordering.field]
        descending = ordering.descending != (cursor is not None and not cursor.forward)
        direction = "DESC" if descending else "ASC"
        order = f"ORDER BY {column} {direction}, s.id {direction} LIMIT :n"
        scoped = f"s.{SCOPES[scope]} = :scope"
        params: dict[str, Any] = {"scope": scope_id, "n": limit + 1}
        select = f"SELECT {_LISTED_COLUMNS} {_SLICE_FROM} WHERE {scoped}"
        with self._read() as conn:
            if cursor is None:
                return [Slice(*row) for row in conn.execute(f"{select} {order}", params)]
            # Two index seeks: the rest of the cursor's tie group, then what lies past it. A
            # row-value ``(column, id) > (?, ?)`` would seek on the column alone and scan the
            # whole tie group, so a page's cost would grow with its depth among equal values.
            after = "<" if descending else ">"
            params.update(value=cursor.key[0], id=cursor.key[1])
            ties = f"{select} AND {column} = :value AND s.id {after} :id ORDER BY s.id {direction}"
            rows = conn.execute(f"{ties} LIMIT :n", params).fetchall()
            if len(rows) <= limit:
                params["n"] = limit + 1 - len(rows)
                rows += conn.execute(f"{select} AND {column} {after} :value {order}", params)
        return [Slice(*row) for row in rows]

    def get_slice(self, owner_id: int, slug: str) -> Slice | None:
        """The owner's slice with this slug, or None."""
        with self._read() as conn:
            return fetch_slice(conn, owner_id, slug)

    def slug_for(self, owner_id: int, name: str) -> str:
        """The slug a new slice of this name would get under this owner now."""
        with self._read() as conn:
            return free_slug(conn, owner_id, naming.slugify(name))

    def name_taken(self, dataset_id: int, name: str) -> bool:
        """Whether the dataset already has a slice of this name."""
        with self._read() as conn:
            return slice_name_taken(conn, dataset_id, name)

    def create_slice(
        self, dataset: Dataset, name: str, description: str, raw_filter: object | None
    ) -> Slice:
        """Store a new slice with an exact item count; DuplicateName if the name is taken."""
        node = None if raw_filter is None else parse_filter(raw_filter)
        filter_json = None if raw_filter is None else json.dumps(raw_filter, separators=(",", ":"))
        with self._write() as conn:
            if slice_name_taken(conn, dataset.id, name):
                raise DuplicateName(name)
            slug = free_slug(conn, dataset.owner.id, naming.slugify(name))
            stamp = now_stamp()
            insert_slice(
                conn,
                uid=str(uuid.uuid4()),
                owner_id=dataset.owner.id,
                dataset_id=dataset.id,
                name=name,
                slug=slug,
                description=description,
                filter_json=filter_json,
                item_count=count_matching(conn, dataset.id, node),
                created_at=stamp,
                updated_at=stamp,
            )
            created = fetch_slice(conn, dataset.owner.id, slug)
        assert created is not None
        return created

    def delete_slice(self, slice_id: int) -> bool:
        """Delete a slice (its dataset's items stay); False if it was already gone."""
        with self._write() as conn:
            return conn.execute("DELETE FROM slices WHERE id = ?", (slice_id,)).rowcount > 0


# --- within a transaction ----------------------------------------------------------------------


def fetch_slice(conn: sqlite3.Connection, owner_id: int, slug: str) -> Slice | None:
    """The owner's slice with this slug, or None."""
    row = conn.execute(
        f"SELECT {_SLICE_COLUMNS} {_SLICE_FROM} WHERE s.owner_id = ? AND s.slug = ?",
        (owner_id, slug),
    ).fetchone()
    return None if row is None else Slice(*row)


def slice_name_taken(conn: sqlite3.Connection, dataset_id: int, name: str) -> bool:
    """Whether the dataset already has a slice of this name."""
    row = conn.execute(
        "SELECT 1 FROM slices WHERE dataset_id = ? AND name = ?", (dataset_id, name)
    ).fetchone()
    return row is not None


def insert_slice(
    conn: sqlite3.Connection,
    *,
    uid: str,
    owner_id: int,
    dataset_id: int,
    name: str,
    slug: str,
    description: str,
    filter_json: str | None,
    item_count: int,
    created_at: str,
    updated_at: str,
) -> None:
    """Add a slice whose name and slug the caller has checked are free."""
    conn.execute(
        "INSERT INTO slices (uid, owner_id, dataset_id, name, slug, description, filter, "
        "item_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            uid,
            owner_id,
            dataset_id,
            name,
            slug,
            description,
            filter_json,
            item_count,
            created_at,
            updated_at,
        ),
    )


def free_slug(conn: sqlite3.Connection, owner_id: int, base: str) -> str:
    """``base``, or the first ``base-N`` no slice of the owner has."""
    # Every slug that starts like any ``base-N`` could (a superset, narrowed by first_free_slug),
    # found by an index range: slugs are ASCII, so nothing of the family sorts past prefix+DEL.
    prefix = naming.suffix_prefix(base)
    taken = {
        row[0]
        for row in conn.execute(
            "SELECT slug FROM slices WHERE owner_id = ? AND slug >= ? AND slug < ?",
            (owner_id, prefix, prefix + "\x7f"),
        )
    }
    return naming.first_free_slug(base, taken)


def count_matching(conn: sqlite3.Connection, dataset_id: int, node: Node | None) -> int:
    """How many of the dataset's items the filter matches (all of them for no filter)."""
    where, params = compile_filter(node)
    sql = f"SELECT count(*) FROM items i WHERE i.dataset_id = ? AND {where}"  # noqa: S608 - only compiled filter SQL and fixed names, values bound
    return int(conn.execute(sql, [dataset_id, *params]).fetchone()[0])


def adjust_item_counts(
    conn: sqlite3.Connection, dataset_id: int, selection: str, params: list[Any], sign: int
) -> None:
    """Add (or subtract) to each slice's item_count the selected items its filter matches."""
    stamp = now_stamp()
    slices = conn.execute(
        "SELECT id, filter FROM slices WHERE dataset_id = ?", (dataset_id,)
    ).fetchall()
    for slice_id, filter_json in slices:
        where, filter_params = compile_filter(stored_filter(filter_json))
        matched = conn.execute(
            f"SELECT count(*) FROM items i WHERE i.dataset_id = ? AND {selection} AND {where}",  # noqa: S608 - only compiled filter SQL and fixed names, values bound
            [dataset_id, *params, *filter_params],
        ).fetchone()[0]
        if matched:
            conn.execute(
                "UPDATE slices SET item_count = item_count + ?, updated_at = ? WHERE id = ?",
                (sign * matched, stamp, slice_id),
            )
