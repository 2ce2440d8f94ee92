"""The tool catalog: each MCP tool declared once, as data (see ``docs/contracts.md``).

A :class:`ToolSpec` holds everything about a tool: its name, title, description, annotations,
input and output models, and the plain async function that does the work with an
:class:`~avala_mcp.client.AvalaClient`. ``avala_mcp.server.tools`` registers the catalog (its
call guard adding the cross-cutting concerns: structured failures, secret redaction, read-only
mode; its consent resolver the confirmation), and the README's tool table and the tool-surface
snapshot are rendered from it, so they never drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from mcp.types import ToolAnnotations

from avala_mcp.client.errors import ConfirmationRequiredError, InvalidInputError, NotFoundError
from avala_mcp.client.models import Page, Slice
from avala_mcp.server import exploring, gallery
from avala_mcp.server.filter_checks import empty_selection
from avala_mcp.server.inputs import (
    CreateSliceInput,
    DeleteSliceInput,
    DescribeDatasetInput,
    DescribeSliceInput,
    GetSliceInput,
    ListDatasetsInput,
    ListSliceItemsInput,
    ListSlicesInput,
    PreviewSliceInput,
    ShowItemsInput,
    ToolInput,
    ValidateSliceNameInput,
)
from avala_mcp.server.outputs import (
    CreatedSlice,
    DatasetList,
    DatasetProfile,
    Deletion,
    Gallery,
    ItemList,
    NameCheck,
    Preview,
    SliceDetail,
    SliceList,
    ToolOutput,
    describe,
    item_views,
    owner_of,
    summarize,
)

if TYPE_CHECKING:
    from avala_mcp.client import AvalaClient

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


async def list_slices(client: AvalaClient, args: ListSlicesInput) -> SliceList:
    page: Page[Slice]
    if args.dataset is not None:
        page = await client.list_dataset_slices(
            args.dataset, ordering=args.ordering, cursor=args.cursor, limit=args.limit
        )
        # The dataset's endpoint does not take the owner: make sure the two agree rather than
        # label another owner's slices with the one asked about.
        owners = {owner_of(slice_, None) for slice_ in page.results}
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


async def create_slice(client: AvalaClient, args: CreateSliceInput) -> CreatedSlice:
    warnings: list[str] = []
    if args.filter is not None:
        try:
            checked = await exploring.check(client, args.dataset, args.filter)
        except NotFoundError as error:
            # No dataset endpoints (or no such dataset, which creating reports): create unchecked.
            warnings.append(f"the filter was not checked against the dataset: {error.message}")
        else:
            if checked.refused:
                raise exploring.refusal(checked.refused, args.dataset)
            warnings += checked.warnings
    created = await client.create_slice(
        name=args.name,
        dataset=args.dataset,
        description=args.description,
        filter=args.model_dump(mode="json")["filter"],  # the filter's canonical JSON, or None
    )
    if (empty := empty_selection(created.item_count, sampled=None)) is not None:
        warnings.append(empty)
    return CreatedSlice(**dict(describe(created)), warnings=warnings)


async def list_slice_items(client: AvalaClient, args: ListSliceItemsInput) -> ItemList:
    page = await client.list_slice_items(
        args.owner, args.slug, cursor=args.cursor, limit=args.limit
    )
    return ItemList(
        count=page.count,
        next_cursor=page.next_cursor,
        items=item_views(page.results, args.detail),
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
    user's :class:`Consent`, which the server obtains before calling it, and show_items' the
    server's :class:`~avala_mcp.client.media.MediaFetcher`.
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
        name="list_datasets",
        title="List datasets",
        description=(
            "List the datasets the API key can see (uid, name, owner, item_count), a page at "
            "a time: start here to find a dataset's uid. name= keeps names containing the text, "
            "owner= one owner's. When next_cursor is not null, pass it as cursor for more. "
            "Next: describe_dataset(dataset=uid), or list_slices(owner, dataset=uid)."
        ),
        annotations=_READ,
        input_model=ListDatasetsInput,
        output_model=DatasetList,
        run=exploring.list_datasets,
    ),
    ToolSpec(
        name="describe_dataset",
        title="Describe a dataset",
        description=(
            "Describe a dataset's items in one call: count, and per metadata field its path "
            "(as filters write it), types, present (items having it), distinct, top (most "
            "common values with counts) and min/max. Use it before writing a filter, or to "
            "answer 'which values does weather take, and how many items each?'. filter= "
            "describes only what it selects, fields= only those paths. exact: false means "
            "counts are of a sample of sampled items. Next: preview_slice(dataset, filter)."
        ),
        annotations=_READ,
        input_model=DescribeDatasetInput,
        output_model=DatasetProfile,
        run=exploring.describe_dataset,
    ),
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
        name="describe_slice",
        title="Describe a slice",
        description=(
            "Describe a slice's items as describe_dataset does a dataset's (count; per field "
            "types, presence, most common values, min/max): what a slice holds, without paging "
            "through it. Next: list_slice_items(owner, slug) for example items."
        ),
        annotations=_READ,
        input_model=DescribeSliceInput,
        output_model=DatasetProfile,
        run=exploring.describe_slice,
    ),
    ToolSpec(
        name="preview_slice",
        title="Preview a slice",
        description=(
            "Try a filter (as create_slice takes it) without writing anything: the count it "
            "selects, sample example items, its fields over the selection, and warnings: a "
            "field or value no item has (naming the nearest real one), a wrong value type, no "
            "match. Next: fix what the warnings name, then validate_slice_name, create_slice."
        ),
        annotations=_READ,
        input_model=PreviewSliceInput,
        output_model=Preview,
        run=exploring.preview_slice,
    ),
    ToolSpec(
        name="create_slice",
        title="Create a slice",
        description=(
            "Create a slice: a named, filtered subset of a dataset (its items are referenced, "
            "not copied). The owner is the dataset's owner. Call preview_slice and "
            "validate_slice_name first; a name already used in the dataset fails with a "
            f"conflict. {FILTER_LANGUAGE}. A filter on a field or value type no item has is "
            "refused; other doubts come back as warnings. Returns the slice with owner, slug, "
            "item_count (how many items the filter matched) and its resource URI. "
            "Next: describe_slice or list_slice_items to check it holds what was intended."
        ),
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=True,
        ),
        input_model=CreateSliceInput,
        output_model=CreatedSlice,
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
        name="show_items",
        title="Show items",
        description=(
            "See items' images: each item as a line of metadata and its image (at most 512 "
            "px), or a note on why it has none. A slice's page (owner, slug, cursor) or what a "
            "filter selects (dataset, filter); limit 1-6, default 4. Structured page as "
            "list_slice_items', plus images."
        ),
        annotations=_READ,
        input_model=ShowItemsInput,
        output_model=Gallery,
        run=gallery.show_items,
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
