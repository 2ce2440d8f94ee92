"""An independent, plain-Python profile of items (see ``docs/contracts.md``), to check SQL against.

It reads every item's metadata as decoded JSON; nothing here comes from the store's code.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from .reference import lookup

# What the filter language accepts as one metadata name.
_NAME = re.compile(r'[^."\\\x00-\x1f\x7f]+\Z')
_SCALARS = ("boolean", "number", "string")


def type_name(value: Any) -> str:
    """The profile's name of a JSON value's type."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def leaf_paths(metadata: dict[str, Any], prefix: str = "metadata") -> set[str]:
    """The filter paths at which ``metadata`` holds something other than null or an object."""
    found: set[str] = set()
    for name, value in metadata.items():
        if not _NAME.match(name):
            continue
        path = f"{prefix}.{name}"
        if isinstance(value, dict):
            found |= leaf_paths(value, path)
        elif value is not None:
            found.add(path)
    return found


def _distinct_key(value: Any) -> Any:
    # 1 and 1.0 are one number (and hash alike); lists and objects are told apart by their text.
    kind = type_name(value)
    if kind in ("array", "object"):
        return kind, json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return kind, value


def profile_field(items: list[dict[str, Any]], path: str, top: int) -> dict[str, Any]:
    """The profile of one path over the items (each with ``key``, ``created_at``, ``metadata``),
    in the API's JSON shape."""
    present = [value for value in (lookup(item, path) for item in items) if _is_value(value)]
    types = Counter(type_name(value) for value in present)
    counts = Counter(_distinct_key(value) for value in present)
    scalars = [(kind, value, n) for (kind, value), n in counts.items() if kind in _SCALARS]
    scalars.sort(key=lambda entry: (-entry[2], entry[0], entry[1]))
    numbers = [value for value in present if type_name(value) == "number"]
    strings = [value for value in present if type_name(value) == "string"]
    bounded = numbers or strings
    return {
        "path": path,
        "types": dict(types),
        "present": len(present),
        "distinct": len(counts),
        "top": [{"value": value, "count": n} for _, value, n in scalars[:top]],
        "min": min(bounded) if bounded else None,
        "max": max(bounded) if bounded else None,
    }


def _is_value(value: Any) -> bool:
    # ``lookup`` answers a private marker for a missing path; null counts as missing too.
    return value is not None and isinstance(value, bool | int | float | str | list | dict)


def typed(value: Any) -> Any:
    """A value with its type, so that ``True`` and ``1``, or ``1`` and ``"1"``, never compare
    equal; numbers keep comparing by value (``1`` and ``1.0`` are one number)."""
    if isinstance(value, dict):
        return {key: typed(entry) for key, entry in value.items()}
    if isinstance(value, list | tuple):
        return [typed(entry) for entry in value]
    if value is None:
        return None
    return (type_name(value), value)
