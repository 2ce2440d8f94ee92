"""Compiling a parsed filter (:mod:`avala_mcp.filters`) to parameterized SQL.

The compiled SQL refers to the items table as ``i`` and never contains a value from the filter:
every path and value is a bound parameter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from avala_mcp.filters import COLUMN_FIELDS, Condition, Group, Node, Not, Scalar


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
    if field in COLUMN_FIELDS:
        return _Operand(f"i.{field}", "'text'", (), None)
    names = field.split(".")[1:]
    path = "$" + "".join(f'."{name}"' for name in names)
    return _Operand("json_extract(i.metadata, ?)", "json_type(i.metadata, ?)", (path,), path)


def _condition(condition: Condition, params: list[Any]) -> str:
    operand = _operand(condition.field)
    op, value = condition.op, condition.value
    if isinstance(value, tuple):  # in, nin
        member = _member(operand, value, params)
        return _negate(member) if op == "nin" else member
    if op == "ne":
        return _negate(_equals(operand, value, params))
    if op == "eq":
        return _equals(operand, value, params)
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
    """Substring of a string field, or element of a list field.

    ``json_each`` parses the item's metadata afresh on every row, several times the cost of any
    other test, so it runs only on rows that may match: metadata is stored as compact JSON that
    escapes only what JSON must (``store.items.metadata_json``), so an element equal to the value
    leaves a known trace in the stored text, which a plain ``instr`` looks for first.
    """
    if operand.json_path is None:  # key, created_at: text columns
        if not isinstance(value, str):
            return "(0)"
        params.append(value)
        return f"(instr({operand.value_sql}, ?) > 0)"
    parts: list[str] = []
    if isinstance(value, str):
        params.extend(operand.params)
        params.append(value)
        substring = f"instr({operand.value_sql}, ?) > 0"
        parts.append(f"({substring} AND {_type_test(operand, value, params)})")
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
    traces = _element_traces(value)
    params.extend(traces)
    guard = " OR ".join("instr(i.metadata, ?) > 0" for _ in traces)
    params.append(operand.json_path)
    params.extend(element_params)
    parts.append(
        f"(json_type(i.metadata, ?) = 'array' AND ({guard}) AND EXISTS "  # noqa: S608 - only compiled filter SQL and fixed names, values bound
        f"(SELECT 1 FROM json_each(i.metadata, ?) AS e WHERE {element_test}))"
    )
    return "(" + " OR ".join(parts) + ")"


def _element_traces(value: Scalar) -> tuple[str, ...]:
    """Texts one of which stored metadata holding an element equal to ``value`` must contain.

    Python writes a value one way: a string as its JSON, an integer as its digits, a float as
    its ``repr``. A number equals an integer or a float of the same value (``5``, ``5.0``), so
    both spellings of an integral value are looked for.
    """
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, str):
        return (json.dumps(value, ensure_ascii=False),)
    as_float = repr(float(value))
    if isinstance(value, int) or value.is_integer():
        return (str(int(value)), as_float)
    return (as_float,)
