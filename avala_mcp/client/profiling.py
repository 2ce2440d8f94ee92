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

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from avala_mcp.client.arguments import path_problem
from avala_mcp.client.models import FieldProfile, ValueCount
from avala_mcp.filters import COLUMN_FIELDS

Item: TypeAlias = Mapping[str, Any]

#: Most paths a profile lists; without ``fields`` the rest are summarised by ``truncated``.
PROFILE_MAX_FIELDS = 100
#: Common values listed per path by default, and at most.
PROFILE_DEFAULT_TOP = 10
PROFILE_MAX_TOP = 50

_INT64 = 2**63
_SCALARS = frozenset({"string", "number", "boolean"})
# How the embedded API stores metadata: arrays and objects are told apart by this text.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def item_paths(items: Iterable[Item]) -> list[str]:
    """Every metadata path at which some item holds a value (not an object, not null), sorted."""
    found: set[tuple[str, ...]] = set()
    for item in items:
        metadata = item.get("metadata")
        if isinstance(metadata, dict):
            _collect(metadata, (), found)
    paths = {"metadata." + ".".join(names) for names in found}
    return sorted(path for path in paths if path_problem(path) is None)


def profile_items(items: Sequence[Item], paths: Sequence[str], *, top: int) -> list[FieldProfile]:
    """The profile of ``items`` at each of ``paths``, in that order."""
    return [_profile_path(items, path, top) for path in paths]


def json_type(value: Any) -> str | None:
    """The JSON type name of a decoded value, None for null (which counts as missing)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def value_at(item: Item, path: str) -> Any:
    """The value of ``item`` at the filter path ``path``; None when missing or null."""
    if path in COLUMN_FIELDS:
        column = item.get(path)
        return column if isinstance(column, str) else None
    value: Any = item.get("metadata")
    for name in path.split(".")[1:]:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def _collect(mapping: dict[str, Any], prefix: tuple[str, ...], found: set[tuple[str, ...]]) -> None:
    for name, value in mapping.items():
        if "." in name:
            # "metadata.a.b" would name a nested field, not this one: no filter can name it.
            continue
        names = (*prefix, name)
        if isinstance(value, dict):
            _collect(value, names, found)
        elif value is not None:
            found.add(names)


def _profile_path(items: Sequence[Item], path: str, top: int) -> FieldProfile:
    types: Counter[str] = Counter()
    # Values by (type, value): in Python True == 1, so the type keeps them apart.
    values: Counter[tuple[str, Any]] = Counter()
    for item in items:
        value = value_at(item, path)
        kind = json_type(value)
        if kind is None:
            continue
        types[kind] += 1
        values[(kind, _group_key(kind, value))] += 1
    numbers = [value for kind, value in values if kind == "number"]
    strings = [value for kind, value in values if kind == "string"]
    bounds = numbers or strings
    common = sorted(
        ((kind, value, count) for (kind, value), count in values.items() if kind in _SCALARS),
        key=lambda entry: (-entry[2], entry[0], entry[1]),
    )
    return FieldProfile(
        path=path,
        types=dict(sorted(types.items(), key=lambda entry: (-entry[1], entry[0]))),
        present=sum(types.values()),
        distinct=len(values),
        top=[ValueCount(value=value, count=count) for _, value, count in common[:top]],
        min=min(bounds) if bounds else None,
        max=max(bounds) if bounds else None,
    )


def _group_key(kind: str, value: Any) -> Any:
    """What tells two values of one type apart: the number as SQLite reads it, a list's or an
    object's stored JSON text, or the value itself."""
    if kind == "number":
        if isinstance(value, int) and not -_INT64 <= value < _INT64:
            # SQLite reads an integer beyond 64 bits as the nearest float.
            try:
                return float(value)
            except OverflowError:
                return math.inf if value > 0 else -math.inf
        return value
    if kind in ("array", "object"):
        return _ENCODER.encode(value)
    return value
