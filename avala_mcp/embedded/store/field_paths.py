"""Field paths, as the filter language writes them: checking one, and finding a dataset's.

A dataset's paths are found in SQL by ``json_tree`` over its items' metadata, at the moment they
are asked for, so they are right for whatever wrote the items (the demo data, an import, items
added or removed later) without a table to keep in step.
"""

from __future__ import annotations

import re
import sqlite3

from avala_mcp.filters import COLUMN_FIELDS, FilterError, parse_filter

# One step of a ``json_tree`` full key after the ``$``: ``.name`` or ``."name"`` (SQLite quotes a
# key unless it is alphanumeric, keeping its JSON escapes). A step into an array (``[0]``), a
# quoted key with an escape in it, or anything else does not match: no filter can name those.
_STEP_RE = re.compile(r'\.(?:"([^"\\]*)"|([^."\\\[\]]+))')

# Every full key of the dataset's metadata with the types found there. (Leaving objects and nulls
# out in SQL rather than in Python makes SQLite's json_tree walk markedly slower.)
_KEYS_SQL = """
    SELECT DISTINCT e.fullkey, e.type FROM items i, json_tree(i.metadata) AS e
    WHERE i.dataset_id = ?
"""
#: Where no path ends: objects lead to paths, and null counts as missing.
_NO_LEAF = frozenset({"object", "null"})


def path_error(field: str) -> str | None:
    """What is wrong with ``field`` as a filter path (``key``, ``created_at``, ``metadata.a.b``),
    or None if it is one; the one judge is the filter language's own parser."""
    try:
        parse_filter({"field": field, "op": "exists", "value": True})
    except FilterError as error:
        return str(error).removeprefix("field: ")
    return None


def json_path(field: str) -> str:
    """The SQLite JSON path of a metadata field path (``metadata.a.b`` -> ``$."a"."b"``)."""
    return "$" + "".join(f'."{name}"' for name in field.split(".")[1:])


def is_column(field: str) -> bool:
    """Whether the path names an item column (``key``, ``created_at``), not metadata."""
    return field in COLUMN_FIELDS


def filter_path(fullkey: str) -> str | None:
    """The filter path of a ``json_tree`` full key (``$.a."b c"`` -> ``metadata.a.b c``), or None
    where no filter could name it (inside a list, or a name the filter language refuses)."""
    if not fullkey.startswith("$"):
        return None
    names: list[str] = []
    position = 1
    while position < len(fullkey):
        step = _STEP_RE.match(fullkey, position)
        if step is None:
            return None
        names.append(step.group(1) if step.group(1) is not None else step.group(2))
        position = step.end()
    # A name holding the separator would read as two: ``metadata.a.b`` is not the key "a.b".
    if not names or any("." in name for name in names):
        return None
    field = "metadata." + ".".join(names)
    return field if path_error(field) is None else None


def dataset_paths(conn: sqlite3.Connection, dataset_id: int) -> list[str]:
    """Every metadata path at which some item of the dataset holds a value other than an object
    (a leaf, or a list as a whole: list elements are no paths of their own), in order."""
    leaves = {key for key, kind in conn.execute(_KEYS_SQL, (dataset_id,)) if kind not in _NO_LEAF}
    found = (filter_path(key) for key in leaves)
    return sorted({path for path in found if path is not None})
