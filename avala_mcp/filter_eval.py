"""Evaluating a parsed filter over items in Python, exactly as the embedded API's SQL does.

An item is a mapping with ``key`` and ``created_at`` (text) and ``metadata`` (a dict), as decoded
from JSON. The rules (``docs/contracts.md``), as SQLite applies them to the compiled filter
(:mod:`avala_mcp.embedded.sql`):

- a field an item lacks, or holds as null, fails every condition but ``ne``, ``nin`` and
  ``exists: false``;
- no type conversion: ``"5"`` is not ``5``, and a boolean is not a number;
- numbers compare numerically, integers and floats alike; an integer beyond 64 bits is read as
  the nearest float (as SQLite reads it from JSON);
- strings compare by code point, which is how SQLite compares UTF-8 text (byte by byte);
- ``contains`` is a substring of a string or an element of a list; ``in`` and ``nin`` compare
  each element by its own type.

One difference remains, in SQLite itself: before 3.45 its JSON functions read a metadata string
only up to a U+0000 it holds; this module reads the whole string, as later versions do.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from avala_mcp.filters import COLUMN_FIELDS, Condition, Group, Node, Not, Scalar

Item: TypeAlias = Mapping[str, Any]
#: A compiled filter: whether an item matches it.
Predicate: TypeAlias = Callable[[Item], bool]
_Test: TypeAlias = Callable[[Any], bool]

_INT64 = 2**63
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
# Compiled predicates by node identity (a node is immutable, so its predicate never goes stale):
# hashing a whole tree on every call would cost about as much as evaluating it.
_COMPILED: dict[int, tuple[Node, Predicate]] = {}
_COMPILED_MAX = 256


def matches(node: Node, item: Item) -> bool:
    """Whether ``item`` satisfies the filter ``node``; compiled once per node, then cached."""
    entry = _COMPILED.get(id(node))
    if entry is None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        # The entry keeps the node alive, so no other object can take over its id meanwhile.
        entry = _COMPILED[id(node)] = (node, matcher(node))
    return entry[1](item)


def matcher(node: Node) -> Predicate:
    """Compile ``node`` into a predicate over items."""
    if isinstance(node, Group):
        children = tuple(matcher(child) for child in node.children)
        if node.kind == "and":
            return lambda item: all(child(item) for child in children)
        return lambda item: any(child(item) for child in children)
    if isinstance(node, Not):
        child = matcher(node.child)
        return lambda item: not child(item)
    return _condition(node)


def _condition(condition: Condition) -> Predicate:
    read = _reader(condition.field)
    op, value = condition.op, condition.value
    if op == "exists":
        return lambda item: (read(item) is not None) is value
    positive = {"ne": "eq", "nin": "in"}.get(op, op)
    test = _member(value) if isinstance(value, tuple) else _test(positive, value)

    def holds(item: Item) -> bool:
        found = read(item)
        return found is not None and test(found)

    if positive != op:
        return lambda item: not holds(item)
    return holds


def _reader(field: str) -> Callable[[Item], Any]:
    """How to read a field of an item; None when it is missing or null."""
    if field in COLUMN_FIELDS:

        def column(item: Item) -> Any:
            value = item.get(field)
            # The embedded API keeps these as text columns: nothing else can be there.
            return value if isinstance(value, str) else None

        return column
    names = field.split(".")[1:]

    def metadata(item: Item) -> Any:
        value: Any = item.get("metadata")
        for name in names:
            if not isinstance(value, dict):
                return None
            value = value.get(name)
        return value

    return metadata


def _test(op: str, value: Scalar) -> _Test:
    """The test a present value must pass (``op`` is eq, contains or an ordering)."""
    if op == "contains":
        return _contains(value)
    compare = _COMPARE[op]
    if isinstance(value, bool):
        # Only eq and ne take a boolean; a boolean is only ever equal to itself.
        return lambda found: found is value
    if isinstance(value, str):
        return lambda found: isinstance(found, str) and compare(found, value)
    return lambda found: (number := _number(found)) is not None and compare(number, value)


def _number(value: Any) -> int | float | None:
    """``value`` as SQLite reads a JSON number; None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        try:
            return float(value)
        except OverflowError:
            return float("inf") if value > 0 else float("-inf")
    return value


def _member(values: tuple[Scalar, ...]) -> _Test:
    # One set per type: in Python True == 1, so mixing them would confuse the two.
    strings = frozenset(value for value in values if isinstance(value, str))
    flags = frozenset(value for value in values if isinstance(value, bool))
    numbers = frozenset(value for value in values if _number(value) is not None)

    def member(found: Any) -> bool:
        if isinstance(found, str):
            return found in strings
        if isinstance(found, bool):
            return found in flags
        number = _number(found)
        return number is not None and number in numbers

    return member


def _contains(value: Scalar) -> _Test:
    if isinstance(value, str):
        # A substring of a string, or an element of a list: only a string equals a string.
        return lambda found: isinstance(found, str | list) and value in found
    same = _test("eq", value)
    return lambda found: isinstance(found, list) and any(map(same, found))
