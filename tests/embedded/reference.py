"""An independent, plain-Python reading of the filter language, to check SQL and the evaluator.

Written apart from ``avala_mcp``: it reads the raw JSON filter, not the parsed tree. With it, the
language's grammar as hypothesis strategies (:func:`conditions`, :func:`trees`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

_MISSING = object()
Values = Callable[[str], st.SearchStrategy[Any]]
OPERATORS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "exists"]


def conditions(
    fields: Sequence[str], values: Values, ordered: Values
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid conditions on ``fields``: ``values(field)`` gives the values to test for equality,
    membership and containment, ``ordered(field)`` those to compare with (no booleans)."""

    @st.composite
    def condition(draw: st.DrawFn) -> dict[str, Any]:
        field = draw(st.sampled_from(fields))
        op = draw(st.sampled_from(OPERATORS))
        if op == "exists":
            value: Any = draw(st.booleans())
        elif op in ("in", "nin"):
            value = draw(st.lists(values(field), max_size=4))
        elif op in ("gt", "gte", "lt", "lte"):
            value = draw(ordered(field))
        else:
            value = draw(values(field))
        return {"field": field, "op": op, "value": value}

    return condition()


def trees(conditions: st.SearchStrategy[dict[str, Any]], max_leaves: int) -> st.SearchStrategy[Any]:
    """Filters (raw JSON) built of ``conditions`` with ``and``, ``or`` and ``not``."""
    return st.recursive(
        conditions,
        lambda inner: st.one_of(
            st.builds(lambda xs: {"and": xs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda xs: {"or": xs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda x: {"not": x}, inner),
        ),
        max_leaves=max_leaves,
    )


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


def _as_stored(value: Any) -> Any:
    """A number as SQLite reads it from JSON: an integer past 64 bits is a float, or infinite."""
    if _kind(value) == "number" and isinstance(value, int) and not -(2**63) <= value <= 2**63 - 1:
        try:
            return float(value)
        except OverflowError:
            return float("inf") if value > 0 else float("-inf")
    return value


def _same(a: Any, b: Any) -> bool:
    return _kind(a) == _kind(b) != "other" and _as_stored(a) == _as_stored(b)


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
    value = _as_stored(value)
    return bool(
        {
            "gt": value > expected,
            "gte": value >= expected,
            "lt": value < expected,
            "lte": value <= expected,
        }[op]
    )
