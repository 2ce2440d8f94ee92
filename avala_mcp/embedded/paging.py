"""Keyset pagination: orderings, opaque cursors and page assembly.

A cursor names a position (the sort key of an element) and a direction; a page is the ``limit``
elements strictly after (or before) that position. The cost of a page therefore does not depend on
its depth, and elements inserted or deleted elsewhere never shift a walk.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from avala_mcp.embedded import strict_json

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
SLICE_ORDER_FIELDS = ("name", "created_at", "updated_at", "item_count")
DEFAULT_SLICE_ORDERING = "-created_at"
SLICE_ORDERINGS = tuple(spelled for name in SLICE_ORDER_FIELDS for spelled in (name, f"-{name}"))

Key = tuple[str | int, ...]
T = TypeVar("T")


class ParameterError(ValueError):
    """A malformed query parameter; ``name`` is the parameter, ``message`` what is wrong."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True)
class Ordering:
    """A sort field, its direction, and the tiebreak (the row id, in the same direction)."""

    field: str
    descending: bool

    @property
    def spelled(self) -> str:
        return f"-{self.field}" if self.descending else self.field


@dataclass(frozen=True)
class Cursor:
    """A position in a walk: after (``forward``) or before the element whose sort key is ``key``."""

    ordering: str
    forward: bool
    key: Key


def parse_ordering(raw: str | None) -> Ordering:
    """The ordering named by the ``ordering`` parameter (default newest first)."""
    spelled = DEFAULT_SLICE_ORDERING if raw in (None, "") else raw
    if spelled not in SLICE_ORDERINGS:
        raise ParameterError(
            "ordering",
            f"Unknown ordering {spelled!r}; expected one of {', '.join(SLICE_ORDERINGS)}.",
        )
    assert spelled is not None
    return Ordering(spelled.lstrip("-"), spelled.startswith("-"))


def parse_limit(raw: str | None, default: int = DEFAULT_LIMIT) -> int:
    """The ``limit`` parameter: a whole number from 1 to MAX_LIMIT, ``default`` if absent."""
    value = query_integer("limit", raw)
    if value is None:
        return default
    if not 1 <= value <= MAX_LIMIT:
        raise ParameterError("limit", f"Ensure this value is between 1 and {MAX_LIMIT}.")
    return value


_DIGITS = re.compile(r"[0-9]+")
#: Digits of the longest number a query parameter may spell: any 64-bit value, and a bound on
#: the work of reading one.
MAX_DIGITS = 20


def ascii_digits(text: str) -> bool:
    """Whether ``text`` is a whole number in ASCII digits alone. Python's ``int()`` also takes
    "5_0", "+5", " 5 " and other scripts' digits, which no client means as a number (and
    ``str.isdigit()`` takes "²", which ``int()`` refuses)."""
    return _DIGITS.fullmatch(text) is not None


def query_integer(name: str, raw: str | None) -> int | None:
    """A query parameter that is a whole number, spelled in ASCII digits; None if absent."""
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_DIGITS or not ascii_digits(raw):
        raise ParameterError(name, "A valid integer is required.")
    return int(raw)


#: The longest cursor taken: a real one is far shorter (a name of 255 characters as UTF-8, an
#: id), and the client sends none longer.
MAX_CURSOR_LENGTH = 4096
_CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]*\Z")
_INT64 = 2**63


def encode_cursor(cursor: Cursor) -> str:
    """Opaque text for a cursor."""
    payload = {"o": cursor.ordering, "f": cursor.forward, "k": list(cursor.key)}
    # UTF-8 rather than \u escapes: a name's cursor stays well under MAX_CURSOR_LENGTH.
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(raw: str | None, ordering: str, key_types: Sequence[type]) -> Cursor | None:
    """The cursor of the ``cursor`` parameter, checked against the walk it must belong to.

    Anything but a cursor this walk could have made is 400 "Invalid cursor.": text that is not
    base64 JSON, another walk's ordering, keys of the wrong types, and values no row can hold
    (an integer outside SQLite's 64 bits, text that is not Unicode).
    """
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_CURSOR_LENGTH or not _CURSOR_TEXT.match(raw):
        raise ParameterError("cursor", "Invalid cursor.")
    try:
        data = strict_json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        raise ParameterError("cursor", "Invalid cursor.") from None
    if (
        not isinstance(data, dict)
        or set(data) != {"o", "f", "k"}
        or data["o"] != ordering
        or not isinstance(data["f"], bool)
        or not isinstance(data["k"], list)
        or len(data["k"]) != len(key_types)
        or not all(_fits(value, kind) for value, kind in zip(data["k"], key_types, strict=True))
    ):
        raise ParameterError("cursor", "Invalid cursor.")
    return Cursor(ordering, data["f"], tuple(data["k"]))


def _fits(value: object, kind: type) -> bool:
    """Whether ``value`` is of ``kind`` and a value SQLite can compare a column with."""
    if type(value) is not kind:
        return False
    if isinstance(value, int):
        return -_INT64 <= value < _INT64
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:  # a lone surrogate, which \ud800 in JSON can carry
            return False
    return True


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a walk, and the cursors of its neighbours (None where there is none)."""

    results: list[T]
    next: Cursor | None
    previous: Cursor | None


def assemble_page(
    rows: list[T],
    limit: int,
    cursor: Cursor | None,
    ordering: str,
    key_of: Callable[[T], Key],
) -> Page[T]:
    """Turn ``limit + 1`` rows fetched in the cursor's direction into a page in walk order."""
    more = len(rows) > limit
    rows = rows[:limit]
    forward = cursor is None or cursor.forward
    if not forward:
        rows.reverse()
    first = Cursor(ordering, False, key_of(rows[0])) if rows else None
    last = Cursor(ordering, True, key_of(rows[-1])) if rows else None
    if cursor is None:
        return Page(rows, last if more else None, None)
    if forward:
        return Page(rows, last if more else None, first)
    return Page(rows, last, first if more else None)
