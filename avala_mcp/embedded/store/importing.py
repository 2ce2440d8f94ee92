"""Importing a dataset: every item, and the slice that lists it, in one transaction."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable, Sequence

from avala_mcp.embedded import naming
from avala_mcp.embedded.media import MEDIA_SCHEME
from avala_mcp.embedded.store.accounts import ensure_organization
from avala_mcp.embedded.store.connection import Database
from avala_mcp.embedded.store.datasets import (
    dataset_name_taken,
    free_dataset_slug,
    insert_dataset,
)
from avala_mcp.embedded.store.items import INSERT_ITEM, item_row
from avala_mcp.embedded.store.records import ImportFailed, NewItem, StoreError, now_stamp
from avala_mcp.embedded.store.slices import free_slug, insert_slice


class DatasetImport(Database):
    """All or nothing: a dataset with bad rows is never partly written."""

    def import_dataset(
        self,
        owner_slug: str,
        name: str,
        batches: Iterable[Sequence[NewItem]],
        errors: list[str],
        media_root: str | None = None,
    ) -> tuple[str, int]:
        """Create a dataset from batches of items in one transaction: all or nothing.

        ``errors`` collects bad rows (the caller's and duplicate keys found here); if it holds any
        once the batches are exhausted, or anything raises, nothing is written. Creates the owner
        as an organization, with the demo user as member, if it does not exist. ``media_root``
        is kept as the dataset's only if an item names a local image (a ``media:`` url), so the
        API serves nothing from a directory no item uses. Returns the new dataset's uid and its
        item count.
        """
        with self._write() as conn:
            owner_id = ensure_organization(conn, owner_slug)
            if dataset_name_taken(conn, owner_id, name):
                raise StoreError(f"{owner_slug!r} already has a dataset named {name!r}")
            uid = str(uuid.uuid4())
            stamp = now_stamp()
            dataset_id = insert_dataset(
                conn,
                uid=uid,
                owner_id=owner_id,
                name=name,
                slug=free_dataset_slug(conn, owner_id, name),
                created_at=stamp,
                updated_at=stamp,
            )
            count = 0
            uses_media = False
            for batch in batches:
                uses_media = uses_media or any(
                    item.url is not None and item.url.startswith(MEDIA_SCHEME) for item in batch
                )
                # Rows keep going in after a bad one (the transaction is rolled back in the end)
                # so that a repeated key further on is reported too.
                conn.execute("SAVEPOINT batch")
                try:
                    conn.executemany(INSERT_ITEM, (item_row(dataset_id, i, stamp) for i in batch))
                except sqlite3.IntegrityError:
                    conn.execute("ROLLBACK TO batch")
                    errors.extend(_insert_one_by_one(conn, batch, dataset_id, stamp))
                conn.execute("RELEASE batch")
                count += len(batch)
            if not errors and count == 0:
                errors.append("no items to import")
            if errors:
                raise ImportFailed(errors)
            if media_root is not None and uses_media:
                conn.execute(
                    "UPDATE datasets SET media_root = ? WHERE id = ?", (media_root, dataset_id)
                )
            # The Slices API lists slices, not datasets: a slice holding the whole dataset is
            # how an assistant (list_slices) finds the new dataset and its uid.
            whole = naming.whole_dataset_slice_name(name)
            insert_slice(
                conn,
                uid=str(uuid.uuid4()),
                owner_id=owner_id,
                dataset_id=dataset_id,
                name=whole,
                slug=free_slug(conn, owner_id, naming.slugify(whole)),
                description=f"Every item of the dataset '{name}', as imported",
                filter_json=None,
                item_count=count,
                created_at=stamp,
                updated_at=stamp,
            )
        return uid, count


def _insert_one_by_one(
    conn: sqlite3.Connection, batch: Sequence[NewItem], dataset_id: int, stamp: str
) -> list[str]:
    """Insert a batch that failed as a whole row by row, naming each row that repeats a key."""
    problems = []
    for item in batch:
        try:
            conn.execute(INSERT_ITEM, item_row(dataset_id, item, stamp))
        except sqlite3.IntegrityError:
            first = conn.execute(
                "SELECT 1 FROM items WHERE dataset_id = ? AND key = ?", (dataset_id, item.key)
            ).fetchone()
            if first is None:
                raise
            problems.append(f"line {item.line}: duplicate key {item.key!r}")
    return problems
