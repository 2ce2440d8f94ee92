"""A dataset's profile in SQL: how many items a filter matches and, per field path, the JSON types
found there, how many items have a value, how many distinct values, the most common ones, and
the least and greatest.

Every figure is exact and all of them come from one snapshot of the database. A filter is
evaluated once, into a temporary selection of item ids, not once per path. Per path, one
statement groups the selected items by the JSON text of their value there (``->``), which is
about what a hand-written ``GROUP BY`` on the field costs; everything else is worked out from
those groups, which are as many as the field has distinct values. JSON ``null`` counts as
missing, as in filters; numbers are compared as SQLite reads them, the reading filters use too.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from avala_mcp.contract import PROFILE_MAX_FIELDS
from avala_mcp.embedded.sql import compile_filter
from avala_mcp.embedded.store.connection import Database
from avala_mcp.embedded.store.field_paths import dataset_paths, is_column, json_path
from avala_mcp.embedded.store.slices import count_matching
from avala_mcp.filters import Node

#: A value a profile shows: a JSON scalar.
Value = str | int | float | bool

#: The type of a JSON text, told by how it starts; NULL for null and for missing.
_KIND = """CASE substr(j, 1, 1) WHEN '"' THEN 'string' WHEN '[' THEN 'array'
    WHEN '{' THEN 'object' WHEN 't' THEN 'boolean' WHEN 'f' THEN 'boolean'
    WHEN 'n' THEN NULL ELSE CASE WHEN j IS NOT NULL THEN 'number' END END"""
#: The string a JSON string text holds: the text between the quotes unless it has an escape.
_STRING = r"""CASE WHEN substr(j, 1, 1) = '"' THEN
    CASE WHEN instr(j, '\') THEN j ->> '$' ELSE substr(j, 2, length(j) - 2) END END"""


def _field_sql(value_sql: str, source: str) -> str:
    """One path's statement over the items ``i`` of ``source`` (what follows ``FROM``);
    ``value_sql`` is the JSON text of the field in item ``i``.

    Its rows are (tag, type, items, groups, low, high): a ``type`` row per JSON type, a
    ``numbers`` row, and a ``top`` row per common value (the value in ``low``). Null and missing
    values are left out after grouping, not by a ``HAVING``, which costs a tenth more.
    """
    return f"""
WITH grouped AS MATERIALIZED (
    SELECT {value_sql} AS j, count(*) AS n FROM {source} GROUP BY j
),
-- 1 and 1.0 are one number: numbers are grouped again, by value.
numbers AS MATERIALIZED (
    SELECT j + 0 AS value, sum(n) AS n FROM grouped WHERE {_KIND} = 'number' GROUP BY value
)
SELECT 'type', {_KIND} AS kind, sum(n), count(*), min({_STRING}), max({_STRING})
    FROM grouped WHERE kind IS NOT NULL GROUP BY kind
UNION ALL SELECT 'numbers', 'number', sum(n), count(*), min(value), max(value) FROM numbers
UNION ALL SELECT * FROM (
    SELECT 'top', kind, n, 1, value, NULL FROM (
        SELECT 'number' AS kind, value, n FROM numbers
        UNION ALL SELECT {_KIND}, coalesce({_STRING}, j = 'true'), n FROM grouped
            WHERE substr(j, 1, 1) IN ('"', 't', 'f')
    ) ORDER BY n DESC, kind, value LIMIT ?
)
"""  # noqa: S608 - only compiled filter SQL and fixed names, values bound


@dataclass(frozen=True)
class FieldProfile:
    """What the matching items hold at one path; ``top`` is (value, count), most common first."""

    path: str
    types: dict[str, int] = field(default_factory=dict)
    present: int = 0
    distinct: int = 0
    top: list[tuple[Value, int]] = field(default_factory=list)
    min: Value | None = None
    max: Value | None = None


@dataclass(frozen=True)
class Profile:
    """How many items match, and a profile of each path; ``truncated`` when paths were left out."""

    count: int
    fields: list[FieldProfile]
    truncated: bool


class ProfileQueries(Database):
    """Profiles of a dataset's items."""

    def profile(
        self, dataset_id: int, node: Node | None, fields: Sequence[str] | None, top: int
    ) -> Profile:
        """The profile of the dataset's items that ``node`` matches (all for None).

        ``fields`` are the paths to profile, in that order (checked filter paths); None means
        every metadata path some item of the dataset has, in order, at most
        ``PROFILE_MAX_FIELDS`` of them. ``top`` is how many common values to show per path.
        """
        with self._read() as conn, _snapshot(conn):
            paths = list(fields) if fields is not None else dataset_paths(conn, dataset_id)
            truncated = fields is None and len(paths) > PROFILE_MAX_FIELDS
            paths = paths[:PROFILE_MAX_FIELDS]
            if node is None or not paths:
                count = count_matching(conn, dataset_id, node)
                source, params = "items i WHERE i.dataset_id = ?", [dataset_id]
            else:
                count = _select(conn, dataset_id, node)
                source, params = _SELECTED, []
            profiles = [
                _field_profile(conn, source, params, path, top) if count else FieldProfile(path)
                for path in paths
            ]
        return Profile(count, profiles, truncated)


# The items a filter matched, found once for every path rather than once per path. A temporary
# table of this connection, written inside the profile's read transaction, which discards it.
_SELECTION_TABLE = "CREATE TEMP TABLE IF NOT EXISTS profile_selection (id INTEGER PRIMARY KEY)"
# CROSS JOIN keeps the selection the outer loop: each selected item is then one rowid lookup.
_SELECTED = "profile_selection s CROSS JOIN items i ON i.id = s.id"


def _select(conn: sqlite3.Connection, dataset_id: int, node: Node) -> int:
    """Put the ids of the items ``node`` matches into ``profile_selection``; returns how many."""
    where, params = compile_filter(node)
    conn.execute(_SELECTION_TABLE)
    sql = (
        f"INSERT INTO profile_selection SELECT i.id FROM items i WHERE i.dataset_id = ? AND {where}"  # noqa: S608 - only compiled filter SQL and fixed names, values bound
    )
    return int(conn.execute(sql, [dataset_id, *params]).rowcount)


# Each path is a scan of the selected items; a scan of more pages than the page cache holds only
# cycles them through it, and cycling through the store's 64 MiB measured about 15% more CPU per
# scan than a few recycled pages do (SQLite's default cache). Restored when the profile is done.
_SCAN_CACHE_SIZE = -2000


@contextlib.contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction, so the count and every path see the same items, with a page cache
    sized for scans."""
    (cache_size,) = conn.execute("PRAGMA cache_size").fetchone()
    conn.execute(f"PRAGMA cache_size = {_SCAN_CACHE_SIZE}")
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.execute(f"PRAGMA cache_size = {int(cache_size)}")


def _field_profile(
    conn: sqlite3.Connection, source: str, source_params: list[Any], path: str, top: int
) -> FieldProfile:
    if is_column(path):
        value_sql, value_params = f"json_quote(i.{path})", []
    else:
        value_sql, value_params = "i.metadata -> ?", [json_path(path)]
    sql = _field_sql(value_sql, source)
    rows = conn.execute(sql, [*value_params, *source_params, top]).fetchall()
    types: dict[str, int] = {}
    distinct = 0
    common: list[tuple[Value, int]] = []
    bounds: dict[str, tuple[Any, Any]] = {"string": (None, None)}
    for tag, kind, items, groups, low, high in rows:
        if tag == "top":
            common.append((bool(low) if kind == "boolean" else low, items))
        elif tag == "numbers":
            distinct += groups
            if groups:
                bounds["number"] = (low, high)
        else:
            types[kind] = items
            distinct += 0 if kind == "number" else groups
            if kind == "string":
                bounds["string"] = (low, high)
    low, high = bounds.get("number", bounds["string"])
    return FieldProfile(
        path=path,
        types=dict(sorted(types.items(), key=lambda kind: (-kind[1], kind[0]))),
        present=sum(types.values()),
        distinct=distinct,
        top=common,
        min=low,
        max=high,
    )
