"""What each tool takes: one pydantic model per tool, checked before any request.

The models' JSON schemas are the tools' input schemas. A slice filter (:data:`Filter`) is checked
by the filter language's one parser, so a bad filter fails as invalid_input naming where it is
wrong, exactly as the API would refuse it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    PlainSerializer,
    PlainValidator,
    Tag,
    with_config,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from avala_mcp.contract import (
    NAME_MAX_LENGTH,
    NAME_MIN_LENGTH,
    SEGMENT_PATTERN,
    UUID_PATTERN,
)
from avala_mcp.filters import Condition as FilterCondition
from avala_mcp.filters import FilterError, Group, Node, filter_to_json, parse_filter
from avala_mcp.filters import Not as FilterNot

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


# --- the filter ---------------------------------------------------------------------------------
# A filter is checked by avala_mcp.filters.parse_filter, the one parser the embedded API uses too,
# so the tools refuse exactly what the API would. The TypedDicts below only describe the filter's
# JSON for the tools' input schema; they never validate anything.

Operator = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "exists"]


class Condition(TypedDict):
    """One test on an item field."""

    field: Annotated[
        str,
        Field(
            pattern=r"^(key|created_at|metadata(\.[^.]+)+)$",
            max_length=200,
            description='"key", "created_at" or "metadata.<name>[.<name>...]".',
        ),
    ]
    op: Operator
    value: JsonValue


AllOf = TypedDict("AllOf", {"and": Annotated[list["FilterJson"], Field(min_length=1)]})
AnyOf = TypedDict("AnyOf", {"or": Annotated[list["FilterJson"], Field(min_length=1)]})
Not = TypedDict("Not", {"not": "FilterJson"})
# No other keys (additionalProperties: false), as the parser has it.
for _form_json in (Condition, AllOf, AnyOf, Not):
    with_config(ConfigDict(extra="forbid"))(_form_json)


def _form(raw: Any) -> str:
    """Which of the four forms a filter's JSON takes: what makes the schema a oneOf."""
    return next((key for key in ("and", "or", "not") if key in raw), "condition")


#: The JSON of a filter, as the input schema shows it: exactly one of the four forms.
FilterJson = Annotated[
    Annotated[Condition, Tag("condition")]
    | Annotated[AllOf, Tag("and")]
    | Annotated[AnyOf, Tag("or")]
    | Annotated[Not, Tag("not")],
    Discriminator(_form),
]


def _parsed_filter(raw: object) -> Node:
    """A tool's ``filter`` argument, parsed; a bad one fails as invalid input naming the path."""
    if isinstance(raw, FilterCondition | Group | FilterNot):
        return raw  # parsed already
    try:
        return parse_filter(raw)
    except FilterError as error:
        raise PydanticCustomError("filter", "{problem}", {"problem": str(error)}) from None


#: A slice filter as a tool takes it: validated by parse_filter into a tree (what the tool holds),
#: advertised as FilterJson, and written back as its canonical JSON.
Filter = Annotated[
    Node,
    PlainValidator(_parsed_filter, json_schema_input_type=FilterJson),
    PlainSerializer(filter_to_json, return_type=dict[str, JsonValue]),
]


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
