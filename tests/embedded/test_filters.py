"""The filter language: messages, bounds, and SQL and evaluator agreeing with a plain reading."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avala_mcp.embedded.sql import compile_filter
from avala_mcp.filter_eval import matcher
from avala_mcp.filters import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    FilterError,
    parse_filter,
)

from .reference import conditions, matches, trees

SCALARS: list[Any] = [None, True, False, -3, 0, 1, 2, 2.5, -0.25, "", "x", "xy", "night", "5"]


def _corpus() -> list[dict[str, Any]]:
    rng = random.Random(7)
    items = []
    for index in range(300):
        metadata: dict[str, Any] = {}
        for name in ("a", "b", "c"):
            roll = rng.random()
            if roll < 0.15:
                continue
            if roll < 0.3:
                metadata[name] = [rng.choice(SCALARS[1:]) for _ in range(rng.randrange(4))]
            else:
                metadata[name] = rng.choice(SCALARS)
        if rng.random() < 0.5:
            metadata["n"] = {"x": rng.choice(SCALARS)} if rng.random() < 0.8 else "flat"
        items.append(
            {
                "key": f"k{index:03d}" + rng.choice(["", "-night", "-x"]),
                "created_at": f"2025-03-{1 + index % 28:02d}T00:00:00Z",
                "metadata": metadata,
            }
        )
    return items


CORPUS = _corpus()


@pytest.fixture(scope="module")
def corpus_db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, dataset_id INTEGER, key TEXT, "
        "created_at TEXT, metadata TEXT)"
    )
    conn.executemany(
        "INSERT INTO items (id, dataset_id, key, created_at, metadata) VALUES (?, 1, ?, ?, ?)",
        [
            (index, item["key"], item["created_at"], json.dumps(item["metadata"]))
            for index, item in enumerate(CORPUS)
        ],
    )
    yield conn
    conn.close()


def _sql_matches(conn: sqlite3.Connection, raw: dict[str, Any] | None) -> list[int]:
    where, params = compile_filter(None if raw is None else parse_filter(raw))
    rows = conn.execute(f"SELECT i.id FROM items i WHERE {where} ORDER BY i.id", params)  # noqa: S608 - only compiled filter SQL and fixed names, values bound
    return [row[0] for row in rows]


def _expected(raw: dict[str, Any]) -> list[int]:
    return [index for index, item in enumerate(CORPUS) if matches(item, raw)]


FIELDS = [
    "key",
    "created_at",
    "metadata.a",
    "metadata.b",
    "metadata.c",
    "metadata.n.x",
    "metadata.zz",
]
_scalar = st.sampled_from([value for value in SCALARS if value is not None])
_ordered = st.sampled_from([-3, 0, 1, 2.5, "", "x", "night", "2025-03-10T00:00:00Z", "k100"])


filters = trees(conditions(FIELDS, lambda _: _scalar, lambda _: _ordered), max_leaves=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=filters)
def test_sql_agrees_with_the_plain_reading(corpus_db: sqlite3.Connection, raw: Any) -> None:
    expected = _expected(raw)
    assert _sql_matches(corpus_db, raw) == expected
    predicate = matcher(parse_filter(raw))
    assert [index for index, item in enumerate(CORPUS) if predicate(item)] == expected


@pytest.mark.parametrize(
    ("raw", "expected_keys"),
    [
        ({"field": "metadata.t", "op": "eq", "value": "night"}, ["s"]),
        ({"field": "metadata.t", "op": "ne", "value": "night"}, ["n", "b", "m", "l", "z"]),
        ({"field": "metadata.v", "op": "eq", "value": 5}, ["n", "z"]),
        ({"field": "metadata.v", "op": "eq", "value": "5"}, ["s"]),
        ({"field": "metadata.v", "op": "gt", "value": 4}, ["n", "z"]),
        ({"field": "metadata.v", "op": "gte", "value": 5.0}, ["n", "z"]),
        ({"field": "metadata.v", "op": "lt", "value": 5}, ["b"]),
        ({"field": "metadata.v", "op": "lte", "value": 1}, ["b"]),
        ({"field": "metadata.v", "op": "eq", "value": True}, ["m"]),
        ({"field": "metadata.v", "op": "eq", "value": 1}, ["b"]),
        ({"field": "metadata.t", "op": "in", "value": ["night", "dusk"]}, ["s", "b"]),
        ({"field": "metadata.t", "op": "nin", "value": ["night", "dusk"]}, ["n", "m", "l", "z"]),
        ({"field": "metadata.t", "op": "contains", "value": "igh"}, ["s"]),
        ({"field": "metadata.tags", "op": "contains", "value": "rain"}, ["l"]),
        ({"field": "metadata.tags", "op": "contains", "value": 3}, ["l"]),
        ({"field": "metadata.t", "op": "exists", "value": True}, ["s", "b"]),
        ({"field": "metadata.t", "op": "exists", "value": False}, ["n", "m", "l", "z"]),
        ({"field": "metadata.deep.er", "op": "eq", "value": 1}, ["z"]),
        ({"field": "key", "op": "contains", "value": "s"}, ["s"]),
        ({"field": "key", "op": "eq", "value": 5}, []),
        ({"not": {"field": "metadata.v", "op": "gt", "value": 4}}, ["s", "b", "m", "l"]),
        (
            {
                "or": [
                    {"field": "metadata.v", "op": "eq", "value": True},
                    {"and": [{"field": "key", "op": "gte", "value": "s"}]},
                ]
            },
            ["s", "m", "z"],
        ),
    ],
)
def test_each_operator_on_typed_values(raw: dict[str, Any], expected_keys: list[str]) -> None:
    items = {
        "s": {"t": "night", "v": "5"},
        "n": {"t": None, "v": 5},
        "b": {"t": "dusk", "v": 1},
        "m": {"v": True},
        "l": {"tags": ["rain", 3, False]},
        "z": {"v": 5.0, "deep": {"er": 1}},
    }
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, key TEXT, metadata TEXT)")
    conn.executemany(
        "INSERT INTO items (key, metadata) VALUES (?, ?)",
        [(key, json.dumps(metadata)) for key, metadata in items.items()],
    )
    where, params = compile_filter(parse_filter(raw))
    found = [row[0] for row in conn.execute(f"SELECT i.key FROM items i WHERE {where}", params)]  # noqa: S608 - only compiled filter SQL and fixed names, values bound
    conn.close()
    assert sorted(found) == sorted(expected_keys)
    predicate = matcher(parse_filter(raw))
    evaluated = [
        key for key, metadata in items.items() if predicate({"key": key, "metadata": metadata})
    ]
    assert sorted(evaluated) == sorted(expected_keys)


def test_values_are_bound_never_interpolated() -> None:
    hostile = "x'); DROP TABLE items; --"
    raw = {"and": [{"field": "metadata.we ird", "op": "eq", "value": hostile}]}
    sql, params = compile_filter(parse_filter(raw))
    assert hostile not in sql
    assert "we ird" not in sql
    assert hostile in params
    assert '$."we ird"' in params


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"field": "key", "op": "eq", "value": "k"}
    for _ in range(depth - 1):
        node = {"not": node}
    return node


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {
                "and": [
                    {"field": "key", "op": "eq", "value": "a"},
                    {"field": "key", "op": "like", "value": "a"},
                ]
            },
            "and[1].op: unknown operator 'like'; expected one of eq, ne, gt, gte, lt, lte, in, "
            "nin, contains, exists",
        ),
        ([], "filter: expected an object (a condition, or 'and', 'or', 'not'), got a list"),
        ({"and": []}, "and: expected a non-empty list of filters"),
        ({"or": {"field": "key"}}, "or: expected a non-empty list of filters"),
        (
            {"and": [{"field": "key"}], "or": []},
            "filter: 'and' must be the only key, also found 'or'",
        ),
        ({"field": "key", "op": "eq"}, "value: this key is required"),
        ({"field": "key", "op": "eq", "value": 1, "extra": 2}, "filter: unexpected key 'extra'"),
        ({"field": "uid", "op": "eq", "value": 1}, "field: unknown field 'uid'"),
        ({"field": "metadata.", "op": "eq", "value": 1}, "field: unknown field 'metadata.'"),
        ({"field": 'metadata.a"b', "op": "eq", "value": 1}, "field: bad metadata name 'a\"b'"),
        ({"field": 3, "op": "eq", "value": 1}, "field: expected a string, got a number"),
        ({"not": {"field": "key", "op": 7, "value": 1}}, "not.op: unknown operator a number"),
        (
            {"field": "key", "op": "eq", "value": None},
            "value: 'eq' takes a string, number or boolean, got null",
        ),
        (
            {"field": "key", "op": "eq", "value": [1]},
            "value: 'eq' takes a string, number or boolean, got a list",
        ),
        ({"field": "key", "op": "in", "value": "a"}, "value: 'in' takes a list, got a string"),
        ({"field": "key", "op": "in", "value": ["a", {}]}, "value[1]: 'in' takes a string"),
        ({"field": "key", "op": "exists", "value": 1}, "value: 'exists' takes true or false"),
        ({"field": "key", "op": "gt", "value": True}, "value: 'gt' takes a number or a string"),
        ({"field": "key", "op": "eq", "value": 2**70}, "value: integer"),
        ({"field": "key", "op": "eq", "value": float("nan")}, "value: numbers must be finite"),
        (
            {"field": "key", "op": "eq", "value": "x" * 1100},
            "value: value is 1102 bytes, over 1024",
        ),
        (_nested(MAX_DEPTH + 1), f"filter is nested deeper than {MAX_DEPTH} levels"),
        (
            {"or": [{"field": "key", "op": "eq", "value": "k"}] * (MAX_CONDITIONS + 1)},
            f"or[{MAX_CONDITIONS}]: filter has more than {MAX_CONDITIONS} conditions",
        ),
    ],
)
def test_bad_filters_name_the_path(raw: Any, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(raw)
    assert message in str(caught.value)


def test_bounds_are_inclusive() -> None:
    parse_filter(_nested(MAX_DEPTH))
    parse_filter({"or": [{"field": "key", "op": "eq", "value": "k"}] * MAX_CONDITIONS})
    parse_filter({"field": "key", "op": "eq", "value": "x" * 1022})
