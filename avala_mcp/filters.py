"""The slice filter language: one parser, one typed tree (see ``docs/contracts.md``).

A filter is validated once, by :func:`parse_filter`, into a tree of frozen nodes; a bad one raises
:class:`FilterError` naming where it is wrong. The tool inputs, the embedded API, its SQL compiler
(:mod:`avala_mcp.embedded.sql`) and the Python evaluator (:mod:`avala_mcp.filter_eval`) all take
that tree, so they accept and refuse the same filters. :func:`filter_to_json` writes a tree back
as the JSON the HTTP API takes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from avala_mcp.contract import (
    FILTER_MAX_BYTES,
    FILTER_MAX_CONDITIONS,
    FILTER_MAX_CONTAINS,
    FILTER_MAX_DEPTH,
    FILTER_MAX_PATH_LENGTH,
    FILTER_MAX_VALUE_BYTES,
)

MAX_DEPTH = FILTER_MAX_DEPTH
MAX_CONDITIONS = FILTER_MAX_CONDITIONS
MAX_CONTAINS = FILTER_MAX_CONTAINS
MAX_VALUE_BYTES = FILTER_MAX_VALUE_BYTES
MAX_PATH_LENGTH = FILTER_MAX_PATH_LENGTH
MAX_BYTES = FILTER_MAX_BYTES

COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte")
OPERATORS = (*COMPARISONS, "in", "nin", "contains", "exists")
_OPERATOR_LIST = ", ".join(OPERATORS)
COLUMN_FIELDS = ("key", "created_at")
_INT64 = 2**63
# A metadata name may hold anything but the separator, and what cannot be quoted in a JSON path
# ``$."name"``: the quote, the backslash (SQLite reads it as an escape there, so such a name never
# matches) and control characters.
_NAME_RE = re.compile(r'^[^."\\\x00-\x1f\x7f]+\Z')

Scalar: TypeAlias = str | int | float | bool
#: A condition's value: a scalar, or for ``in`` and ``nin`` a tuple of them (frozen, like the tree).
Value: TypeAlias = Scalar | tuple[Scalar, ...]


class FilterError(ValueError):
    """A filter that breaks the language; the message names the offending path."""


@dataclass(frozen=True)
class Condition:
    """``{"field": ..., "op": ..., "value": ...}`` after validation."""

    field: str
    op: str
    value: Value
    # In Python True == 1, but a filter on true is not one on 1: the values' types take part in
    # equality and hashing, so two nodes are equal only when they are the same filter.
    _types: tuple[type, ...] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        values = self.value if isinstance(self.value, tuple) else (self.value,)
        object.__setattr__(self, "_types", tuple(type(value) for value in values))


@dataclass(frozen=True)
class Group:
    """``{"and": [...]}`` or ``{"or": [...]}``."""

    kind: Literal["and", "or"]
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """``{"not": filter}``."""

    child: Node


Node: TypeAlias = Condition | Group | Not


def parse_filter(raw: object, *, stored: bool = False) -> Node:
    """Validate a filter as decoded from JSON; raise FilterError naming the bad path.

    ``stored`` reads back a filter a database already holds: one an older version may have
    accepted past today's size bounds (path length, value and total size), which bound what a
    caller may send, not what a slice may keep. Its shape is checked all the same.
    """
    counter = [0, 0]  # conditions, and those of them that are 'contains'
    node = _parse(raw, "", 1, counter, bounded=not stored)
    if not stored:
        size = len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_BYTES:
            raise FilterError(f"filter: filter is {size} bytes of JSON, over {MAX_BYTES}")
    return node


def filter_to_json(node: Node) -> dict[str, Any]:
    """The canonical JSON form of a parsed filter (``parse_filter`` reads it back unchanged)."""
    if isinstance(node, Group):
        return {node.kind: [filter_to_json(child) for child in node.children]}
    if isinstance(node, Not):
        return {"not": filter_to_json(node.child)}
    value = list(node.value) if isinstance(node.value, tuple) else node.value
    return {"field": node.field, "op": node.op, "value": value}


def _at(path: str) -> str:
    return path or "filter"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _parse(raw: object, path: str, depth: int, counter: list[int], *, bounded: bool) -> Node:
    if depth > MAX_DEPTH:
        raise FilterError(f"{_at(path)}: filter is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(raw, dict):
        raise FilterError(
            f"{_at(path)}: expected an object (a condition, or 'and', 'or', 'not'), "
            f"got {_json_type(raw)}"
        )
    combinators = [key for key in ("and", "or", "not") if key in raw]
    if combinators:
        if len(raw) != 1:
            extra = sorted(key for key in raw if key != combinators[0])
            raise FilterError(
                f"{_at(path)}: '{combinators[0]}' must be the only key, also found "
                + ", ".join(repr(key) for key in extra)
            )
        kind = combinators[0]
        inner_path = _join(path, kind)
        if kind == "not":
            return Not(_parse(raw["not"], inner_path, depth + 1, counter, bounded=bounded))
        children = raw[kind]
        if not isinstance(children, list) or not children:
            raise FilterError(f"{inner_path}: expected a non-empty list of filters")
        return Group(
            "and" if kind == "and" else "or",
            tuple(
                _parse(child, f"{inner_path}[{index}]", depth + 1, counter, bounded=bounded)
                for index, child in enumerate(children)
            ),
        )
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise FilterError(f"{_at(path)}: filter has more than {MAX_CONDITIONS} conditions")
    condition = _parse_condition(raw, path, bounded)
    if condition.op == "contains":
        counter[1] += 1
        if bounded and counter[1] > MAX_CONTAINS:
            raise FilterError(
                f"{_at(path)}: filter has more than {MAX_CONTAINS} 'contains' conditions"
            )
    return condition


def _parse_condition(raw: dict[str, Any], path: str, bounded: bool) -> Condition:
    unknown = sorted(set(raw) - {"field", "op", "value"})
    if unknown:
        raise FilterError(
            f"{_at(path)}: unexpected key {unknown[0]!r}; a condition has 'field', 'op', 'value' "
            "and a group has exactly one of 'and', 'or', 'not'"
        )
    for key in ("field", "op", "value"):
        if key not in raw:
            raise FilterError(f"{_join(path, key)}: this key is required")
    field = raw["field"]
    _check_field(field, _join(path, "field"), bounded)
    op = raw["op"]
    if not isinstance(op, str) or op not in OPERATORS:
        shown = repr(op) if isinstance(op, str) else _json_type(op)
        raise FilterError(
            f"{_join(path, 'op')}: unknown operator {shown}; expected one of {_OPERATOR_LIST}"
        )
    value = raw["value"]
    value_path = _join(path, "value")
    size = _json_size(value, value_path)
    if bounded and size > MAX_VALUE_BYTES:
        raise FilterError(f"{value_path}: value is {size} bytes, over {MAX_VALUE_BYTES}")
    _check_value(op, value, value_path)
    return Condition(field, op, tuple(value) if isinstance(value, list) else value)


def _json_size(value: object, path: str) -> int:
    """How many bytes ``value`` takes as JSON (UTF-8), the measure of the value bound."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        raise FilterError(f"{path}: not a JSON value") from None
    # A lone surrogate (which JSON's \ud800 escape can carry) is refused later, by its path;
    # counted here as the three bytes it would take.
    return len(text.encode("utf-8", "surrogatepass"))


def _check_field(field: object, path: str, bounded: bool) -> None:
    if not isinstance(field, str):
        raise FilterError(f"{path}: expected a string, got {_json_type(field)}")
    if bounded and len(field) > MAX_PATH_LENGTH:
        raise FilterError(f"{path}: field path is {len(field)} characters, over {MAX_PATH_LENGTH}")
    if field in COLUMN_FIELDS:
        return
    head, _, rest = field.partition(".")
    if head != "metadata" or not rest:
        raise FilterError(
            f"{path}: unknown field {field!r}; expected 'key', 'created_at' or 'metadata.<name>'"
        )
    for name in rest.split("."):
        if not _NAME_RE.match(name) or not _is_unicode(name):
            raise FilterError(
                f"{path}: bad metadata name {name!r} in {field!r}; names are non-empty and hold "
                "no '\"', '\\', control characters or lone surrogates"
            )


def _check_value(op: str, value: object, path: str) -> None:
    if op == "exists":
        if not isinstance(value, bool):
            raise FilterError(f"{path}: 'exists' takes true or false, got {_json_type(value)}")
    elif op in ("in", "nin"):
        if not isinstance(value, list):
            raise FilterError(f"{path}: '{op}' takes a list, got {_json_type(value)}")
        for index, element in enumerate(value):
            _check_scalar(element, f"{path}[{index}]", op)
    elif op in ("gt", "gte", "lt", "lte"):
        if isinstance(value, bool):
            raise FilterError(f"{path}: '{op}' takes a number or a string, got a boolean")
        _check_scalar(value, path, op)
    else:
        _check_scalar(value, path, op)


def _check_scalar(value: object, path: str, op: str) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, str):
        if not _is_unicode(value):
            raise FilterError(f"{path}: the string holds a lone surrogate, which is not text")
        return
    if isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise FilterError(f"{path}: integer {value} is outside the 64-bit range")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FilterError(f"{path}: numbers must be finite")
        return
    hint = " (a field that is missing or null never matches; use 'exists')" if value is None else ""
    raise FilterError(
        f"{path}: '{op}' takes a string, number or boolean, got {_json_type(value)}{hint}"
    )


def _is_unicode(text: str) -> bool:
    """Whether ``text`` is valid Unicode: UTF-8 (and so SQLite) can hold it."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
