"""The slice filter language (DESIGN §3): validation and compilation to parameterized SQL.

A filter is validated once, into a tree of frozen nodes; only a validated tree is compiled. The
compiled SQL refers to the items table as ``i`` and never contains a value from the filter: every
path and value is a bound parameter.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from avala_mcp.models import FILTER_MAX_CONDITIONS, FILTER_MAX_DEPTH, FILTER_MAX_VALUE_BYTES

MAX_DEPTH = FILTER_MAX_DEPTH
MAX_CONDITIONS = FILTER_MAX_CONDITIONS
MAX_VALUE_BYTES = FILTER_MAX_VALUE_BYTES

COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte")
OPERATORS = (*COMPARISONS, "in", "nin", "contains", "exists")
_OPERATOR_LIST = ", ".join(OPERATORS)
_COLUMN_FIELDS = ("key", "created_at")
_INT64 = 2**63
# A metadata name may hold anything but the separator, and what cannot be quoted in a JSON path
# ``$."name"``: the quote, the backslash (SQLite reads it as an escape there, so such a name never
# matches) and control characters.
_NAME_RE = re.compile(r'^[^."\\\x00-\x1f\x7f]+\Z')

Scalar: TypeAlias = str | int | float | bool


class FilterError(ValueError):
    """A filter that breaks the language; the message names the offending path."""


@dataclass(frozen=True)
class Condition:
    """``{"field": ..., "op": ..., "value": ...}`` after validation."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Group:
    """``{"and": [...]}`` or ``{"or": [...]}``."""

    kind: str
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """``{"not": filter}``."""

    child: Node


Node: TypeAlias = Condition | Group | Not


def parse_filter(raw: object) -> Node:
    """Validate a filter as decoded from JSON; raise FilterError naming the bad path."""
    counter = [0]
    return _parse(raw, "", 1, counter)


def _at(path: str) -> str:
    return path or "filter"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _parse(raw: object, path: str, depth: int, counter: list[int]) -> Node:
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
            return Not(_parse(raw["not"], inner_path, depth + 1, counter))
        children = raw[kind]
        if not isinstance(children, list) or not children:
            raise FilterError(f"{inner_path}: expected a non-empty list of filters")
        return Group(
            kind,
            tuple(
                _parse(child, f"{inner_path}[{index}]", depth + 1, counter)
                for index, child in enumerate(children)
            ),
        )
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise FilterError(f"{_at(path)}: filter has more than {MAX_CONDITIONS} conditions")
    return _parse_condition(raw, path)


def _parse_condition(raw: dict[str, Any], path: str) -> Condition:
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
    _check_field(field, _join(path, "field"))
    op = raw["op"]
    if not isinstance(op, str) or op not in OPERATORS:
        shown = repr(op) if isinstance(op, str) else _json_type(op)
        raise FilterError(
            f"{_join(path, 'op')}: unknown operator {shown}; expected one of {_OPERATOR_LIST}"
        )
    value = raw["value"]
    value_path = _join(path, "value")
    size = len(json.dumps(value, ensure_ascii=False, allow_nan=True).encode())
    if size > MAX_VALUE_BYTES:
        raise FilterError(f"{value_path}: value is {size} bytes, over {MAX_VALUE_BYTES}")
    _check_value(op, value, value_path)
    return Condition(field, op, value)


def _check_field(field: object, path: str) -> None:
    if not isinstance(field, str):
        raise FilterError(f"{path}: expected a string, got {_json_type(field)}")
    if field in _COLUMN_FIELDS:
        return
    head, _, rest = field.partition(".")
    if head != "metadata" or not rest:
        raise FilterError(
            f"{path}: unknown field {field!r}; expected 'key', 'created_at' or 'metadata.<name>'"
        )
    for name in rest.split("."):
        if not _NAME_RE.match(name):
            raise FilterError(
                f"{path}: bad metadata name {name!r} in {field!r}; names are non-empty and hold "
                "no '\"', '\\' or control characters"
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
    if isinstance(value, bool | str):
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


# --- compilation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Operand:
    """How SQL reads one field of an item: its value, its JSON type and, for metadata, its path."""

    value_sql: str
    type_sql: str
    params: tuple[Any, ...]
    json_path: str | None


_SQL_OPS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def compile_filter(node: Node | None) -> tuple[str, list[Any]]:
    """SQL boolean expression over items ``i`` and its parameters; None means every item."""
    if node is None:
        return "1", []
    params: list[Any] = []
    sql = _compile(node, params)
    return sql, params


def _compile(node: Node, params: list[Any]) -> str:
    if isinstance(node, Group):
        joiner = " AND " if node.kind == "and" else " OR "
        return "(" + joiner.join(_compile(child, params) for child in node.children) + ")"
    if isinstance(node, Not):
        return _negate(_compile(node.child, params))
    return _condition(node, params)


def _negate(sql: str) -> str:
    # A condition on a missing field is NULL in SQL; NOT must turn that into true, not NULL.
    return f"(NOT IFNULL({sql}, 0))"


def _operand(field: str) -> _Operand:
    if field in _COLUMN_FIELDS:
        return _Operand(f"i.{field}", "'text'", (), None)
    names = field.split(".")[1:]
    path = "$" + "".join(f'."{name}"' for name in names)
    return _Operand("json_extract(i.metadata, ?)", "json_type(i.metadata, ?)", (path,), path)


def _condition(condition: Condition, params: list[Any]) -> str:
    operand = _operand(condition.field)
    op, value = condition.op, condition.value
    if op == "ne":
        return _negate(_equals(operand, value, params))
    if op == "nin":
        return _negate(_member(operand, value, params))
    if op == "eq":
        return _equals(operand, value, params)
    if op == "in":
        return _member(operand, value, params)
    if op == "exists":
        params.extend(operand.params)
        present = f"(IFNULL({operand.type_sql}, 'null') <> 'null')"
        return present if value else f"(NOT {present})"
    if op == "contains":
        return _contains(operand, value, params)
    return _compare(operand, _SQL_OPS[op], value, params)


def _type_test(operand: _Operand, value: Scalar, params: list[Any]) -> str:
    """SQL true when the field holds a JSON value of ``value``'s type (no conversions)."""
    params.extend(operand.params)
    if isinstance(value, bool):
        return f"({operand.type_sql} = '{'true' if value else 'false'}')"
    if isinstance(value, str):
        return f"({operand.type_sql} = 'text')"
    return f"({operand.type_sql} IN ('integer', 'real'))"


def _compare(operand: _Operand, sql_op: str, value: Scalar, params: list[Any]) -> str:
    if isinstance(value, bool):
        return _type_test(operand, value, params)
    # The cheap value test comes first, so the type test runs only on the rows it lets through.
    params.extend(operand.params)
    params.append(value)
    value_test = f"{operand.value_sql} {sql_op} ?"
    return f"({value_test} AND {_type_test(operand, value, params)})"


def _equals(operand: _Operand, value: Scalar, params: list[Any]) -> str:
    return _compare(operand, "=", value, params)


def _member(operand: _Operand, values: Sequence[Scalar], params: list[Any]) -> str:
    if not values:
        return "(0)"
    strings = [value for value in values if isinstance(value, str)]
    numbers = [
        value for value in values if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    booleans = {value for value in values if isinstance(value, bool)}
    parts: list[str] = []
    for group in (strings, numbers):
        if group:
            params.extend(operand.params)
            params.extend(group)
            marks = ", ".join("?" for _ in group)
            test = _type_test(operand, group[0], params)
            parts.append(f"({operand.value_sql} IN ({marks}) AND {test})")
    parts.extend(_type_test(operand, flag, params) for flag in sorted(booleans))
    return "(" + " OR ".join(parts) + ")"


def _contains(operand: _Operand, value: Scalar, params: list[Any]) -> str:
    """Substring of a string field, or element of a list field."""
    parts: list[str] = []
    if isinstance(value, str):
        params.extend(operand.params)
        params.append(value)
        substring = f"instr({operand.value_sql}, ?) > 0"
        parts.append(f"({substring} AND {_type_test(operand, value, params)})")
    if operand.json_path is not None:
        if isinstance(value, bool):
            element_test = "e.type = ?"
            element_params: list[Any] = ["true" if value else "false"]
        elif isinstance(value, str):
            element_test = "e.type = 'text' AND e.value = ?"
            element_params = [value]
        else:
            element_test = "e.type IN ('integer', 'real') AND e.value = ?"
            element_params = [value]
        params.append(operand.json_path)
        params.append(operand.json_path)
        params.extend(element_params)
        parts.append(
            "(json_type(i.metadata, ?) = 'array' AND EXISTS "
            f"(SELECT 1 FROM json_each(i.metadata, ?) AS e WHERE {element_test}))"
        )
    if not parts:
        return "(0)"
    return "(" + " OR ".join(parts) + ")"
