"""Slice names and the slugs made from them."""

from __future__ import annotations

import re
import unicodedata

from avala_mcp.contract import name_problem

MAX_NAME_LENGTH = 255
MAX_SLUG_LENGTH = 100
# Path segments the router gives another meaning (``/slices/{owner}/list/``), never a slug.
RESERVED_SLUGS = frozenset({"list"})
_NON_SLUG_RE = re.compile(r"[^a-z0-9]+")


def check_name(raw: object) -> tuple[str | None, list[str]]:
    """The trimmed name, or None and the messages saying why ``raw`` is not a valid name."""
    if raw is None:
        return None, ["This field may not be null."]
    if not isinstance(raw, str):
        return None, ["Not a valid string."]
    name = raw.strip()
    if not name:
        return None, ["This field may not be blank."]
    errors = []
    if len(name) > MAX_NAME_LENGTH:
        errors.append(f"Ensure this field has no more than {MAX_NAME_LENGTH} characters.")
    # The whole text as sent, not the trimmed name: the client and the tools judge it so, and a
    # separator trimmed off the end is as much a mistake as one inside.
    if (problem := name_problem(raw)) is not None:
        errors.append(f"Name {problem}.")
    return (None, errors) if errors else (name, [])


def slugify(name: str) -> str:
    """The base slug of a name: lowercase ASCII letters, digits and single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NON_SLUG_RE.sub("-", ascii_text.lower()).strip("-")
    slug = slug[:MAX_SLUG_LENGTH].rstrip("-")
    return slug or "slice"


def with_suffix(base: str, number: int) -> str:
    """``base-N``, with ``base`` shortened so the whole stays within the slug length."""
    suffix = f"-{number}"
    return base[: MAX_SLUG_LENGTH - len(suffix)].rstrip("-") + suffix


def suffix_prefix(base: str) -> str:
    """A prefix that every ``with_suffix(base, n)`` starts with, for any n of up to 18 digits.

    The longer the number, the more of ``base`` its suffix cuts off, so the slugs already taken
    from ``base`` are found by this shortest prefix, not by ``base``'s own length.
    """
    return with_suffix(base, 10**18 - 1).rpartition("-")[0]


def first_free_slug(base: str, taken: set[str]) -> str:
    """``base`` itself if free, else ``base-2``, ``base-3``, ... the first one not taken."""
    if base not in taken and base not in RESERVED_SLUGS:
        return base
    number = 2
    while with_suffix(base, number) in taken:
        number += 1
    return with_suffix(base, number)


def whole_dataset_slice_name(dataset_name: str) -> str:
    """The name of the slice that holds all of a dataset (as the demo's "All Driving Scenes")."""
    return f"All {dataset_name}"[:MAX_NAME_LENGTH]
