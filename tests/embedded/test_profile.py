"""The profile extension: exact figures in SQL, checked against a reading of every item."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avala_mcp.contract import PROFILE_MAX_FIELDS
from avala_mcp.embedded.importer import import_file
from avala_mcp.embedded.responses import profile_json
from avala_mcp.embedded.seed import (
    DEMO_DATASET_UID,
    DEMO_ITEM_COUNT,
    DEMO_NIGHT_COUNT,
    DEMO_ORG,
    DEMO_SLICE_FILTER,
    OTHER_DATASET_UID,
    RAINY_NIGHT_PEDESTRIANS_COUNT,
    RAINY_NIGHT_PEDESTRIANS_FILTER,
    demo_data,
)
from avala_mcp.embedded.store import FieldProfile, NewItem, Store, metadata_json
from avala_mcp.filters import FilterError, parse_filter

from .clients import in_process_api
from .profile_reference import leaf_paths, profile_field, typed
from .reference import matches

pytestmark = pytest.mark.anyio

PROFILE_URL = f"/datasets/{DEMO_DATASET_UID}/profile/"
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}


def _demo_items() -> list[dict[str, Any]]:
    return [
        {"key": item.key, "created_at": item.created_at, "metadata": item.metadata}
        for item in demo_data().datasets[0].items
    ]


async def _profile(api: httpx.AsyncClient, body: dict[str, Any], url: str = PROFILE_URL) -> Any:
    response = await api.post(url, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _field(profile: dict[str, Any], path: str) -> dict[str, Any]:
    return next(entry for entry in profile["fields"] if entry["path"] == path)


async def test_whole_demo_dataset_equals_a_reading_of_every_item(api: httpx.AsyncClient) -> None:
    items = _demo_items()
    profile = await _profile(api, {})
    assert list(profile) == ["dataset", "count", "exact", "fields", "truncated"]
    assert profile["dataset"] == DEMO_DATASET_UID
    assert (profile["count"], profile["exact"], profile["truncated"]) == (
        DEMO_ITEM_COUNT,
        True,
        False,
    )
    paths = sorted(set().union(*(leaf_paths(item["metadata"]) for item in items)))
    assert [entry["path"] for entry in profile["fields"]] == paths
    for entry in profile["fields"]:
        assert list(entry) == ["path", "types", "present", "distinct", "top", "min", "max"]
        assert typed(entry) == typed(profile_field(items, entry["path"], 10))
    # The trial's questions, answered from the numbers themselves.
    weather = Counter(item["metadata"]["weather"] for item in items)
    assert {top["value"]: top["count"] for top in _field(profile, "metadata.weather")["top"]} == (
        dict(weather)
    )
    assert _field(profile, "metadata.weather")["distinct"] == len(weather)
    time_of_day = _field(profile, "metadata.time_of_day")
    assert {"value": "night", "count": DEMO_NIGHT_COUNT} in time_of_day["top"]
    pedestrians = _field(profile, "metadata.pedestrians")
    counts = [item["metadata"]["pedestrians"] for item in items]
    assert (pedestrians["min"], pedestrians["max"]) == (min(counts), max(counts)) == (0, 12)
    assert pedestrians["types"] == {"number": DEMO_ITEM_COUNT}


async def test_a_filter_restricts_every_figure(api: httpx.AsyncClient) -> None:
    night = [item for item in _demo_items() if matches(item, DEMO_SLICE_FILTER)]
    fields = ["metadata.weather", "metadata.time_of_day", "metadata.speed_kmh", "key"]
    profile = await _profile(api, {"filter": DEMO_SLICE_FILTER, "fields": fields, "top": 3})
    assert profile["count"] == len(night) == DEMO_NIGHT_COUNT
    assert [entry["path"] for entry in profile["fields"]] == fields
    for entry in profile["fields"]:
        assert typed(entry) == typed(profile_field(night, entry["path"], 3))
    assert _field(profile, "metadata.time_of_day")["top"] == [{"value": "night", "count": 340}]
    assert _field(profile, "key")["distinct"] == DEMO_NIGHT_COUNT


async def test_a_count_alone(api: httpx.AsyncClient) -> None:
    body = {"filter": RAINY_NIGHT_PEDESTRIANS_FILTER, "fields": []}
    profile = await _profile(api, body)
    assert (profile["count"], profile["fields"]) == (RAINY_NIGHT_PEDESTRIANS_COUNT, [])
    nothing = {"field": "metadata.weather", "op": "eq", "value": "Rain"}
    empty = await _profile(api, {"filter": nothing, "fields": ["metadata.weather"]})
    assert empty["count"] == 0
    [weather] = empty["fields"]
    assert (weather["present"], weather["types"], weather["top"]) == (0, {}, [])


async def test_a_path_no_item_has_is_present_zero(api: httpx.AsyncClient) -> None:
    fields = ["metadata.wether", "metadata.weather.kind", "metadata.weather"]
    profile = await _profile(api, {"fields": fields})
    assert [entry["path"] for entry in profile["fields"]] == fields
    for entry in profile["fields"][:2]:
        assert entry == {
            "path": entry["path"],
            "types": {},
            "present": 0,
            "distinct": 0,
            "top": [],
            "min": None,
            "max": None,
        }
    assert profile["fields"][2]["present"] == DEMO_ITEM_COUNT


NESTED = [
    {"camera": {"model": "X1", "fps": 30}, "tags": ["rain", "night"], "score": 1, "é": "ü"},
    {"camera": {"model": "X2", "fps": 60.0}, "tags": [], "score": 1.0, "flag": True},
    {"camera": "front", "score": "1", "dotted.name": 3, 'quote"d': 4, "flag": False},
    {"camera": {"model": "X1", "lens": {"mm": 35}}, "score": None, "tags": ["rain", "night"]},
]


async def test_nested_metadata_of_an_import(
    local_db_path: Path, local_api_key: str, tmp_path: Path
) -> None:
    source = tmp_path / "nested.jsonl"
    lines = [json.dumps({"key": f"n/{n}.jpg", "metadata": m}) for n, m in enumerate(NESTED)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = Store(local_db_path)
    try:
        uid, _ = import_file(store, source, DEMO_ORG, "Nested")
    finally:
        store.close()
    items = [{"key": f"n/{n}.jpg", "created_at": "", "metadata": m} for n, m in enumerate(NESTED)]
    async with in_process_api(local_db_path, local_api_key) as api:
        url = f"/datasets/{uid}/profile/"
        profile = await _profile(api, {}, url)
        fast = {"field": "metadata.camera.fps", "op": "gte", "value": 30}
        filtered = await _profile(api, {"filter": fast, "fields": ["metadata.camera.model"]}, url)
    # Names no filter can spell (a dot, a quote) are left out; lists are one path each.
    assert [entry["path"] for entry in profile["fields"]] == [
        "metadata.camera",
        "metadata.camera.fps",
        "metadata.camera.lens.mm",
        "metadata.camera.model",
        "metadata.flag",
        "metadata.score",
        "metadata.tags",
        "metadata.é",
    ]
    for entry in profile["fields"]:
        assert typed(entry) == typed(profile_field(items, entry["path"], 10))
    assert _field(profile, "metadata.camera")["types"] == {"object": 3, "string": 1}
    assert _field(profile, "metadata.tags") | {"types": None} == {
        "path": "metadata.tags",
        "types": None,
        "present": 3,
        "distinct": 2,
        "top": [],
        "min": None,
        "max": None,
    }
    score = _field(profile, "metadata.score")
    assert score["types"] == {"number": 2, "string": 1}  # null counts as missing
    assert score["distinct"] == 2  # 1 and 1.0 are one number; "1" is a string
    assert score["top"] == [{"value": 1, "count": 2}, {"value": "1", "count": 1}]
    assert (score["min"], score["max"]) == (1, 1)
    assert _field(profile, "metadata.flag")["top"] == [
        {"value": False, "count": 1},
        {"value": True, "count": 1},
    ]
    assert filtered["count"] == 2
    assert filtered["fields"][0]["top"] == [
        {"value": "X1", "count": 1},
        {"value": "X2", "count": 1},
    ]


def test_more_paths_than_shown_are_truncated(local_db_path: Path) -> None:
    names = [f"field_{n:03d}" for n in range(PROFILE_MAX_FIELDS + 5)]
    rows = [NewItem(f"wide/{n}", None, metadata_json({name: n})) for n, name in enumerate(names)]
    store = Store(local_db_path)
    try:
        uid, _ = store.import_dataset(DEMO_ORG, "Wide", [rows], [])
        dataset = store.dataset(uid)
        assert dataset is not None
        profile = store.profile(dataset.id, None, None, 10)
    finally:
        store.close()
    assert profile.truncated
    assert [entry.path for entry in profile.fields] == [f"metadata.{n}" for n in names][:100]
    assert profile.fields[0] == FieldProfile(
        "metadata.field_000", {"number": 1}, 1, 1, [(0, 1)], 0, 0
    )


def test_ties_are_broken_by_type_then_value(local_db_path: Path) -> None:
    values: list[Any] = ["b", 2, True, "a", 0.5, False, 2.0, "a"]
    rows = [NewItem(f"t/{n}", None, metadata_json({"v": v})) for n, v in enumerate(values)]
    store = Store(local_db_path)
    try:
        uid, _ = store.import_dataset(DEMO_ORG, "Ties", [rows], [])
        dataset = store.dataset(uid)
        assert dataset is not None
        [entry] = store.profile(dataset.id, None, ["metadata.v"], 10).fields
    finally:
        store.close()
    # Most common first; then booleans, numbers, strings (by type name); then by value.
    assert typed(entry.top) == typed([(2, 2), ("a", 2), (False, 1), (True, 1), (0.5, 1), ("b", 1)])
    assert (entry.distinct, entry.min, entry.max) == (6, 0.5, 2)
    assert entry.types == {"number": 3, "string": 3, "boolean": 2}


def test_profiles_leave_the_reader_as_they_found_it(local_db_path: Path) -> None:
    store = Store(local_db_path)
    try:
        dataset = store.dataset(DEMO_DATASET_UID)
        assert dataset is not None
        night = parse_filter(DEMO_SLICE_FILTER)
        rain = parse_filter({"field": "metadata.weather", "op": "eq", "value": "rain"})
        # Each filter's selection is its own: the one before is gone with its transaction.
        counts = [store.profile(dataset.id, node, ["key"], 1).count for node in (night, rain)]
        with store._read() as conn:  # the pool's one reader, which the profiles used
            (cache_size,) = conn.execute("PRAGMA cache_size").fetchone()
            assert not conn.in_transaction
    finally:
        store.close()
    rainy = [item for item in _demo_items() if item["metadata"]["weather"] == "rain"]
    assert counts == [DEMO_NIGHT_COUNT, len(rainy)]
    assert cache_size == -65536  # the store's own setting, back after the profile's scans


_BAD_BODIES: list[tuple[Any, dict[str, list[str]]]] = [
    ({"fields": "metadata.weather"}, {"fields": ["Expected a list of field paths."]}),
    ({"fields": {"a": 1}}, {"fields": ["Expected a list of field paths."]}),
    (
        {"fields": ["metadata.x"] * (PROFILE_MAX_FIELDS + 1)},
        {"fields": [f"Ensure this field has no more than {PROFILE_MAX_FIELDS} elements."]},
    ),
    (
        {"fields": ["metadata.weather", 5, "metadata.weather"]},
        {
            "fields": [
                "fields[1]: expected a field path (a string)",
                "fields[2]: 'metadata.weather' is listed twice",
            ]
        },
    ),
    ({"top": 0}, {"top": ["Ensure this value is between 1 and 50."]}),
    ({"top": 51}, {"top": ["Ensure this value is between 1 and 50."]}),
    ({"top": "10"}, {"top": ["A valid integer is required."]}),
    ({"top": True}, {"top": ["A valid integer is required."]}),
    ({"top": 2.5}, {"top": ["A valid integer is required."]}),
]


@pytest.mark.parametrize(("body", "errors"), _BAD_BODIES)
async def test_forged_fields_and_top_are_refused(
    api: httpx.AsyncClient, body: Any, errors: dict[str, list[str]]
) -> None:
    response = await api.post(PROFILE_URL, json=body)
    assert response.status_code == 400
    assert response.json() == errors


@pytest.mark.parametrize("path", ["weather", "metadata.", "metadata.a\\b", "metadata..x", ""])
async def test_a_field_no_filter_can_name_is_refused_saying_why(
    api: httpx.AsyncClient, path: str
) -> None:
    response = await api.post(PROFILE_URL, json={"fields": ["key", path]})
    assert response.status_code == 400
    [message] = response.json()["fields"]
    # The filter language's own reason, after the entry it is about.
    try:
        parse_filter({"field": path, "op": "exists", "value": True})
    except FilterError as error:
        reason = str(error).removeprefix("field: ")
    assert message == f"fields[1]: {reason}"
    assert repr(path) in message


async def test_a_bad_filter_is_refused_as_slice_creation_refuses_it(api: httpx.AsyncClient) -> None:
    bad = {"and": [{"field": "metadata.weather", "op": "like", "value": "rain"}]}
    profile = await api.post(PROFILE_URL, json={"filter": bad, "top": 0})
    create = await api.post(
        "/slices/", json={"name": "x", "dataset": DEMO_DATASET_UID, "filter": bad}
    )
    assert profile.status_code == create.status_code == 400
    assert profile.json() == {
        "filter": create.json()["filter"],
        "top": ["Ensure this value is between 1 and 50."],
    }


@pytest.mark.parametrize(
    ("url", "status", "body"),
    [
        (f"/datasets/{OTHER_DATASET_UID}/profile/", 403, FORBIDDEN),
        ("/datasets/00000000-0000-0000-0000-000000000001/profile/", 404, NOT_FOUND),
        ("/datasets/not-a-uuid/profile/", 404, NOT_FOUND),
    ],
)
async def test_forbidden_and_unknown_datasets(
    api: httpx.AsyncClient, url: str, status: int, body: dict[str, str]
) -> None:
    response = await api.post(url, json={})
    assert (response.status_code, response.json()) == (status, body)


async def test_not_offered_on_an_sqlite_without_json_arrows(
    local_db_path: Path, local_api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 37, 2))
    async with in_process_api(local_db_path, local_api_key) as api:
        response = await api.post(PROFILE_URL, json={})
        listing = await api.get("/datasets/")
    # As against Avala's cloud: a 404, and the client samples instead.
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert listing.status_code == 200


# --- the property: SQL and a plain reading of the items agree on random datasets ---------------

_NAMES = st.sampled_from(["a", "b", "c d", "é", "x.y", 'q"', "", "n"])
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([2**62, -(2**53)])
    # Eighths are exact in binary, so SQLite and Python read them alike; 1.0 meets 1.
    | st.integers(-24, 24).map(lambda n: n / 8)
    | st.sampled_from(["", "a", "b", "A", 'q"', "back\\slash", "new\nline", "é", "zz"])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_NAMES, inner, max_size=3),
    max_leaves=6,
)
_METADATA = st.dictionaries(_NAMES, _VALUES, max_size=4)
_FIELD_PATHS = st.sampled_from(["metadata.a", "metadata.b", "metadata.a.b", "metadata.n", "key"])
_FILTERS = st.none() | st.builds(
    lambda field, op_value: {"field": field, "op": op_value[0], "value": op_value[1]},
    _FIELD_PATHS,
    st.tuples(st.sampled_from(["eq", "ne"]), st.sampled_from([1, 0.5, "a", True]))
    | st.tuples(st.just("gte"), st.sampled_from([1, 0.5, "a"]))
    | st.tuples(st.just("exists"), st.booleans()),
)
_dataset_names = (f"Random {n}" for n in itertools.count())


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    metadata=st.lists(_METADATA, min_size=1, max_size=8),
    raw_filter=_FILTERS,
    top=st.integers(1, 4),
)
def test_sql_profile_equals_a_plain_reading(
    local_db_path: Path, metadata: list[dict[str, Any]], raw_filter: Any, top: int
) -> None:
    rows = [NewItem(f"r/{n}", None, metadata_json(m)) for n, m in enumerate(metadata)]
    store = Store(local_db_path)  # one database for every example; a dataset each
    try:
        uid, _ = store.import_dataset(DEMO_ORG, next(_dataset_names), [rows], [])
        dataset = store.dataset(uid)
        assert dataset is not None
        node = None if raw_filter is None else parse_filter(raw_filter)
        profile = store.profile(dataset.id, node, None, top)
    finally:
        store.close()
    items = [{"key": f"r/{n}", "created_at": "", "metadata": m} for n, m in enumerate(metadata)]
    selected = [item for item in items if raw_filter is None or matches(item, raw_filter)]
    assert profile.count == len(selected)
    paths = sorted(set().union(*(leaf_paths(item["metadata"]) for item in items)))
    assert [entry.path for entry in profile.fields] == paths
    for shown in profile_json(uid, profile)["fields"]:
        expected = profile_field(selected, shown["path"], top)
        assert typed(shown) == typed(expected), shown["path"]
