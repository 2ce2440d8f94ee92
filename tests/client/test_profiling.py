"""The Python profiler (what the client computes from a sample) and the sample size setting."""

from __future__ import annotations

from typing import Any

import pytest

from avala_mcp.client import AvalaClient
from avala_mcp.client.profiling import item_paths, profile_items
from avala_mcp.settings import DEFAULT_SAMPLE_ITEMS, ConfigError, Settings

ITEMS: list[dict[str, Any]] = [
    {
        "key": "a.jpg",
        "created_at": "2025-01-01T00:00:00Z",
        "metadata": {
            "weather": "rain",
            "speed": 1,
            "camera": {"model": "x1", "lens": None},
            "tags": ["a", "b"],
            "flag": True,
            "gone": None,
        },
    },
    {
        "key": "b.jpg",
        "created_at": "2025-01-02T00:00:00Z",
        "metadata": {"weather": "sun", "speed": 1.0, "camera": 5, "tags": ["a", "b"], "flag": 1},
    },
    {
        "key": "c.jpg",
        "created_at": "2025-01-03T00:00:00Z",
        "metadata": {"weather": "rain", "speed": 2.5, "dotted.name": 1, 'quo"te': 2},
    },
    {"key": "d.jpg", "created_at": "2025-01-04T00:00:00Z", "metadata": {}},
]


def profiled(path: str, top: int = 10) -> dict[str, Any]:
    [found] = profile_items(ITEMS, [path], top=top)
    return found.model_dump(mode="json")


def test_paths_are_the_leaves_a_filter_can_name_in_order() -> None:
    # Objects lead to paths, nulls are missing, a list is one path, and names no filter can
    # write ("dotted.name" would mean dotted -> name; a quote) are left out.
    assert item_paths(ITEMS) == [
        "metadata.camera",
        "metadata.camera.model",
        "metadata.flag",
        "metadata.speed",
        "metadata.tags",
        "metadata.weather",
    ]


def test_strings_count_their_values_most_common_first() -> None:
    assert profiled("metadata.weather") == {
        "path": "metadata.weather",
        "types": {"string": 3},
        "present": 3,
        "distinct": 2,
        "top": [{"value": "rain", "count": 2}, {"value": "sun", "count": 1}],
        "min": "rain",
        "max": "sun",
    }


def test_one_and_one_point_zero_are_one_number() -> None:
    found = profiled("metadata.speed")
    assert (found["types"], found["present"], found["distinct"]) == ({"number": 3}, 3, 2)
    assert found["top"] == [{"value": 1, "count": 2}, {"value": 2.5, "count": 1}]
    assert (found["min"], found["max"]) == (1, 2.5)


def test_a_boolean_is_not_the_number_one() -> None:
    found = profiled("metadata.flag")
    assert found["types"] == {"boolean": 1, "number": 1}
    assert found["distinct"] == 2
    # Ties go by type name, then value: boolean before number.
    assert found["top"] == [{"value": True, "count": 1}, {"value": 1, "count": 1}]
    assert found["top"][0]["value"] is True
    assert (found["min"], found["max"]) == (1, 1)  # numbers win over everything else


def test_objects_and_lists_are_types_but_never_top_values() -> None:
    camera = profiled("metadata.camera")
    assert camera["types"] == {"number": 1, "object": 1}
    assert camera["distinct"] == 2
    assert camera["top"] == [{"value": 5, "count": 1}]
    tags = profiled("metadata.tags")
    assert (tags["types"], tags["distinct"], tags["top"]) == ({"array": 2}, 1, [])
    assert (tags["min"], tags["max"]) == (None, None)


def test_a_path_no_item_has_is_listed_empty() -> None:
    assert profiled("metadata.wether") == {
        "path": "metadata.wether",
        "types": {},
        "present": 0,
        "distinct": 0,
        "top": [],
        "min": None,
        "max": None,
    }
    assert profiled("metadata.camera.lens")["present"] == 0  # null is missing


def test_columns_are_paths_too_and_top_is_bounded() -> None:
    key = profiled("key", top=2)
    assert (key["present"], key["distinct"]) == (4, 4)
    assert key["top"] == [{"value": "a.jpg", "count": 1}, {"value": "b.jpg", "count": 1}]
    assert (key["min"], key["max"]) == ("a.jpg", "d.jpg")


def test_an_integer_beyond_64_bits_is_the_nearest_float() -> None:
    items = [{"metadata": {"n": 2**70}}, {"metadata": {"n": float(2**70)}}]
    [found] = profile_items(items, ["metadata.n"], top=5)
    assert found.distinct == 1
    assert found.top[0].count == 2


def test_the_sample_size_setting() -> None:
    assert Settings.from_env({}).sample_items == DEFAULT_SAMPLE_ITEMS == 2000
    assert Settings.from_env({"AVALA_MCP_SAMPLE_ITEMS": " 500 "}).sample_items == 500
    assert Settings.from_env({}, sample_items=50).sample_items == 50
    for bad in ("0", "20001", "many", "1.5"):
        with pytest.raises(ConfigError, match=r"AVALA_MCP_SAMPLE_ITEMS must be a whole number"):
            Settings.from_env({"AVALA_MCP_SAMPLE_ITEMS": bad})
    with pytest.raises(ValueError, match="sample_items"):
        AvalaClient(sample_items=0)
