"""Datasets: finding one (by uid, or by owner and slug), listing those a user sees, adding one."""

from __future__ import annotations

import sqlite3
from typing import Any

from avala_mcp.embedded import naming
from avala_mcp.embedded.paging import Cursor
from avala_mcp.embedded.store.connection import Database
from avala_mcp.embedded.store.records import Dataset, DatasetInfo, Owner

_DATASET_SELECT = (
    "SELECT d.id, d.uid, d.name, o.id, o.slug, o.kind, d.media_root FROM datasets d "
    "JOIN accounts o ON o.id = d.owner_id"
)
# The datasets a user sees: their own, and those of every organization they are a member of.
_VISIBLE = (
    "(d.owner_id = :user OR d.owner_id IN "
    "(SELECT organization_id FROM memberships WHERE user_id = :user))"
)
_NAME_MATCH = "instr(avala_casefold(d.name), :name) > 0"


def _casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


def _with_casefold(conn: sqlite3.Connection) -> sqlite3.Connection:
    # SQLite's own lower() folds ASCII only; "name=" is case-insensitive for every script.
    conn.create_function("avala_casefold", 1, _casefold, deterministic=True)
    return conn


def _dataset(row: tuple[Any, ...] | None) -> Dataset | None:
    """The Dataset of a ``_DATASET_SELECT`` row, or None for no row."""
    if row is None:
        return None
    return Dataset(row[0], row[1], row[2], Owner(*row[3:6]), media_root=row[6])


def _info_select(inner: str) -> str:
    """DatasetInfo columns over the datasets ``inner`` selects (as ``p``); items are counted only
    for those rows, so a page of a listing counts the items of its own datasets only."""
    return (
        "SELECT p.id, p.uid, p.name, p.slug, o.slug, "  # noqa: S608 - only fixed SQL, values bound
        "(SELECT count(*) FROM items i WHERE i.dataset_id = p.id), p.created_at, p.updated_at "
        f"FROM ({inner}) p JOIN accounts o ON o.id = p.owner_id"
    )


class DatasetQueries(Database):
    """Looking datasets up and listing them."""

    def dataset(self, uid: str) -> Dataset | None:
        """The dataset with this uid, or None."""
        with self._read() as conn:
            row = conn.execute(f"{_DATASET_SELECT} WHERE d.uid = ?", (uid,)).fetchone()
        return _dataset(row)

    def dataset_by_slug(self, owner_id: int, slug: str) -> Dataset | None:
        """The owner's dataset with this slug (the oldest, should two share it), or None."""
        with self._read() as conn:
            row = conn.execute(
                f"{_DATASET_SELECT} WHERE d.owner_id = ? AND d.slug = ? ORDER BY d.id LIMIT 1",
                (owner_id, slug),
            ).fetchone()
        return _dataset(row)

    def dataset_info(self, dataset_id: int) -> DatasetInfo:
        """What the API shows of an existing dataset."""
        with self._read() as conn:
            sql = _info_select("SELECT * FROM datasets WHERE id = ?")
            return DatasetInfo(*conn.execute(sql, (dataset_id,)).fetchone())

    def dataset_item_count(self, dataset_id: int) -> int:
        """How many items the dataset holds."""
        with self._read() as conn:
            row = conn.execute("SELECT count(*) FROM items WHERE dataset_id = ?", (dataset_id,))
            return int(row.fetchone()[0])

    def count_datasets(self, user_id: int, name: str | None) -> int:
        """How many datasets the user sees (whose name holds ``name``, ignoring case)."""
        where, params = _listing_terms(user_id, name)
        with self._read() as conn:
            sql = f"SELECT count(*) FROM datasets d WHERE {where}"  # noqa: S608 - only fixed SQL, values bound
            return int(_with_casefold(conn).execute(sql, params).fetchone()[0])

    def list_datasets(
        self, user_id: int, name: str | None, cursor: Cursor | None, limit: int
    ) -> list[DatasetInfo]:
        """Up to ``limit + 1`` of the datasets the user sees, by name then id, from the cursor
        on in its direction."""
        where, params = _listing_terms(user_id, name)
        forward = cursor is None or cursor.forward
        if cursor is not None:
            where += f" AND (d.name, d.id) {'>' if forward else '<'} (:name_key, :id_key)"
            params.update(name_key=cursor.key[0], id_key=cursor.key[1])
        direction = "ASC" if forward else "DESC"
        params["n"] = limit + 1
        inner = (
            f"SELECT d.* FROM datasets d WHERE {where} "  # noqa: S608 - only fixed SQL, values bound
            f"ORDER BY d.name {direction}, d.id {direction} LIMIT :n"
        )
        outer = f"{_info_select(inner)} ORDER BY p.name {direction}, p.id {direction}"
        with self._read() as conn:
            rows = _with_casefold(conn).execute(outer, params)
            return [DatasetInfo(*row) for row in rows]


def _listing_terms(user_id: int, name: str | None) -> tuple[str, dict[str, Any]]:
    where = _VISIBLE
    params: dict[str, Any] = {"user": user_id}
    if name:
        where += f" AND {_NAME_MATCH}"
        params["name"] = name.casefold()
    return where, params


# --- within a transaction ----------------------------------------------------------------------


def insert_dataset(
    conn: sqlite3.Connection,
    *,
    uid: str,
    owner_id: int,
    name: str,
    slug: str,
    created_at: str,
    updated_at: str,
) -> int:
    """Add an empty dataset; returns its id."""
    dataset_id = conn.execute(
        "INSERT INTO datasets (uid, owner_id, name, slug, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (uid, owner_id, name, slug, created_at, updated_at),
    ).lastrowid
    assert dataset_id is not None
    return dataset_id


def dataset_name_taken(conn: sqlite3.Connection, owner_id: int, name: str) -> bool:
    """Whether the owner already has a dataset of this name."""
    row = conn.execute(
        "SELECT 1 FROM datasets WHERE owner_id = ? AND name = ?", (owner_id, name)
    ).fetchone()
    return row is not None


def free_dataset_slug(conn: sqlite3.Connection, owner_id: int, name: str) -> str:
    """The slug of ``name``, or the first ``slug-N`` none of the owner's datasets has.

    Dataset names are unique per owner but their slugs need not be ("Scale" and "scale"), and
    ``/datasets/{owner}/{slug}/items/`` must name one dataset.
    """
    taken = {
        row[0] for row in conn.execute("SELECT slug FROM datasets WHERE owner_id = ?", (owner_id,))
    }
    return naming.first_free_slug(naming.slugify(name), taken)
