"""Profiling items in Python, with exactly the semantics of the embedded API's SQL profile.

This is how the client answers a profile where the API has no profile extension: over a sample
of items read through the listings (:mod:`~avala_mcp.client.sampling`). An item is a mapping as
decoded from JSON: ``key`` and ``created_at`` (text) and ``metadata`` (a dict). The rules
(``docs/contracts.md``):

- a path is written as filters write it (``metadata.camera.model``); a dataset's paths are those
  at which some item holds a value that is not an object, nor null (a list is one path, its
  elements none), and that the filter language can name, ordered;
- ``types`` counts items per JSON type, a null counting as missing; ``present`` is their sum;
- ``distinct`` counts distinct values: numbers by numeric value (``1`` is ``1.0``), the others
  by type and value;
- ``top`` are the most common scalars, ties broken by type name then by value;
- ``min``/``max`` are over the numbers if there are any, else over the strings, else None.
"""

from __future__ import annotations

import heapq
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from avala_mcp.client.arguments import path_problem
from avala_mcp.client.models import FieldProfile, ValueCount
from avala_mcp.filters import COLUMN_FIELDS

Item: TypeAlias = Mapping[str, Any]

_INT64 = 2**63
_SCALARS = frozenset({"string", "number", "boolean"})
# The JSON type of each Python type that decoding JSON gives.
_KINDS: dict[type, str] = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}
# How the embedded API stores metadata: arrays and objects are told apart by this text.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def item_paths(items: Iterable[Item]) -> list[str]:
    """Every metadata path at which some item holds a value (not an object, not null), sorted."""
    found: set[str] = set()
    for item in items:
        metadata = item.get("metadata")
        if isinstance(metadata, dict):
            _collect(metadata, "metadata.", found)
    return sorted(path for path in found if path_problem(path) is None)


def profile_items(items: Sequence[Item], paths: Sequence[str], *, top: int) -> list[FieldProfile]:
    """The profile of ``items`` at each of ``paths``, in that order."""
    return [_profile_path(items, path, top) for path in paths]


def values_at(items: Sequence[Item], path: str) -> list[Any]:
    """Each item's value at the filter path ``path``, in order; None where missing or null."""
    if path in COLUMN_FIELDS:
        return [value if isinstance(value := item.get(path), str) else None for item in items]
    # One level at a time, over all items: far cheaper than walking each item in turn.
    values = [item.get("metadata") for item in items]
    for name in path.split(".")[1:]:
        values = [value.get(name) if isinstance(value, dict) else None for value in values]
    return values


def _collect(mapping: dict[str, Any], prefix: str, found: set[str]) -> None:
    for name, value in mapping.items():
        if "." in name:
            # "metadata.a.b" would name a nested field, not this one: no filter can name it.
            continue
        if isinstance(value, dict):
            _collect(value, f"{prefix}{name}.", found)
        elif value is not None:
            found.add(prefix + name)


def _profile_path(items: Sequence[Item], path: str, top: int) -> FieldProfile:
    # Counted by exact type and value first (True == 1 in Python, and lists are unhashable:
    # they and objects are told apart by their JSON text, as stored), then by JSON type and the
    # value that type compares by.
    seen: Counter[tuple[type, Any]] = Counter(
        (type(value), _ENCODER.encode(value) if isinstance(value, list | dict) else value)
        for value in values_at(items, path)
        if value is not None
    )
    types: Counter[str] = Counter()
    values: Counter[tuple[str, Any]] = Counter()
    for (kind_of, value), count in seen.items():
        kind = _KINDS[kind_of]
        types[kind] += count
        values[(kind, _number(value) if kind == "number" else value)] += count
    numbers = [value for kind, value in values if kind == "number"]
    strings = [value for kind, value in values if kind == "string"]
    bounds = numbers or strings
    common = heapq.nsmallest(
        top,
        ((kind, value, count) for (kind, value), count in values.items() if kind in _SCALARS),
        key=lambda entry: (-entry[2], entry[0], entry[1]),
    )
    return FieldProfile(
        path=path,
        types=dict(sorted(types.items(), key=lambda entry: (-entry[1], entry[0]))),
        present=sum(types.values()),
        distinct=len(values),
        top=[ValueCount(value=value, count=count) for _, value, count in common],
        min=min(bounds) if bounds else None,
        max=max(bounds) if bounds else None,
    )


def _number(value: int | float) -> int | float:
    """A number as SQLite reads it from JSON: an integer beyond 64 bits is the nearest float."""
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return value
