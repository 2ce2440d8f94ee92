"""Checking a call's arguments before any request is sent.

Every problem of one call is collected, then raised as one :class:`InvalidInputError` whose
``fields`` name each refused argument. A refused value is shown short: text quoted, its hidden
characters as ``<U+XXXX>`` (``quoted``), anything else by ``repr``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from avala_mcp.client.errors import InvalidInputError, quoted
from avala_mcp.client.paging import cursor_params
from avala_mcp.contract import (
    MAX_LIMIT,
    NAME_MAX_LENGTH,
    NAME_MIN_LENGTH,
    RESERVED_SEGMENTS,
    SEGMENT_RE,
    UUID_RE,
    name_problem,
)
from avala_mcp.filters import FilterError, parse_filter

_MAX_CURSOR_LENGTH = 4096
_ORDERING_RE = re.compile(r"-?[A-Za-z_][A-Za-z0-9_.]*(,-?[A-Za-z_][A-Za-z0-9_.]*)*\Z")
_MAX_ORDERING_LENGTH = 200


class Arguments:
    """Checks a call's arguments, collecting every problem into one InvalidInputError.

    Each check returns the value to send (``""`` or ``{}`` when refused); :meth:`check` then
    raises if anything was refused.
    """

    def __init__(self) -> None:
        self.problems: dict[str, list[str]] = {}

    def check(self) -> None:
        """Raise the InvalidInputError for every problem found so far, if any."""
        if self.problems:
            raise InvalidInputError.for_fields(self.problems)

    def refuse(self, name: str, problem: str) -> None:
        """Note ``problem`` with the argument ``name``."""
        self.problems.setdefault(name, []).append(problem)

    def segment(self, name: str, value: Any) -> str:
        """An owner or slug, URL-encoded for a path segment."""
        if not isinstance(value, str) or not SEGMENT_RE.match(value):
            self.refuse(
                name,
                f"got {_show(value)}; expected 1-100 ASCII letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
            )
            return ""
        if RESERVED_SEGMENTS.get(name) == value:
            # /slices/{owner}/list/ and /slices/dataset/{uid}/ are other endpoints' paths, so
            # such a request would reach the wrong endpoint; no real owner or slug is named so.
            self.refuse(name, f"'{value}' cannot be a{'n' * (name == 'owner')} {name}")
            return ""
        return quote(value, safe="")

    def uuid(self, name: str, value: Any) -> str:
        """A dataset UUID, in its canonical form."""
        if not isinstance(value, str) or not UUID_RE.match(value):
            self.refuse(name, f"got {_show(value)}; expected a dataset UUID")
            return ""
        return str(uuid.UUID(value))

    def name(self, value: Any) -> str:
        """The name of a new slice."""
        if not isinstance(value, str) or not NAME_MIN_LENGTH <= len(value) <= NAME_MAX_LENGTH:
            self.refuse(
                "name",
                f"got {_show(value)}; expected {NAME_MIN_LENGTH}-{NAME_MAX_LENGTH} characters",
            )
            return ""
        if (problem := name_problem(value)) is not None:
            self.refuse("name", problem)
            return ""
        return value

    def text(self, name: str, value: Any) -> str:
        """Any string."""
        if not isinstance(value, str):
            self.refuse(name, f"got {_show(value)}; expected a string")
            return ""
        return value

    def json_object(self, name: str, value: Any) -> dict[str, Any]:
        """A mapping, as the plain JSON object it would be sent as."""
        if not isinstance(value, Mapping):
            self.refuse(name, f"got {_show(value)}; expected a JSON object")
            return {}
        try:
            return dict(json.loads(json.dumps(value, allow_nan=False)))
        except (TypeError, ValueError):
            self.refuse(name, "expected a JSON object; it holds values JSON cannot represent")
            return {}
        except RecursionError:
            self.refuse(name, "expected a JSON object; it is nested too deeply")
            return {}

    def search(self, name: str, value: Any) -> str:
        """A search term: the part of a name to look for."""
        if not isinstance(value, str) or not 1 <= len(value) <= NAME_MAX_LENGTH:
            self.refuse(name, f"got {_show(value)}; expected 1-{NAME_MAX_LENGTH} characters")
            return ""
        return value

    def whole_number(self, name: str, value: Any, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high``."""
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.refuse(name, f"got {_show(value)}; expected a whole number from {low} to {high}")
            return low
        return value

    def slice_ref(self, name: str, value: Any) -> tuple[str, str]:
        """A slice named by ``(owner, slug)``, each URL-encoded for a path segment."""
        if not isinstance(value, tuple | list) or len(value) != 2:
            self.refuse(name, f"got {_show(value)}; expected (owner, slug)")
            return "", ""
        return self.segment("owner", value[0]), self.segment("slug", value[1])

    def field_paths(self, name: str, value: Any, most: int) -> list[str]:
        """At most ``most`` distinct field paths, each as a filter writes it."""
        if isinstance(value, str) or not isinstance(value, Sequence):
            self.refuse(name, f"got {_show(value)}; expected a list of field paths")
            return []
        if len(value) > most:
            self.refuse(name, f"got {len(value)} paths; expected at most {most}")
            return []
        for index, path in enumerate(value):
            if (problem := path_problem(path)) is not None:
                self.refuse(name, f"{name}[{index}]: {problem}")
            elif path in value[:index]:
                self.refuse(name, f"{name}[{index}]: {path!r} is listed twice")
        return list(value)

    def page_params(
        self,
        *,
        ordering: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """The query of a listing: ordering, limit, and the cursor in its original form."""
        params: dict[str, Any] = {}
        if ordering is not None:
            if (
                not isinstance(ordering, str)
                or len(ordering) > _MAX_ORDERING_LENGTH
                or not _ORDERING_RE.match(ordering)
            ):
                self.refuse(
                    "ordering", f"got {_show(ordering)}; expected e.g. 'name' or '-created_at'"
                )
            else:
                params["ordering"] = ordering
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
                self.refuse(
                    "limit", f"got {_show(limit)}; expected a whole number from 1 to {MAX_LIMIT}"
                )
            else:
                params["limit"] = limit
        if cursor is not None:
            if (
                not isinstance(cursor, str)
                or not 1 <= len(cursor) <= _MAX_CURSOR_LENGTH
                or not cursor.isprintable()
            ):
                self.refuse("cursor", "expected a next_cursor returned by an earlier page")
            else:
                params.update(cursor_params(cursor))
        return params


def path_problem(path: Any) -> str | None:
    """What is wrong with ``path`` as a field path (``key``, ``metadata.a.b``), None if nothing.

    The filter language's parser is the one judge, so a path accepted here fits in a filter.
    """
    if not isinstance(path, str):
        return f"got {_show(path)}; expected a field path such as 'metadata.weather'"
    try:
        parse_filter({"field": path, "op": "exists", "value": True})
    except FilterError as error:
        return str(error).removeprefix("field: ")
    return None


def _show(value: Any) -> str:
    """A short, safe rendering of a refused argument (text quoted as every message quotes it)."""
    if isinstance(value, str):
        return quoted(value, 57)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
