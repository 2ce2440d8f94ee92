"""Checks of a slice filter against its dataset's profile: the mistakes that select nothing.

A filter can be well formed and still wrong for its data: a misspelt field (``metadata.wether``),
a value of a type the field never holds (``"2"`` for a number), a value the field never takes
(``"Night"`` for ``night``), or no match at all. The functions here find each from a
:class:`~avala_mcp.client.models.Profile` of the dataset (they make no request) and name the
nearest correct path or value, so a model can fix its filter in one more call
(``docs/contracts.md``, "Filter checks").
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from avala_mcp.client.models import FieldProfile, Profile
from avala_mcp.contract import PROFILE_MAX_TOP
from avala_mcp.filters import COLUMN_FIELDS, Condition, Group, Node, Not, Scalar

#: A field with at most this many distinct values has them all in its profile's ``top`` (the
#: most a profile lists), so a value outside them can be named a likely mistake.
MAX_LISTED_DISTINCT = PROFILE_MAX_TOP
# How many paths or values a message names at most.
_MAX_SUGGESTIONS = 3
_MAX_LISTED = 20
_CLOSENESS = 0.6
# Ops whose value is compared for equality with the field's values (check 3).
_EQUALITY_OPS = frozenset({"eq", "ne", "in", "nin"})
_METADATA = "metadata."
_TYPE_NOUNS = {
    "string": "strings",
    "number": "numbers",
    "boolean": "booleans",
    "array": "lists",
    "object": "objects",
}


@dataclass(frozen=True)
class Finding:
    """One doubt about a filter, at one field path.

    ``refusable`` findings (a path or a value type no item has) make ``create_slice`` refuse the
    filter when the profile is exact; the others, and all of them for a sampled profile, are
    warnings. ``suggestion`` is what to write instead, e.g. ``did you mean metadata.weather?``.
    """

    path: str
    problem: str
    suggestion: str | None
    refusable: bool

    @property
    def message(self) -> str:
        tail = f"; {self.suggestion}" if self.suggestion else ""
        return f"{self.path}: {self.problem}{tail}"


def conditions(node: Node) -> Iterator[Condition]:
    """The conditions of a filter, in the order they are written."""
    if isinstance(node, Group):
        for child in node.children:
            yield from conditions(child)
    elif isinstance(node, Not):
        yield from conditions(node.child)
    else:
        yield node


def filter_paths(node: Node) -> list[str]:
    """The metadata paths a filter names, each once, in order: the paths to profile for it.

    ``key`` and ``created_at`` are left out: every item has them, and profiling them (a distinct
    value per item) would only cost.
    """
    named = (condition.field for condition in conditions(node))
    return [path for path in dict.fromkeys(named) if path not in COLUMN_FIELDS]


def check_filter(node: Node, profile: Profile, known_paths: Sequence[str] = ()) -> list[Finding]:
    """Checks 1-3 of each condition of ``node`` against ``profile``.

    ``profile`` is the dataset's, unfiltered, over (at least) :func:`filter_paths` of ``node``
    with ``top`` up to :data:`MAX_LISTED_DISTINCT`; ``known_paths`` are every path the dataset
    has, from which a path no item has gets its nearest neighbours.
    """
    fields = {field.path: field for field in profile.fields}
    findings: list[Finding] = []
    for condition in conditions(node):
        field = fields.get(condition.field)
        if field is None and condition.field in COLUMN_FIELDS:
            continue  # every item has its key and created_at, profiled or not
        if field is None or field.present == 0:
            findings.append(_unknown_path(condition, profile, known_paths))
        else:
            finding = _wrong_type(condition, field, profile) or _unknown_value(
                condition, field, profile
            )
            if finding is not None:
                findings.append(finding)
    return list(dict.fromkeys(findings))  # one finding per mistake, however often it is made


def refusals(findings: Sequence[Finding], profile: Profile) -> list[Finding]:
    """The findings ``create_slice`` refuses a filter for: refusable ones of an exact profile."""
    return [finding for finding in findings if finding.refusable and profile.exact]


def empty_selection(count: int, *, sampled: int | None) -> str | None:
    """Check 4: the warning for a filter that matches nothing, or None when it matches some."""
    if count:
        return None
    if sampled is None:
        return "the filter matches no item of the dataset"
    return (
        f"the filter matches none of the {sampled} sampled items (items beyond the sample may "
        "still match)"
    )


# --- the checks ---------------------------------------------------------------------------------


def _who(profile: Profile) -> str:
    """Whom a statement is about: every item, or every item of the sample."""
    return "no item" if profile.exact else f"none of the {profile.sampled} sampled items"


def _unknown_path(condition: Condition, profile: Profile, known_paths: Sequence[str]) -> Finding:
    """Check 1: a path no item has (``exists`` on one is only warned about: it may be meant)."""
    # Compared without the "metadata." every such path shares, which would make all look alike.
    names = {path.removeprefix(_METADATA): path for path in known_paths}
    nearest = [names[name] for name in _closest(condition.field.removeprefix(_METADATA), names)]
    if nearest:
        suggestion: str | None = f"did you mean {' or '.join(nearest)}?"
    elif known_paths:
        suggestion = f"fields: {_listing(sorted(known_paths))}"
    else:
        suggestion = None
    verb = "has" if profile.exact else "have"
    return Finding(
        path=condition.field,
        problem=f"{_who(profile)} {verb} this field",
        suggestion=suggestion,
        refusable=condition.op != "exists",
    )


def _wrong_type(condition: Condition, field: FieldProfile, profile: Profile) -> Finding | None:
    """Check 2: a value of a JSON type no item holds at the path."""
    if condition.op == "exists":
        return None
    if condition.op == "contains" and "array" in field.types:
        return None  # an element of a list: its type is not profiled
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    for value in values:
        kind = json_type(value)
        fits = kind in field.types and (condition.op != "contains" or kind == "string")
        if not fits:
            holds = " and ".join(
                f"{_TYPE_NOUNS.get(name, name)} ({count} items)"
                for name, count in field.types.items()
            )
            converted = _converted(value, field)
            return Finding(
                path=condition.field,
                problem=f"{_shown(value)} is a {kind}, but this field holds {holds}",
                suggestion=f"write {_shown(converted)}" if converted is not None else None,
                refusable=True,
            )
    return None


def _unknown_value(condition: Condition, field: FieldProfile, profile: Profile) -> Finding | None:
    """Check 3: an equality value outside the (few, all known) values of the field."""
    if condition.op not in _EQUALITY_OPS or field.distinct > MAX_LISTED_DISTINCT:
        return None
    known = [entry.value for entry in field.top]
    if len(known) < field.distinct:
        return None  # the profile does not hold every value: nothing to judge by
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    missing = [value for value in values if not any(_same(value, other) for other in known)]
    if not missing:
        return None
    verb = "has" if profile.exact else "have"
    shown = " or ".join(_shown(value) for value in missing)
    closest = [
        _shown(match)
        for value in missing
        if isinstance(value, str)
        for match in _closest(value, [other for other in known if isinstance(other, str)])
    ]
    ordered = sorted(known, key=_sort_key)
    listing = f"values of {condition.field}: {_listing([_shown(value) for value in ordered])}"
    suggestion = f"did you mean {' or '.join(closest)}? {listing}" if closest else listing
    return Finding(
        path=condition.field,
        problem=f"{_who(profile)} {verb} the value {shown}",
        suggestion=suggestion,
        refusable=False,
    )


# --- helpers ------------------------------------------------------------------------------------


def json_type(value: Scalar) -> str:
    """The profile's name for the JSON type of a filter value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _same(value: Scalar, other: Scalar) -> bool:
    """Equality as the filter language has it: no conversion, and a boolean is not a number."""
    return json_type(value) == json_type(other) and value == other


def _closest(text: str, candidates: Iterable[str]) -> list[str]:
    """The candidates closest to ``text``, those differing from it only in case first."""
    folded = {other.casefold(): other for other in candidates}
    if text.casefold() in folded:
        return [folded[text.casefold()]]
    matches = difflib.get_close_matches(text.casefold(), folded, _MAX_SUGGESTIONS, _CLOSENESS)
    return [folded[match] for match in matches]


def _converted(value: Scalar, field: FieldProfile) -> Scalar | None:
    """``value`` as the type the field holds, when it reads as one ("2" -> 2, 2 -> "2")."""
    if isinstance(value, str) and "number" in field.types:
        try:
            number = float(value)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        return int(number) if number.is_integer() and "." not in value else number
    if isinstance(value, str) and "boolean" in field.types and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, str) and "string" in field.types:
        return _shown(value)  # 2 -> "2", true -> "true": the value's JSON, as text
    return None


def _shown(value: Scalar) -> str:
    """A value as a filter writes it (JSON), so a model can paste it back."""
    return json.dumps(value, ensure_ascii=False)


def _sort_key(value: Scalar) -> tuple[str, Scalar]:
    return (json_type(value), value)


def _listing(texts: Sequence[str]) -> str:
    """At most :data:`_MAX_LISTED` texts, comma-separated, saying how many more there are."""
    more = len(texts) - _MAX_LISTED
    return ", ".join(texts[:_MAX_LISTED]) + (f", … (+{more} more)" if more > 0 else "")
