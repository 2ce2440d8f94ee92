"""What each tool takes: one pydantic model per tool, checked before any request.

The models' JSON schemas are the tools' input schemas. A slice filter (:data:`Filter`) is checked
by the filter language's one parser, so a bad filter fails as invalid_input naming where it is
wrong, exactly as the API would refuse it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    PlainSerializer,
    PlainValidator,
    Tag,
    WithJsonSchema,
    with_config,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from avala_mcp.client import PREVIEW_MAX_ITEMS
from avala_mcp.contract import (
    FILTER_MAX_PATH_LENGTH,
    NAME_MAX_LENGTH,
    NAME_MIN_LENGTH,
    PROFILE_DEFAULT_TOP,
    PROFILE_MAX_TOP,
    SEGMENT_PATTERN,
    UUID_PATTERN,
    name_problem,
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


def _name_characters(name: str) -> str:
    """A slice name, refused if it holds a character no name may (see ``name_problem``)."""
    if (problem := name_problem(name)) is not None:
        raise PydanticCustomError("name_characters", "{problem}", {"problem": problem})
    return name


SliceName = Annotated[
    str,
    Field(
        min_length=NAME_MIN_LENGTH,
        max_length=NAME_MAX_LENGTH,
        description="Display name of the slice (1-255 characters, unique in its dataset).",
    ),
    AfterValidator(_name_characters),
]
Cursor = Annotated[
    str | None,
    Field(
        max_length=2000,
        description="next_cursor from the previous page; omit for the first page.",
    ),
]
Limit = Annotated[int, Field(ge=1, le=100, description="Page size, 1-100.")]
#: What a filter condition's ``field`` may be, as the filter language writes it.
FIELD_PATH_PATTERN = r"^(key|created_at|metadata(\.[^.]+)+)$"
FIELD_PATH_MAX_LENGTH = FILTER_MAX_PATH_LENGTH  # the parser enforces it, in filters and fields
#: How many field paths a profile (describe_dataset, describe_slice) is asked for at most.
MAX_FIELDS = 50
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


OwnerOfDatasets = Annotated[
    str | None,
    Field(
        pattern=SEGMENT_PATTERN,
        description="Only this owner's datasets (an organization slug or username).",
    ),
]
DatasetName = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=NAME_MAX_LENGTH,
        description="Only datasets whose name contains this text (any case).",
    ),
]
DescribedDataset = Annotated[str, Field(pattern=UUID_PATTERN, description="The dataset's UUID.")]
Top = Annotated[
    int,
    Field(ge=1, le=PROFILE_MAX_TOP, description="Most common values shown per field, 1-50."),
]
Sample = Annotated[
    int, Field(ge=0, le=PREVIEW_MAX_ITEMS, description="Matching items to show, 0-6.")
]


class ToolInput(BaseModel):
    """Base of the tool inputs: an unknown argument is a mistake worth reporting, not ignoring.

    Strict, so that every argument takes only its own JSON type: an integer (``limit``, ``top``,
    ``sample``) is a JSON integer, never ``true``, ``"5"`` or ``5.0``, which lax validation would
    quietly turn into a number. Arguments arrive as parsed JSON, so a JSON integer is an ``int``.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


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
            pattern=FIELD_PATH_PATTERN,
            max_length=FIELD_PATH_MAX_LENGTH,
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


def _field_path(path: str) -> str:
    """A ``fields`` entry, checked by the filter language's parser as a condition's field."""
    try:
        parse_filter({"field": path, "op": "exists", "value": True})
    except FilterError as error:
        problem = str(error).removeprefix("field: ")
        raise PydanticCustomError("field_path", "{problem}", {"problem": problem}) from None
    return path


FieldPath = Annotated[
    str,
    Field(pattern=FIELD_PATH_PATTERN, max_length=FIELD_PATH_MAX_LENGTH),
    AfterValidator(_field_path),
]
Fields = Annotated[
    list[FieldPath] | None,
    Field(
        max_length=MAX_FIELDS,
        description="Only these paths (at most 50), e.g. ['metadata.weather']; omit for all.",
    ),
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


class ListDatasetsInput(ToolInput):
    owner: OwnerOfDatasets = None
    name: DatasetName = None
    cursor: Cursor = None
    limit: Limit = 20


DescribedItems = Annotated[
    Filter | None, Field(description="Describe only the items this filter selects.")
]
TriedFilter = Annotated[
    Filter | None,
    Field(description="The filter create_slice would be given; omit for every item."),
]


class DescribeDatasetInput(ToolInput):
    dataset: DescribedDataset
    filter: DescribedItems = None
    fields: Fields = None
    top: Top = PROFILE_DEFAULT_TOP


class DescribeSliceInput(ToolInput):
    owner: Owner
    slug: Slug
    fields: Fields = None
    top: Top = PROFILE_DEFAULT_TOP


class PreviewSliceInput(ToolInput):
    dataset: DescribedDataset
    filter: TriedFilter = None
    sample: Sample = 3


# show_items takes its items from one of two sources, so every argument is optional. Each is
# advertised as plainly as it can be (its type without "or null" or a default, the dataset as a
# uuid, the filter as an object, which the guard still parses in full): the tool list a model
# reads has a budget (docs/contracts.md, section 3), and the tool's description says the rest.


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _advertised(schema: dict[str, Any]) -> Any:
    """An optional argument's validation, advertised as ``schema`` alone."""
    return (Field(json_schema_extra=_no_default), WithJsonSchema(schema))


#: An owner or a slug: a path segment.
ShownSegment = Annotated[
    str | None,
    Field(pattern=SEGMENT_PATTERN),
    *_advertised({"type": "string", "pattern": SEGMENT_PATTERN}),
]
ShownCursor = Annotated[
    str | None, Field(max_length=2000), *_advertised({"type": "string", "maxLength": 2000})
]
Shown = Annotated[int, Field(ge=1, le=PREVIEW_MAX_ITEMS)]
ShownDataset = Annotated[
    str | None,
    Field(pattern=UUID_PATTERN),
    *_advertised({"type": "string", "format": "uuid"}),
]
ShownFilter = Annotated[
    Node | None,
    PlainValidator(_parsed_filter),
    PlainSerializer(filter_to_json, return_type=dict[str, JsonValue]),
    *_advertised({"type": "object", "description": "As create_slice takes it."}),
]


class ShowItemsInput(ToolInput):
    owner: ShownSegment = None
    slug: ShownSegment = None
    cursor: ShownCursor = None
    limit: Shown = 4
    dataset: ShownDataset = None
    filter: ShownFilter = None
