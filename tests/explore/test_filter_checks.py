"""The filter checks as pure functions, over hand-built profiles (no API, no MCP)."""

from __future__ import annotations

from typing import Any

import pytest

from avala_mcp.client.models import FieldProfile, Profile, ValueCount
from avala_mcp.filters import parse_filter
from avala_mcp.server.filter_checks import (
    check_filter,
    empty_selection,
    filter_paths,
    refusals,
)

KNOWN_PATHS = ["metadata.pedestrians", "metadata.shift", "metadata.tags", "metadata.weather"]


def _field(path: str, values: dict[Any, int]) -> FieldProfile:
    """A field holding ``values`` (of one JSON type), with every value in its top."""
    present = sum(values.values())
    kind = {bool: "boolean", int: "number", float: "number", str: "string"}
    return FieldProfile(
        path=path,
        types={kind[type(next(iter(values)))]: present},
        present=present,
        distinct=len(values),
        top=[ValueCount(value=value, count=count) for value, count in values.items()],
    )


def _profile(*fields: FieldProfile, exact: bool = True, count: int = 100) -> Profile:
    return Profile(
        dataset="550e8400-e29b-41d4-a716-446655440000",
        count=count,
        exact=exact,
        sampled=None if exact else 40,
        fields=list(fields),
    )


SHIFT = _field("metadata.shift", {"night": 50, "day": 30, "swing": 20})
WEATHER = _field("metadata.weather", {"clear": 60, "rain": 40})
PEDESTRIANS = _field("metadata.pedestrians", {n: 10 for n in range(10)})
TAGS = FieldProfile(path="metadata.tags", types={"array": 100}, present=100, distinct=0, top=[])
MISSING = FieldProfile(path="metadata.wether", types={}, present=0, distinct=0, top=[])


def _check(raw: dict[str, Any], *fields: FieldProfile, exact: bool = True) -> list[str]:
    profile = _profile(*fields, exact=exact)
    return [f.message for f in check_filter(parse_filter(raw), profile, KNOWN_PATHS)]


def test_filter_paths_names_each_metadata_path_once_in_order() -> None:
    node = parse_filter(
        {
            "and": [
                {"field": "metadata.weather", "op": "eq", "value": "rain"},
                {"not": {"field": "key", "op": "contains", "value": "x"}},
                {"or": [{"field": "metadata.weather", "op": "eq", "value": "fog"}]},
            ]
        }
    )
    assert filter_paths(node) == ["metadata.weather"]


def test_a_good_filter_has_no_findings() -> None:
    raw = {
        "and": [
            {"field": "metadata.shift", "op": "in", "value": ["day", "night"]},
            {"field": "metadata.pedestrians", "op": "gte", "value": 2},
            {"field": "metadata.tags", "op": "contains", "value": "bus"},
            {"field": "key", "op": "contains", "value": "frame"},
        ]
    }
    assert _check(raw, SHIFT, PEDESTRIANS, TAGS) == []


def test_an_unknown_path_names_the_nearest_one_and_is_refused_when_exact() -> None:
    node = parse_filter({"field": "metadata.wether", "op": "eq", "value": "rain"})
    profile = _profile(MISSING)
    findings = check_filter(node, profile, KNOWN_PATHS)
    assert [f.message for f in findings] == [
        "metadata.wether: no item has this field; did you mean metadata.weather?"
    ]
    assert refusals(findings, profile) == findings
    # A path the profile leaves out entirely is as unknown as one listed with present: 0.
    assert check_filter(node, _profile(), KNOWN_PATHS) == findings


def test_a_path_differing_only_in_case_is_suggested_first() -> None:
    findings = _check({"field": "metadata.Weather", "op": "eq", "value": "rain"})
    assert findings == ["metadata.Weather: no item has this field; did you mean metadata.weather?"]


def test_an_unknown_path_with_no_close_name_lists_the_fields() -> None:
    assert _check({"field": "metadata.zzz", "op": "eq", "value": 1}) == [
        "metadata.zzz: no item has this field; fields: " + ", ".join(KNOWN_PATHS)
    ]


def test_with_a_sampled_profile_an_unknown_path_is_only_a_warning() -> None:
    node = parse_filter({"field": "metadata.wether", "op": "eq", "value": "rain"})
    profile = _profile(MISSING, exact=False)
    findings = check_filter(node, profile, KNOWN_PATHS)
    assert findings[0].message.startswith(
        "metadata.wether: none of the 40 sampled items have this field; did you mean"
    )
    assert refusals(findings, profile) == []


def test_exists_on_an_unknown_path_is_warned_not_refused() -> None:
    node = parse_filter({"field": "metadata.label", "op": "exists", "value": False})
    profile = _profile()
    findings = check_filter(node, profile, KNOWN_PATHS)
    assert len(findings) == 1
    assert refusals(findings, profile) == []


def test_columns_need_no_profile() -> None:
    assert _check({"field": "created_at", "op": "gte", "value": "2025-01-01"}) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", '"2" is a string, but this field holds numbers (100 items); write 2'),
        ("2.5", '"2.5" is a string, but this field holds numbers (100 items); write 2.5'),
        (True, "true is a boolean, but this field holds numbers (100 items)"),
        ("many", '"many" is a string, but this field holds numbers (100 items)'),
    ],
)
def test_a_value_of_a_type_the_field_never_holds_is_refused(value: object, expected: str) -> None:
    node = parse_filter({"field": "metadata.pedestrians", "op": "eq", "value": value})
    profile = _profile(PEDESTRIANS)
    findings = check_filter(node, profile, KNOWN_PATHS)
    assert [f.message for f in findings] == [f"metadata.pedestrians: {expected}"]
    assert refusals(findings, profile) == findings


def test_a_number_for_a_string_field_suggests_its_text() -> None:
    assert _check({"field": "metadata.shift", "op": "eq", "value": 2}, SHIFT) == [
        'metadata.shift: 2 is a number, but this field holds strings (100 items); write "2"'
    ]


def test_each_element_of_in_is_type_checked() -> None:
    findings = _check({"field": "metadata.pedestrians", "op": "in", "value": [1, "3"]}, PEDESTRIANS)
    assert findings == [
        'metadata.pedestrians: "3" is a string, but this field holds numbers (100 items); write 3'
    ]


def test_contains_takes_a_substring_of_a_string_field_only() -> None:
    assert _check({"field": "metadata.shift", "op": "contains", "value": "nig"}, SHIFT) == []
    findings = _check({"field": "metadata.pedestrians", "op": "contains", "value": 1}, PEDESTRIANS)
    assert len(findings) == 1
    assert "holds numbers" in findings[0]


def test_a_value_differing_in_case_names_the_right_one_and_every_value() -> None:
    node = parse_filter({"field": "metadata.shift", "op": "eq", "value": "Night"})
    profile = _profile(SHIFT)
    findings = check_filter(node, profile, KNOWN_PATHS)
    assert [f.message for f in findings] == [
        'metadata.shift: no item has the value "Night"; did you mean "night"? '
        'values of metadata.shift: "day", "night", "swing"'
    ]
    assert refusals(findings, profile) == []  # a warning: the value may be coming


def test_a_misspelt_value_names_the_closest_ones() -> None:
    raw = {"field": "metadata.weather", "op": "in", "value": ["rain", "claer"]}
    findings = _check(raw, WEATHER)
    assert findings == [
        'metadata.weather: no item has the value "claer"; did you mean "clear"? '
        'values of metadata.weather: "clear", "rain"'
    ]


def test_ne_and_nin_values_are_checked_too() -> None:
    findings = _check({"field": "metadata.shift", "op": "ne", "value": "graveyard"}, SHIFT)
    assert findings == [
        'metadata.shift: no item has the value "graveyard"; values of metadata.shift: '
        '"day", "night", "swing"'
    ]


def test_numbers_compare_as_numbers_and_booleans_are_not_numbers() -> None:
    assert _check({"field": "metadata.pedestrians", "op": "eq", "value": 3.0}, PEDESTRIANS) == []
    flags = _field("metadata.flag", {True: 10})
    assert _check({"field": "metadata.flag", "op": "eq", "value": True}, flags) == []


def test_a_field_with_many_values_is_not_value_checked() -> None:
    many = _field("metadata.speed", {float(n): 1 for n in range(51)})
    many = many.model_copy(update={"top": many.top[:10]})
    assert _check({"field": "metadata.speed", "op": "eq", "value": 999.5}, many) == []
    # Nor is one whose profile holds only some of its values.
    partial = SHIFT.model_copy(update={"top": SHIFT.top[:1]})
    assert _check({"field": "metadata.shift", "op": "eq", "value": "x"}, partial) == []


def test_a_listing_of_many_values_is_cut_and_counted() -> None:
    labels = _field("metadata.label", {f"l{n:02d}": 1 for n in range(30)})
    (finding,) = _check({"field": "metadata.label", "op": "eq", "value": "zz"}, labels)
    assert finding.endswith('"l19", … (+10 more)')


def test_the_same_mistake_is_reported_once() -> None:
    raw = {
        "or": [
            {"field": "metadata.wether", "op": "eq", "value": "rain"},
            {"field": "metadata.wether", "op": "eq", "value": "rain"},
        ]
    }
    assert len(_check(raw, MISSING)) == 1


def test_empty_selection() -> None:
    assert empty_selection(3, sampled=None) is None
    assert empty_selection(0, sampled=None) == "the filter matches no item of the dataset"
    assert "none of the 40 sampled items" in (empty_selection(0, sampled=40) or "")
