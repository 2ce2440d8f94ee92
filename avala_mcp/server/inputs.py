"""What each tool takes: one pydantic model per tool, checked before any request (DESIGN §4).

The models' JSON schemas are the tools' input schemas; the filter model checks a slice filter's
shape and DESIGN §3's bounds, so a bad filter fails as invalid_input naming where it is wrong.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    Tag,
    field_validator,
    model_validator,
)

from avala_mcp.contract import (
    FILTER_MAX_CONDITIONS,
    FILTER_MAX_DEPTH,
    FILTER_MAX_VALUE_BYTES,
    NAME_MAX_LENGTH,
    NAME_MIN_LENGTH,
    SEGMENT_PATTERN,
    UUID_PATTERN,
)

Owner = Annotated[
    str,
    Field(
        pattern=SEGMENT_PATTERN,
        description="Organization slug or username that owns the slices, e.g. 'acme-ai'.",
    ),
]
Slug = Annotated[
    str,
    Field(
        pattern=SEGMENT_PATTERN,
        description="The slice's slug, as listed by list_slices, e.g. 'night-driving-scenes'.",
    ),
]
DatasetUid = Annotated[
    str, Field(pattern=UUID_PATTERN, description="UUID of the dataset the slice filters.")
]
SliceName = Annotated[
    str,
    Field(
        min_length=NAME_MIN_LENGTH,
        max_length=NAME_MAX_LENGTH,
        description="Display name of the slice (1-255 characters, unique in its dataset).",
    ),
]
Cursor = Annotated[
    str | None,
    Field(
        max_length=2000,
        description="next_cursor from the previous page; omit for the first page.",
    ),
]
Limit = Annotated[int, Field(ge=1, le=100, description="Page size, 1-100.")]
# The optional arguments below are shared by an input model and its tool's function
# (``avala_mcp.server.tools``), so the two declare each argument once.
SlicesOfDataset = Annotated[
    DatasetUid | None,
    Field(description="Only this dataset's slices (its UUID); omit for all the owner's."),
]
Ordering = Annotated[
    str | None,
    Field(
        pattern=r"^-?[A-Za-z_]{1,40}$",
        description="Field to sort by, '-' for descending, e.g. 'name' or '-created_at'.",
    ),
]
Detail = Annotated[
    Literal["concise", "full"],
    Field(
        description="'concise': uid, key, url and metadata with long values shortened; "
        "'full': every field, nothing shortened.",
    ),
]
NameInDataset = Annotated[
    DatasetUid | None,
    Field(description="The dataset the slice would filter; checks the name is free there."),
]
Confirmation = Annotated[
    str | None,
    Field(
        max_length=202,
        description="Only for clients that cannot ask the user: '<owner>/<slug>', set after the "
        "user has agreed to the deletion.",
    ),
]


class ToolInput(BaseModel):
    """Base of the tool inputs: an unknown argument is a mistake worth reporting, not ignoring."""

    model_config = ConfigDict(extra="forbid")


Operator = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "exists"]


class Condition(ToolInput):
    """One test on an item field."""

    field: str = Field(
        pattern=r"^(key|created_at|metadata(\.[^.]+)+)$",
        max_length=200,
        description='"key", "created_at" or "metadata.<name>[.<name>...]".',
    )
    op: Operator
    value: JsonValue

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Condition:
        if self.op in ("in", "nin") and not isinstance(self.value, list):
            raise ValueError(f"op '{self.op}' needs a list value")
        if self.op == "exists" and not isinstance(self.value, bool):
            raise ValueError("op 'exists' needs the value true or false")
        size = len(json.dumps(self.value, ensure_ascii=False).encode())
        if size > FILTER_MAX_VALUE_BYTES:
            raise ValueError(f"the value is {size} bytes, over {FILTER_MAX_VALUE_BYTES}")
        return self


class AllOf(ToolInput):
    all_of: list[Filter] = Field(alias="and", min_length=1)


class AnyOf(ToolInput):
    any_of: list[Filter] = Field(alias="or", min_length=1)


class Not(ToolInput):
    negated: Filter = Field(alias="not")


def _filter_kind(value: Any) -> str | None:
    """Which filter form a raw value (or a model) is, so errors name the right one."""
    if isinstance(value, BaseModel):
        return {AllOf: "and", AnyOf: "or", Not: "not"}.get(type(value), "condition")
    if isinstance(value, dict):
        for kind in ("and", "or", "not"):
            if kind in value:
                return kind
        return "condition"
    return None


Filter = Annotated[
    Annotated[Condition, Tag("condition")]
    | Annotated[AllOf, Tag("and")]
    | Annotated[AnyOf, Tag("or")]
    | Annotated[Not, Tag("not")],
    Discriminator(_filter_kind),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


class ListSlicesInput(ToolInput):
    owner: Owner
    dataset: SlicesOfDataset = None
    ordering: Ordering = None
    cursor: Cursor = None
    limit: Limit = 20


class GetSliceInput(ToolInput):
    owner: Owner
    slug: Slug


class CreateSliceInput(ToolInput):
    name: SliceName
    dataset: DatasetUid
    description: str | None = Field(
        default=None, max_length=2000, description="What the slice is for, in a sentence."
    )
    filter: Filter | None = Field(
        default=None, description="Which dataset items the slice holds (see the filter language)."
    )

    @field_validator("filter")
    @classmethod
    def _within_bounds(cls, value: Filter | None) -> Filter | None:
        if value is not None:
            conditions = _count_conditions(value, depth=1)
            if conditions > FILTER_MAX_CONDITIONS:
                raise ValueError(
                    f"the filter has {conditions} conditions, over {FILTER_MAX_CONDITIONS}"
                )
        return value


def _count_conditions(node: Filter, depth: int) -> int:
    """How many conditions ``node`` holds; a ValueError if it nests too deep."""
    if depth > FILTER_MAX_DEPTH:
        raise ValueError(f"the filter is nested deeper than {FILTER_MAX_DEPTH} levels")
    if isinstance(node, Condition):
        return 1
    if isinstance(node, Not):
        return _count_conditions(node.negated, depth + 1)
    children = node.all_of if isinstance(node, AllOf) else node.any_of
    return sum(_count_conditions(child, depth + 1) for child in children)


class ListSliceItemsInput(ToolInput):
    owner: Owner
    slug: Slug
    cursor: Cursor = None
    limit: Limit = 20
    detail: Detail = "concise"


class ValidateSliceNameInput(ToolInput):
    name: SliceName
    dataset: NameInDataset = None


class DeleteSliceInput(ToolInput):
    owner: Owner
    slug: Slug
    confirm: Confirmation = None
