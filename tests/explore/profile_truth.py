"""What a profile of some items must say, as the exploring tools show it.

The counting is the embedded tests' plain-Python reference profile
(``tests/embedded/profile_reference.py``), written from the contract apart from the store's SQL
and the client's sampler; this module only shapes its answer as the tools do (``top`` left out
when every value is distinct or there is none, no null ``min``/``max``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from embedded.profile_reference import leaf_paths, profile_field


def paths_of(items: Sequence[dict[str, Any]]) -> list[str]:
    """Every metadata leaf path any item holds a value at, sorted."""
    return sorted(set().union(*(leaf_paths(item["metadata"]) for item in items)))


def field(items: Sequence[dict[str, Any]], path: str, top: int = 10) -> dict[str, Any]:
    """A field's profile, as describe_dataset, describe_slice and preview_slice show it."""
    expected = profile_field(list(items), path, top)
    if not expected["top"] or expected["distinct"] == expected["present"] > 1:
        del expected["top"]
    return {key: value for key, value in expected.items() if value is not None}
