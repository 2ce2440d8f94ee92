"""An independent, plain-Python reading of the filter language (DESIGN §3), to check SQL against."""

from __future__ import annotations

from typing import Any

_MISSING = object()


def lookup(item: dict[str, Any], field: str) -> Any:
    """The value a filter path names in an item (``key``, ``created_at``, ``metadata.a.b``)."""
    if field in ("key", "created_at"):
        return item[field]
    value: Any = item["metadata"]
    for name in field.split(".")[1:]:
        if not isinstance(value, dict) or name not in value:
            return _MISSING
        value = value[name]
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "other"


def _same(a: Any, b: Any) -> bool:
    return _kind(a) == _kind(b) != "other" and a == b


def matches(item: dict[str, Any], node: dict[str, Any]) -> bool:
    """Whether ``item`` satisfies the filter ``node``."""
    if "and" in node:
        return all(matches(item, child) for child in node["and"])
    if "or" in node:
        return any(matches(item, child) for child in node["or"])
    if "not" in node:
        return not matches(item, node["not"])
    op, expected = node["op"], node["value"]
    value = lookup(item, node["field"])
    present = value is not _MISSING and value is not None
    if op == "exists":
        return present == expected
    if op == "ne":
        return not matches(item, {**node, "op": "eq"})
    if op == "nin":
        return not matches(item, {**node, "op": "in"})
    if not present:
        return False
    if op == "eq":
        return _same(value, expected)
    if op == "in":
        return any(_same(value, candidate) for candidate in expected)
    if op == "contains":
        if isinstance(value, str) and isinstance(expected, str):
            return expected in value
        return isinstance(value, list) and any(_same(element, expected) for element in value)
    if _kind(value) != _kind(expected) or _kind(value) not in ("number", "string"):
        return False
    return bool(
        {
            "gt": value > expected,
            "gte": value >= expected,
            "lt": value < expected,
            "lte": value <= expected,
        }[op]
    )
