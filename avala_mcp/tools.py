"""The tool catalog: each MCP tool declared once, as data (DESIGN §4).

A :class:`ToolSpec` holds everything about a tool: its name, title, description, annotations,
input and output models, and the plain async function that does the work with an
:class:`~avala_mcp.client.AvalaClient`. ``avala_mcp.server`` registers the catalog (adding the
cross-cutting concerns: structured failures, secret redaction, read-only mode, confirmation) and
the README's tool table is rendered from it, so the three never drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.types import ToolAnnotations
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

from avala_mcp.errors import ConfirmationRequiredError, InvalidInputError
from avala_mcp.models import (
    FILTER_MAX_CONDITIONS,
    FILTER_MAX_DEPTH,
    FILTER_MAX_VALUE_BYTES,
    NAME_MAX_LENGTH,
    NAME_MIN_LENGTH,
    SEGMENT_PATTERN,
    UUID_PATTERN,
    Page,
    Slice,
    SliceItem,
)

if TYPE_CHECKING:
    from avala_mcp.client import AvalaClient

#: The template of a slice's resource URI; the server registers the same templates.
SLICE_URI = "avala://slices/{owner}/{slug}"

FILTER_LANGUAGE = (
    'A filter is JSON: a condition {"field": F, "op": OP, "value": V}, or {"and": [filter, ...]}, '
    '{"or": [filter, ...]}, {"not": filter}. F is "key", "created_at" or "metadata.<name>" '
    "(dots reach nested metadata). OP is eq, ne, gt, gte, lt, lte; in, nin (value: a list); "
    "contains (substring or list element); exists (value: true or false). Values are compared "
    'without type conversion ("5" is not 5); a condition on a missing field is false, except '
    "ne, nin and exists:false. No filter means the whole dataset. Example, rainy night scenes "
    'with pedestrians: {"and": [{"field": "metadata.time_of_day", "op": "eq", "value": "night"}, '
    '{"field": "metadata.weather", "op": "eq", "value": "rain"}, '
    '{"field": "metadata.pedestrians", "op": "gte", "value": 1}]}'
)

# Concise item views shorten what a model rarely needs in full (captions, embeddings, polygons).
_MAX_VALUE_CHARS = 80
# Characters of metadata JSON a concise item shows: typical metadata whole (the demo's items
# use under 180), then less and less until the page fits its text budget: 20 items (the
# default page) in under 8 KB.
_METADATA_BUDGETS = (200, 120, 0)
_ITEM_BUDGET = 380
_MAX_SUMMARY_CHARS = 200


# --- Inputs -------------------------------------------------------------------------------------

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
    dataset: DatasetUid | None = Field(
        default=None, description="Only this dataset's slices (its UUID); omit for all the owner's."
    )
    ordering: str | None = Field(
        default=None,
        pattern=r"^-?[A-Za-z_]{1,40}$",
        description="Field to sort by, '-' for descending, e.g. 'name' or '-created_at'.",
    )
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
    detail: Literal["concise", "full"] = Field(
        default="concise",
        description="'concise': uid, key, url and metadata with long values shortened; "
        "'full': every field, nothing shortened.",
    )


class ValidateSliceNameInput(ToolInput):
    name: SliceName
    dataset: DatasetUid | None = Field(
        default=None,
        description="The dataset the slice would filter; checks the name is free there.",
    )


class DeleteSliceInput(ToolInput):
    owner: Owner
    slug: Slug
    confirm: str | None = Field(
        default=None,
        max_length=202,
        description="Only for clients that cannot ask the user: '<owner>/<slug>', set after the "
        "user has agreed to the deletion.",
    )


# --- Outputs ------------------------------------------------------------------------------------


class ToolOutput(BaseModel):
    """Base of the tool results.

    A field that may be left out defaults to None and is dropped when unset (:meth:`payload`), so
    results carry no nulls a model does not need; a required field is always present.
    """

    def payload(self) -> dict[str, Any]:
        """The structured content: JSON-ready, without optional fields left at their default."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)


class SliceSummary(ToolOutput):
    name: str
    slug: str
    owner: str | None = None
    dataset: str | None = None
    item_count: int
    description: str | None = None
    updated_at: str | None = None


class Paged(ToolOutput):
    """One page of a listing; ``next_cursor`` is null on the last page, and says so."""

    count: int | None = Field(description="Total across all pages, when the API reports it.")
    next_cursor: str | None = Field(description="Pass as cursor= for the next page; null: last.")


class SliceList(Paged):
    slices: list[SliceSummary]


class SliceDetail(ToolOutput):
    uid: str
    name: str
    slug: str
    owner: str | None = None
    dataset: str | None = None
    description: str | None = None
    item_count: int
    filter: dict[str, Any] | None = None
    created_at: str | None = None
    updated_at: str | None = None
    uri: str | None = Field(default=None, description="The slice's MCP resource.")


class ItemView(ToolOutput):
    """A dataset item; concise views hold uid, key, url and metadata only."""

    model_config = ConfigDict(extra="allow")

    uid: str
    key: str | None = None
    url: str | None = None
    metadata: dict[str, Any] | None = None
    dataset: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class ItemList(Paged):
    items: list[ItemView]


class NameCheck(ToolOutput):
    valid: bool
    slug: str | None = Field(description="The slug the name would get; null if invalid.")
    reasons: list[str] = Field(description="Why the name is refused; empty when valid.")


class Deletion(ToolOutput):
    deleted: bool
    owner: str
    slug: str
    message: str | None = None


# --- What each tool does ------------------------------------------------------------------------


def slice_uri(owner: str, slug: str) -> str:
    return SLICE_URI.format(owner=owner, slug=slug)


def _timestamp(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… (+{len(text) - limit} chars)"


def summarize(slice_: Slice, owner: str | None = None) -> SliceSummary:
    """A slice as a list entry; ``owner`` fills in for APIs that leave it out."""
    return SliceSummary(
        name=slice_.name,
        slug=slice_.slug,
        owner=_owner_of(slice_, owner),
        dataset=slice_.dataset,
        item_count=slice_.item_count,
        description=_shorten(slice_.description, _MAX_SUMMARY_CHARS)
        if slice_.description
        else None,
        updated_at=_timestamp(slice_.updated_at),
    )


def describe(slice_: Slice, owner: str | None = None) -> SliceDetail:
    """A slice in full, with its resource URI when its owner is known."""
    owner = _owner_of(slice_, owner)
    return SliceDetail(
        uid=slice_.uid,
        name=slice_.name,
        slug=slice_.slug,
        owner=owner,
        dataset=slice_.dataset,
        description=slice_.description or None,
        item_count=slice_.item_count,
        filter=slice_.filter,
        created_at=_timestamp(slice_.created_at),
        updated_at=_timestamp(slice_.updated_at),
        uri=slice_uri(owner, slice_.slug) if owner else None,
    )


def _owner_of(slice_: Slice, fallback: str | None) -> str | None:
    """The slice's owner: the embedded API says ``owner``, Avala's newer responses
    ``owner_name``; ``fallback`` (the owner asked about) covers responses with neither."""
    named = (slice_.model_extra or {}).get("owner_name")
    return slice_.owner or (named if isinstance(named, str) and named else None) or fallback


def _concise_value(value: Any) -> Any:
    """A metadata value as a concise view shows it: long ones shortened, and marked so."""
    if isinstance(value, str):
        return _shorten(value, _MAX_VALUE_CHARS)
    if isinstance(value, list | dict):
        size = len(_compact_json(value))
        if size > _MAX_VALUE_CHARS:
            kind = "list" if isinstance(value, list) else "object"
            return f"… ({kind} of {len(value)}, {size} chars; detail='full' shows it)"
    return value


def item_view(
    item: SliceItem, detail: Literal["concise", "full"], budget: int = _METADATA_BUDGETS[0]
) -> ItemView:
    """An item as listed; concise metadata is cut to about ``budget`` characters of JSON."""
    if detail == "full":
        return ItemView.model_validate(item.model_dump(mode="json"))
    metadata: dict[str, Any] = {}
    size = 0
    for shown, (key, value) in enumerate(item.metadata.items()):
        value = _concise_value(value)
        size += len(_compact_json({key: value}))
        if size > budget:
            metadata["…"] = f"{len(item.metadata) - shown} more keys; detail='full' shows them"
            break
        metadata[key] = value
    return ItemView(uid=item.uid, key=item.key, url=item.url, metadata=metadata or None)


def _item_views(items: list[SliceItem], detail: Literal["concise", "full"]) -> list[ItemView]:
    """The page's items; a concise page gives up metadata until it fits the text budget."""
    page_budget = _ITEM_BUDGET * len(items)
    for budget in _METADATA_BUDGETS:
        views = [item_view(item, detail, budget) for item in items]
        if detail == "full" or len(_compact_json([v.payload() for v in views])) <= page_budget:
            break
    return views


async def list_slices(client: AvalaClient, args: ListSlicesInput) -> SliceList:
    page: Page[Slice]
    if args.dataset is not None:
        page = await client.list_dataset_slices(
            args.dataset, ordering=args.ordering, cursor=args.cursor, limit=args.limit
        )
        # The dataset's endpoint does not take the owner: make sure the two agree rather than
        # label another owner's slices with the one asked about.
        owners = {_owner_of(slice_, None) for slice_ in page.results}
        others = sorted(owner for owner in owners if owner and owner != args.owner)
        if others:
            other = others[0]
            error = InvalidInputError.for_fields(
                {"dataset": [f"this dataset's slices belong to '{other}', not '{args.owner}'"]}
            )
            error.hint = f"call list_slices(owner='{other}', dataset='{args.dataset}')"
            raise error
    else:
        page = await client.list_slices(
            args.owner, ordering=args.ordering, cursor=args.cursor, limit=args.limit
        )
    return SliceList(
        count=page.count,
        next_cursor=page.next_cursor,
        slices=[summarize(slice_, args.owner) for slice_ in page.results],
    )


async def get_slice(client: AvalaClient, args: GetSliceInput) -> SliceDetail:
    return describe(await client.get_slice(args.owner, args.slug), args.owner)


async def create_slice(client: AvalaClient, args: CreateSliceInput) -> SliceDetail:
    created = await client.create_slice(
        name=args.name,
        dataset=args.dataset,
        description=args.description,
        filter=args.filter.model_dump(mode="json", by_alias=True) if args.filter else None,
    )
    return describe(created)


async def list_slice_items(client: AvalaClient, args: ListSliceItemsInput) -> ItemList:
    page = await client.list_slice_items(
        args.owner, args.slug, cursor=args.cursor, limit=args.limit
    )
    return ItemList(
        count=page.count,
        next_cursor=page.next_cursor,
        items=_item_views(page.results, args.detail),
    )


async def validate_slice_name(client: AvalaClient, args: ValidateSliceNameInput) -> NameCheck:
    verdict = await client.validate_slice_name(args.name, dataset=args.dataset)
    return NameCheck(valid=verdict.valid, slug=verdict.slug, reasons=verdict.reasons)


class Consent(Enum):
    """The user's answer to a destructive call, as the server established it."""

    GIVEN = "given"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    MISSING = "missing"


async def delete_slice(client: AvalaClient, args: DeleteSliceInput, consent: Consent) -> Deletion:
    target = f"{args.owner}/{args.slug}"
    if consent is Consent.MISSING:
        raise ConfirmationRequiredError(
            f"deleting {target} needs the user's confirmation, and this client cannot ask",
            hint=f"ask the user; if they agree, call delete_slice(owner='{args.owner}', "
            f"slug='{args.slug}', confirm='{target}')",
        )
    if consent is not Consent.GIVEN:
        return Deletion(
            deleted=False,
            owner=args.owner,
            slug=args.slug,
            message=f"the user {consent.value} the deletion; nothing was deleted",
        )
    await client.delete_slice(args.owner, args.slug)
    return Deletion(deleted=True, owner=args.owner, slug=args.slug)


# --- The catalog --------------------------------------------------------------------------------

_READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)


@dataclass(frozen=True, kw_only=True)
class ToolSpec:
    """One MCP tool, declared once.

    ``run`` takes the client and the validated input; a destructive tool's ``run`` also takes the
    user's :class:`Consent`, which the server obtains before calling it.
    """

    name: str
    title: str
    description: str
    annotations: ToolAnnotations
    input_model: type[ToolInput]
    output_model: type[ToolOutput]
    run: Callable[..., Awaitable[ToolOutput]]

    @property
    def writes(self) -> bool:
        return not self.annotations.read_only_hint

    @property
    def destructive(self) -> bool:
        return bool(self.annotations.destructive_hint)


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="list_slices",
        title="List slices",
        description=(
            "List the slices (saved filtered subsets of a dataset) of an owner, one page at a "
            "time (default 20, limit up to 100). Use it to find a slice's slug, or to see what "
            "exists before creating one. Give dataset (a UUID) to list only that dataset's slices. "
            "Each entry has name, slug, owner, dataset, item_count. When next_cursor is not "
            "null, more slices exist: call again with cursor=next_cursor. "
            "Next: get_slice(owner, slug) for details or list_slice_items(owner, slug) for items."
        ),
        annotations=_READ,
        input_model=ListSlicesInput,
        output_model=SliceList,
        run=list_slices,
    ),
    ToolSpec(
        name="get_slice",
        title="Get a slice",
        description=(
            "Get one slice by owner and slug: name, description, item_count, its dataset, the "
            "filter that defines it, timestamps and its resource URI. Use it to check what a "
            "slice holds before reading or changing it. "
            "Next: list_slice_items(owner, slug) to read its items."
        ),
        annotations=_READ,
        input_model=GetSliceInput,
        output_model=SliceDetail,
        run=get_slice,
    ),
    ToolSpec(
        name="create_slice",
        title="Create a slice",
        description=(
            "Create a slice: a named, filtered subset of a dataset (its items are referenced, "
            "not copied). The owner is the dataset's owner. Call validate_slice_name first; "
            "a name already used in the dataset fails with a conflict. "
            f"{FILTER_LANGUAGE}. Returns the slice with owner, slug, item_count (how many items "
            "the filter matched) and its resource URI. "
            "Next: list_slice_items(owner, slug) to check the items are the ones intended."
        ),
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=True,
        ),
        input_model=CreateSliceInput,
        output_model=SliceDetail,
        run=create_slice,
    ),
    ToolSpec(
        name="list_slice_items",
        title="List a slice's items",
        description=(
            "List the dataset items in a slice, one page at a time (default 20). "
            "detail='concise' (default) gives uid, key, url and metadata, with long values "
            "shortened and marked; detail='full' gives every field unshortened. count is the "
            "slice's total; when next_cursor is not null, call again with cursor=next_cursor "
            "for the next page. Use it to inspect or verify what a slice's filter matched."
        ),
        annotations=_READ,
        input_model=ListSliceItemsInput,
        output_model=ItemList,
        run=list_slice_items,
    ),
    ToolSpec(
        name="validate_slice_name",
        title="Check a slice name",
        description=(
            "Check a proposed slice name before create_slice: whether it is valid (and, with "
            "dataset, still free in that dataset), the slug it would get, and the reasons if "
            "not. Changes nothing. Next: create_slice with a valid name, or pick another name."
        ),
        annotations=_READ,
        input_model=ValidateSliceNameInput,
        output_model=NameCheck,
        run=validate_slice_name,
    ),
    ToolSpec(
        name="delete_slice",
        title="Delete a slice",
        description=(
            "Delete a slice for good (its dataset's items are untouched). The user is asked to "
            "confirm; a declined or cancelled confirmation deletes nothing and says so. If this "
            "client cannot ask, the call fails with confirmation_required: ask the user yourself "
            "and, only if they agree, call again with confirm='<owner>/<slug>'. Deleting a slice "
            "that no longer exists fails with not_found."
        ),
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True
        ),
        input_model=DeleteSliceInput,
        output_model=Deletion,
        run=delete_slice,
    ),
)


def tools_markdown(tools: tuple[ToolSpec, ...] = TOOLS) -> str:
    """The README's tool table, rendered from the catalog."""
    rows = ["| tool | what it does | arguments | result | hints |", "|---|---|---|---|---|"]
    for spec in tools:
        schema = spec.input_model.model_json_schema()
        required = set(schema.get("required", ()))
        arguments = ", ".join(
            name if name in required else f"{name}?" for name in schema["properties"]
        )
        result = ", ".join(spec.output_model.model_fields)
        hints = ", ".join(
            label
            for label, on in (
                ("read-only", spec.annotations.read_only_hint),
                ("destructive", spec.annotations.destructive_hint),
                ("idempotent", spec.annotations.idempotent_hint),
            )
            if on
        )
        does = spec.description.split(". ")[0].split(": ")[0]
        rows.append(f"| `{spec.name}` | {does} | {arguments} | {{{result}}} | {hints or 'write'} |")
    return "\n".join(rows)
