"""One filter language, one answer: the parser, the tools, the embedded API, the evaluators agree.

The tools and the embedded API refuse a bad filter with the same message, the parser's, which
names where the filter is wrong. And on any filter over any items, the embedded API's SQL
(:mod:`avala_mcp.embedded.sql`), the Python evaluator (:mod:`avala_mcp.filter_eval`) and a plain
reading written apart from both (``tests/embedded/reference.py``) select the same items.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from embedded import reference
from hypothesis import example, given, settings
from hypothesis import strategies as st
from mcp import Client
from starlette.applications import Starlette

from avala_mcp.embedded.seed import DEMO_DATASET_UID
from avala_mcp.embedded.sql import compile_filter
from avala_mcp.filter_eval import matcher, matches
from avala_mcp.filters import (
    Condition,
    FilterError,
    Group,
    Not,
    filter_to_json,
    parse_filter,
)
from avala_mcp.server import build_server
from avala_mcp.settings import Settings

# --- one answer for a bad filter ----------------------------------------------------------------

# Each bad filter with the parser's message. The first five are those the tools once accepted and
# the API refused.
REFUSED: list[tuple[Any, str]] = [
    (
        {"field": 'metadata.a"b', "op": "eq", "value": 1},
        "field: bad metadata name 'a\"b' in 'metadata.a\"b'; names are non-empty and hold no "
        "'\"', '\\', control characters or lone surrogates",
    ),
    (
        {"field": "metadata.weather", "op": "eq", "value": None},
        "value: 'eq' takes a string, number or boolean, got null (a field that is missing or "
        "null never matches; use 'exists')",
    ),
    (
        {"field": "metadata.weather", "op": "eq", "value": {"is": "rain"}},
        "value: 'eq' takes a string, number or boolean, got an object",
    ),
    (
        {
            "and": [
                {"field": "key", "op": "eq", "value": "k"},
                {"field": "key", "op": "gt", "value": True},
            ]
        },
        "and[1].value: 'gt' takes a number or a string, got a boolean",
    ),
    (
        {"not": {"field": "metadata.weather", "op": "in", "value": ["rain", None]}},
        "not.value[1]: 'in' takes a string, number or boolean, got null (a field that is missing "
        "or null never matches; use 'exists')",
    ),
    (
        {"or": [{"field": "metadata.a\\b", "op": "exists", "value": True}]},
        "or[0].field: bad metadata name 'a\\\\b' in 'metadata.a\\\\b'; names are non-empty and "
        "hold no '\"', '\\', control characters or lone surrogates",
    ),
    (
        {"field": "metadata.tags", "op": "contains", "value": ["rain"]},
        "value: 'contains' takes a string, number or boolean, got a list",
    ),
    (
        {"field": "metadata.pedestrians", "op": "gte", "value": 2**64},
        "value: integer 18446744073709551616 is outside the 64-bit range",
    ),
    (
        {"field": "metadata.weather", "op": "exists", "value": "yes"},
        "value: 'exists' takes true or false, got a string",
    ),
    (
        {"field": "metadata.weather", "op": "eq", "value": "\ud83c"},
        "value: the string holds a lone surrogate, which is not text",
    ),
]
# Within every other bound, but past the size bounds: a field path of 209 characters, 17 values
# of 1,000 bytes (over 16 KiB in all), nine 'contains'. The tools' schema advertised the path
# bound alone, and nothing checked any of the three.
_BIG_VALUE = {"field": "metadata.weather", "op": "eq", "value": "x" * 1000}
_BIG_FILTER = {"or": [_BIG_VALUE] * 17}
REFUSED += [
    (
        {"field": "metadata." + "a" * 200, "op": "exists", "value": True},
        "field: field path is 209 characters, over 200",
    ),
    (
        _BIG_FILTER,
        f"filter: filter is {len(json.dumps(_BIG_FILTER, separators=(',', ':')))} bytes of "
        "JSON, over 16384",
    ),
    (
        {"and": [{"field": "metadata.tags", "op": "contains", "value": "rain"}] * 9},
        "and[8]: filter has more than 8 'contains' conditions",
    ),
]
REFUSED_IDS = [
    "quote-in-name",
    "eq-null",
    "object-value",
    "gt-true",
    "in-null",
    "backslash-in-name",
    "contains-list",
    "integer-past-64-bits",
    "exists-string",
    "lone-surrogate",
    "path-too-long",
    "filter-too-large",
    "too-many-contains",
]

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("raw", "message"), REFUSED, ids=REFUSED_IDS)
def test_the_parser_refuses_naming_the_path(raw: Any, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(raw)
    assert str(caught.value) == message


@pytest.fixture(params=["auto", "legacy"])
async def mcp_client(
    request: pytest.FixtureRequest, local_app: Starlette, local_api_key: str
) -> AsyncIterator[Client]:
    """A real MCP client on the server over the embedded API, as ``serve --local`` runs it."""
    settings = Settings(
        api_key=local_api_key, base_url="http://127.0.0.1:8000/api/v1", max_retries=0
    )
    server = build_server(settings, transport=httpx.ASGITransport(app=local_app))
    async with Client(server, mode=request.param) as client:
        yield client


@pytest.mark.parametrize(("raw", "message"), REFUSED, ids=REFUSED_IDS)
async def test_the_tool_refuses_with_the_parsers_message(
    mcp_client: Client, raw: Any, message: str
) -> None:
    result = await mcp_client.call_tool(
        "create_slice", {"name": "Refused", "dataset": DEMO_DATASET_UID, "filter": raw}
    )
    assert result.is_error
    assert result.structured_content is not None
    error = result.structured_content["error"]
    assert error["type"] == "invalid_input"
    assert error["status"] is None  # refused before any request
    assert error["fields"] == {"filter": [message]}


@pytest.mark.parametrize(("raw", "message"), REFUSED, ids=REFUSED_IDS)
async def test_the_embedded_api_refuses_with_the_parsers_message(
    local_http: httpx.AsyncClient, raw: Any, message: str
) -> None:
    body = {"name": "Refused", "dataset": DEMO_DATASET_UID, "filter": raw}
    # As a JSON text of its own: a lone surrogate travels only as a \u escape.
    response = await local_http.post(
        "/slices/", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"filter": [message]}


async def test_the_tool_sends_the_canonical_filter(mcp_client: Client) -> None:
    raw = {"or": [{"value": ["rain", "snow"], "op": "in", "field": "metadata.weather"}]}
    result = await mcp_client.call_tool(
        "create_slice", {"name": "Canonical", "dataset": DEMO_DATASET_UID, "filter": raw}
    )
    assert not result.is_error
    assert result.structured_content is not None
    stored = result.structured_content["filter"]
    assert stored == filter_to_json(parse_filter(raw)) == raw
    assert list(stored["or"][0]) == ["field", "op", "value"]  # the canonical order, not raw's


# --- the tree -----------------------------------------------------------------------------------


def test_nodes_are_frozen_and_equal_only_as_the_same_filter() -> None:
    node = parse_filter({"field": "key", "op": "in", "value": ["a", 1]})
    assert node == Condition("key", "in", ("a", 1))
    assert {node: 1}[parse_filter({"field": "key", "op": "in", "value": ["a", 1]})] == 1
    # Python has True == 1; the filter language does not.
    assert parse_filter({"field": "key", "op": "eq", "value": True}) != parse_filter(
        {"field": "key", "op": "eq", "value": 1}
    )
    with pytest.raises(AttributeError):
        node.value = ("b",)  # type: ignore[misc]
    tree = parse_filter({"not": {"and": [{"field": "key", "op": "exists", "value": True}]}})
    assert tree == Not(Group("and", (Condition("key", "exists", True),)))


# --- one meaning: SQL, the evaluator and the plain reading select the same items ----------------

# Names as SQLite must quote them in a JSON path: non-ASCII, with a space.
NAMES = ["a", "é x"]
FIELDS = [
    "key",
    "created_at",
    *(f"metadata.{name}" for name in NAMES),
    "metadata.n.x",
    "metadata.z",
]
KEYS = ["k1", "k2", "ab", "é", "", "5"]
STAMPS = ["2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z", "2025-03-02T00:00:00.5Z"]
# Values with the edges of SQLite's JSON numbers (2**64 + 1 reads as the float 2.0**64, 10**400 as
# infinity) and of its text (non-ASCII, past the BMP, "5" that is no 5); a few common ones are
# drawn as often as all the rest together, so that conditions often hold for some items only.
COMMON = ["a", "ab", 5, 2.5, True]
STRINGS = ["", "a", "ab", "b", "é", "\uffff", "\U0001f600", "5", "k1"]
NUMBERS = [0, 1, 5, -3, 2.5, 5.0, -0.0, 2.0**64, 2**63 - 1, -(2**63), 2**63, 2**64 + 1, 10**400]
SCALARS = [*STRINGS, *NUMBERS, True, False]
MISSING = object()
LISTS = [[], ["a", 5, True], [1.0, [1], None], ["ab", {"x": 1}], [2**64 + 1, False]]
VALUES = [MISSING, None, *SCALARS, *LISTS, {"x": "a"}]
NESTED = [MISSING, "flat", [{"x": 1}], *({"x": value} for value in [None, "a", 5, 2.5, True])]
item_values = st.sampled_from([*COMMON, *LISTS[1:3], None, MISSING]) | st.sampled_from(VALUES)
# A filter's integers are within 64 bits.
filter_scalars = st.sampled_from(COMMON) | st.sampled_from(
    [value for value in SCALARS if not isinstance(value, int) or -(2**63) <= value < 2**63]
)
filter_values = {
    "key": st.sampled_from(KEYS) | filter_scalars,
    "created_at": st.sampled_from(STAMPS) | filter_scalars,
}


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    drawn = {name: draw(item_values) for name in NAMES}
    drawn["n"] = draw(st.sampled_from(NESTED))
    return {
        "key": draw(st.sampled_from(KEYS)),
        "created_at": draw(st.sampled_from(STAMPS)),
        "metadata": {name: value for name, value in drawn.items() if value is not MISSING},
    }


def _values(field: str) -> st.SearchStrategy[Any]:
    return filter_values.get(field, filter_scalars)


def _ordered(field: str) -> st.SearchStrategy[Any]:
    return _values(field).filter(lambda value: not isinstance(value, bool))


filters = reference.trees(reference.conditions(FIELDS, _values, _ordered), max_leaves=6)


@pytest.fixture(scope="module")
def items_db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, key TEXT NOT NULL, "
        "created_at TEXT NOT NULL, metadata TEXT NOT NULL)"
    )
    yield conn
    conn.close()


def _stored(metadata: dict[str, Any]) -> str:
    # As the embedded store writes metadata: compact, non-ASCII as itself (never \u escapes).
    return json.dumps(metadata, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _load(conn: sqlite3.Connection, batch: list[dict[str, Any]]) -> None:
    conn.execute("DELETE FROM items")
    conn.executemany(
        "INSERT INTO items (id, key, created_at, metadata) VALUES (?, ?, ?, ?)",
        [
            (index, item["key"], item["created_at"], _stored(item["metadata"]))
            for index, item in enumerate(batch)
        ],
    )


def _selected_by_sql(conn: sqlite3.Connection, raw: Any) -> list[int]:
    where, params = compile_filter(parse_filter(raw))
    rows = conn.execute(f"SELECT i.id FROM items i WHERE {where} ORDER BY i.id", params)  # noqa: S608 - only compiled filter SQL and fixed names, values bound
    return [row[0] for row in rows]


def _subfilters(raw: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The filter and each filter inside it: every level is checked, not only the whole."""
    yield raw
    for key in ("and", "or"):
        for child in raw.get(key, ()):
            yield from _subfilters(child)
    if "not" in raw:
        yield from _subfilters(raw["not"])


# The edges, every run: numbers SQLite reads as floats, no conversions, code point order (U+FFFF
# sorts before U+1F600, as in UTF-8 and unlike UTF-16), the empty substring, null and missing.
EDGE_ITEMS = [
    {"key": "k1", "created_at": STAMPS[0], "metadata": {"a": 2**64 + 1, "é x": "5"}},
    {"key": "é", "created_at": STAMPS[1], "metadata": {"a": 10**400, "é x": 5}},
    {
        "key": "",
        "created_at": STAMPS[2],
        "metadata": {"a": [True, "\uffff"], "é x": "\U0001f600", "n": {"x": True}},
    },
    {"key": "5", "created_at": STAMPS[0], "metadata": {"a": None, "é x": 1, "n": {"x": 1}}},
]
EDGE_FILTER = {
    "or": [
        {"field": "metadata.a", "op": "eq", "value": 2.0**64},
        {"field": "metadata.a", "op": "in", "value": [2.0**64, "5"]},
        {"field": "metadata.a", "op": "gt", "value": 1.7976931348623157e308},
        {"field": "metadata.é x", "op": "eq", "value": 5},
        {"field": "metadata.é x", "op": "in", "value": [True, "x"]},
        {"field": "metadata.é x", "op": "eq", "value": True},
        {"field": "metadata.a", "op": "contains", "value": "\uffff"},
        {"field": "metadata.a", "op": "contains", "value": 1},
        {"field": "metadata.a", "op": "contains", "value": True},
        {"field": "metadata.é x", "op": "gt", "value": "\uffff"},
        {"field": "metadata.é x", "op": "contains", "value": ""},
        {"field": "key", "op": "lt", "value": "é"},
        {"not": {"field": "metadata.a", "op": "ne", "value": "x"}},
        {"field": "metadata.n.x", "op": "nin", "value": [1]},
        {"field": "metadata.n.x", "op": "in", "value": [1, "b"]},
    ]
}


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(raw=filters, batch=st.lists(items(), min_size=4, max_size=12, unique_by=repr))
@example(raw=EDGE_FILTER, batch=EDGE_ITEMS)
def test_sql_the_evaluator_and_the_plain_reading_agree(
    items_db: sqlite3.Connection, raw: Any, batch: list[dict[str, Any]]
) -> None:
    _load(items_db, batch)
    for sub in _subfilters(raw):
        node = parse_filter(sub)
        by_oracle = [index for index, item in enumerate(batch) if reference.matches(item, sub)]
        predicate = matcher(node)
        assert [index for index, item in enumerate(batch) if predicate(item)] == by_oracle, sub
        assert [index for index, item in enumerate(batch) if matches(node, item)] == by_oracle
        assert _selected_by_sql(items_db, sub) == by_oracle, sub


@settings(max_examples=100, derandomize=True, deadline=None, database=None)
@given(raw=filters)
def test_the_canonical_json_reads_back_as_the_same_filter(raw: Any) -> None:
    node = parse_filter(raw)
    canonical = filter_to_json(node)
    # JSON text, not ==, so that true and 1 (or 5 and 5.0) stay apart.
    assert json.dumps(canonical) == json.dumps(raw)
    assert parse_filter(canonical) == node
