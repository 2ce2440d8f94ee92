"""Items: a slice's or a dataset's items page by page, one by its key, and adding or removing them.

Every writer stores metadata through ``metadata_json`` and new rows through ``INSERT_ITEM``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

from avala_mcp.embedded.paging import Cursor
from avala_mcp.embedded.sql import compile_filter
from avala_mcp.embedded.store.connection import Database
from avala_mcp.embedded.store.records import Dataset, Item, NewItem, Slice, now_stamp
from avala_mcp.embedded.store.slices import adjust_item_counts
from avala_mcp.filters import Node

_ITEM_COLUMNS = "i.id, i.uid, i.key, i.url, i.metadata, i.created_at, i.updated_at"
INSERT_ITEM = (
    "INSERT INTO items (uid, dataset_id, key, url, metadata, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)

# Built once: json.dumps with options would build a new encoder on every call.
_METADATA_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def metadata_json(metadata: dict[str, Any]) -> str:
    """How item metadata is stored, by every writer: compact, and non-ASCII as itself.

    Never ``\\u`` escapes: SQLite's JSON path lookup compares object keys as stored, so a key
    written escaped would never be found by a filter on that name.
    """
    return _METADATA_ENCODER.encode(metadata)


def new_uid() -> str:
    """A random (version 4) UUID as text; twice as fast as ``str(uuid.uuid4())``, for imports."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def item_row(dataset_id: int, item: NewItem, stamp: str) -> tuple[Any, ...]:
    """The parameters of ``INSERT_ITEM`` for a new item."""
    return (new_uid(), dataset_id, item.key, item.url, item.metadata_json, stamp, stamp)


def _item(row: Sequence[Any]) -> Item:
    """An item from a row of ``_ITEM_COLUMNS``."""
    return Item(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6])


class ItemQueries(Database):
    """Reading a slice's items; adding and removing items with every item count kept exact."""

    def slice_items(self, piece: Slice, cursor: Cursor | None, limit: int) -> list[Item]:
        """Up to ``limit + 1`` of the slice's items from the cursor on, in its direction."""
        return self.dataset_items(piece.dataset_id, cursor, limit, piece.filter_node())

    def dataset_items(
        self, dataset_id: int, cursor: Cursor | None, limit: int, node: Node | None = None
    ) -> list[Item]:
        """Up to ``limit + 1`` of the dataset's items (those ``node`` matches, if given) from the
        cursor on, in its direction, by id."""
        where, params = compile_filter(node)
        forward = cursor is None or cursor.forward
        position = ""
        if cursor is not None:
            position = f" AND i.id {'>' if forward else '<'} ?"
            params.insert(0, cursor.key[0])
        sql = (
            f"SELECT {_ITEM_COLUMNS} FROM items i WHERE i.dataset_id = ?{position} AND {where} "  # noqa: S608 - only compiled filter SQL and fixed names, values bound
            f"ORDER BY i.id {'ASC' if forward else 'DESC'} LIMIT ?"
        )
        with self._read() as conn:
            rows = conn.execute(sql, [dataset_id, *params, limit + 1]).fetchall()
        return [_item(row) for row in rows]

    def item_by_key(self, dataset_id: int, key: str) -> Item | None:
        """The dataset's item with this key, or None."""
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_ITEM_COLUMNS} FROM items i WHERE i.dataset_id = ? AND i.key = ?",  # noqa: S608 - fixed names, values bound
                (dataset_id, key),
            ).fetchone()
        return None if row is None else _item(row)

    def add_items(self, dataset: Dataset, items: Iterable[NewItem]) -> int:
        """Add items to a dataset, keeping every slice's item_count exact; returns how many."""
        with self._write() as conn:
            before = conn.execute("SELECT IFNULL(max(id), 0) FROM items").fetchone()[0]
            stamp = now_stamp()
            conn.executemany(INSERT_ITEM, (item_row(dataset.id, item, stamp) for item in items))
            added = conn.execute(
                "SELECT count(*) FROM items WHERE dataset_id = ? AND id > ?", (dataset.id, before)
            ).fetchone()[0]
            adjust_item_counts(conn, dataset.id, "i.id > ?", [before], +1)
        return int(added)

    def remove_items(self, dataset: Dataset, keys: Sequence[str]) -> int:
        """Remove the dataset's items with these keys, keeping item counts exact."""
        with self._write() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (key TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM doomed")
            conn.executemany("INSERT OR IGNORE INTO doomed VALUES (?)", ((k,) for k in keys))
            selection = "i.key IN (SELECT key FROM doomed)"
            adjust_item_counts(conn, dataset.id, selection, [], -1)
            removed = conn.execute(
                "DELETE FROM items WHERE dataset_id = ? AND key IN (SELECT key FROM doomed)",
                (dataset.id,),
            ).rowcount
            conn.execute("DELETE FROM doomed")
        return int(removed)
