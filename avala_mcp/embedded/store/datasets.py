"""Datasets: finding one by uid, and adding one (by the demo data and by imports)."""

from __future__ import annotations

import sqlite3

from avala_mcp.embedded.store.connection import Database
from avala_mcp.embedded.store.records import Dataset, Owner


class DatasetQueries(Database):
    """Looking datasets up."""

    def dataset(self, uid: str) -> Dataset | None:
        """The dataset with this uid, or None."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT d.id, d.uid, d.name, o.id, o.slug, o.kind, d.media_root FROM datasets d "
                "JOIN accounts o ON o.id = d.owner_id WHERE d.uid = ?",
                (uid,),
            ).fetchone()
        if row is None:
            return None
        return Dataset(row[0], row[1], row[2], Owner(*row[3:6]), media_root=row[6])


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
