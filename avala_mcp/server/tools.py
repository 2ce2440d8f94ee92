"""The tools as the SDK registers them: one explicit, typed function per catalog entry.

Each function's parameters use the same annotated types as its catalog input model, so the SDK
derives the same input schema (a test holds the two together), and its return annotation,
``Annotated[CallToolResult, <output model>]``, makes the output model the output schema while
the function returns structured content plus compact JSON text. :func:`register_tools` (or, for a
tool the explorer displays, :func:`bind_tools`) is the one way a catalog entry becomes a tool;
every call then passes the call guard in
:meth:`AvalaServer.call_tool <avala_mcp.server.app.AvalaServer.call_tool>`, which has checked the
arguments against the input model before a function here runs.
"""

from collections.abc import Callable, Iterable
from typing import Annotated, Any

from mcp.server.apps import Apps
from mcp.server.mcpserver import ElicitationResult, MCPServer, Resolve
from mcp.types import CallToolResult
from pydantic import Field

from avala_mcp.contract import PROFILE_DEFAULT_TOP
from avala_mcp.server.catalog import TOOLS, ToolSpec
from avala_mcp.server.consent import ConfirmDeletion, ask_consent, consent
from avala_mcp.server.guard import success
from avala_mcp.server.inputs import (
    Confirmation,
    CreateSliceInput,
    Cursor,
    DatasetName,
    DatasetUid,
    DeleteSliceInput,
    DescribeDatasetInput,
    DescribedDataset,
    DescribedItems,
    DescribeSliceInput,
    Detail,
    Fields,
    Filter,
    GetSliceInput,
    Limit,
    ListDatasetsInput,
    ListSliceItemsInput,
    ListSlicesInput,
    NameInDataset,
    Ordering,
    Owner,
    OwnerOfDatasets,
    PreviewSliceInput,
    Sample,
    ShowItemsInput,
    Shown,
    ShownCursor,
    ShownDataset,
    ShownFilter,
    ShownSegment,
    SliceName,
    SlicesOfDataset,
    Slug,
    ToolInput,
    Top,
    TriedFilter,
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
)
from avala_mcp.server.state import RequestContext, client_of, media_of

_RUNS_ON: dict[type[ToolInput], ToolSpec] = {spec.input_model: spec for spec in TOOLS}


async def _run(ctx: RequestContext, args: ToolInput, *extra: Any) -> CallToolResult:
    """Run the catalog entry whose input ``args`` is; its output becomes the tool's result.

    The arguments reached the function already validated (by the guard, then by the SDK), so
    each function builds ``args`` with model_construct rather than validating a third time.
    """
    return success(await _RUNS_ON[type(args)].run(client_of(ctx), args, *extra))


async def list_datasets(
    ctx: RequestContext,
    owner: OwnerOfDatasets = None,
    name: DatasetName = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Annotated[CallToolResult, DatasetList]:
    args = ListDatasetsInput.model_construct(owner=owner, name=name, cursor=cursor, limit=limit)
    return await _run(ctx, args)


async def describe_dataset(
    ctx: RequestContext,
    dataset: DescribedDataset,
    filter: DescribedItems = None,
    fields: Fields = None,
    top: Top = PROFILE_DEFAULT_TOP,
) -> Annotated[CallToolResult, DatasetProfile]:
    args = DescribeDatasetInput.model_construct(
        dataset=dataset, filter=filter, fields=fields, top=top
    )
    return await _run(ctx, args)


async def describe_slice(
    ctx: RequestContext,
    owner: Owner,
    slug: Slug,
    fields: Fields = None,
    top: Top = PROFILE_DEFAULT_TOP,
) -> Annotated[CallToolResult, DatasetProfile]:
    args = DescribeSliceInput.model_construct(owner=owner, slug=slug, fields=fields, top=top)
    return await _run(ctx, args)


async def preview_slice(
    ctx: RequestContext, dataset: DescribedDataset, filter: TriedFilter = None, sample: Sample = 3
) -> Annotated[CallToolResult, Preview]:
    args = PreviewSliceInput.model_construct(dataset=dataset, filter=filter, sample=sample)
    return await _run(ctx, args)


async def list_slices(
    ctx: RequestContext,
    owner: Owner,
    dataset: SlicesOfDataset = None,
    ordering: Ordering = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Annotated[CallToolResult, SliceList]:
    args = ListSlicesInput.model_construct(
        owner=owner, dataset=dataset, ordering=ordering, cursor=cursor, limit=limit
    )
    return await _run(ctx, args)


async def get_slice(
    ctx: RequestContext, owner: Owner, slug: Slug
) -> Annotated[CallToolResult, SliceDetail]:
    args = GetSliceInput.model_construct(owner=owner, slug=slug)
    return await _run(ctx, args)


async def create_slice(
    ctx: RequestContext,
    name: SliceName,
    dataset: DatasetUid,
    description: Annotated[
        str | None, Field(max_length=2000, description="What the slice is for, in a sentence.")
    ] = None,
    filter: Annotated[
        Filter | None,
        Field(description="Which dataset items the slice holds (see the filter language)."),
    ] = None,
) -> Annotated[CallToolResult, CreatedSlice]:
    args = CreateSliceInput.model_construct(
        name=name, dataset=dataset, description=description, filter=filter
    )
    return await _run(ctx, args)


async def list_slice_items(
    ctx: RequestContext,
    owner: Owner,
    slug: Slug,
    cursor: Cursor = None,
    limit: Limit = 20,
    detail: Detail = "concise",
) -> Annotated[CallToolResult, ItemList]:
    args = ListSliceItemsInput.model_construct(
        owner=owner, slug=slug, cursor=cursor, limit=limit, detail=detail
    )
    return await _run(ctx, args)


async def show_items(
    ctx: RequestContext,
    owner: ShownSegment = None,
    slug: ShownSegment = None,
    cursor: ShownCursor = None,
    limit: Shown = 4,
    dataset: ShownDataset = None,
    filter: ShownFilter = None,
) -> Annotated[CallToolResult, Gallery]:
    args = ShowItemsInput.model_construct(
        owner=owner, slug=slug, cursor=cursor, limit=limit, dataset=dataset, filter=filter
    )
    return await _run(ctx, args, media_of(ctx))


async def validate_slice_name(
    ctx: RequestContext, name: SliceName, dataset: NameInDataset = None
) -> Annotated[CallToolResult, NameCheck]:
    args = ValidateSliceNameInput.model_construct(name=name, dataset=dataset)
    return await _run(ctx, args)


async def delete_slice(
    ctx: RequestContext,
    owner: Owner,
    slug: Slug,
    answer: Annotated[ElicitationResult[ConfirmDeletion], Resolve(ask_consent)],
    confirm: Confirmation = None,
) -> Annotated[CallToolResult, Deletion]:
    args = DeleteSliceInput.model_construct(owner=owner, slug=slug, confirm=confirm)
    return await _run(ctx, args, consent(answer, ctx))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    function.__name__: function
    for function in (
        list_datasets,
        describe_dataset,
        describe_slice,
        preview_slice,
        list_slices,
        get_slice,
        create_slice,
        list_slice_items,
        show_items,
        validate_slice_name,
        delete_slice,
    )
}


def _options(spec: ToolSpec) -> dict[str, Any]:
    """What the SDK needs to register ``spec``, whichever way it is registered."""
    return {
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "annotations": spec.annotations,
        "structured_output": True,
    }


def register_tools(server: MCPServer[Any], specs: Iterable[ToolSpec]) -> None:
    """Register each of ``specs`` with its function, as the catalog declares it."""
    for spec in specs:
        server.add_tool(_FUNCTIONS[spec.name], **_options(spec))


def bind_tools(apps: Apps, resource_uri: str, specs: Iterable[ToolSpec]) -> None:
    """Register each of ``specs`` through ``apps``, bound to the UI at ``resource_uri``.

    The SDK registers these when the server is built with ``extensions=[apps]``, stamping
    ``_meta.ui.resourceUri``; the tool is otherwise the one :func:`register_tools` would add.
    """
    for spec in specs:
        apps.tool(resource_uri=resource_uri, **_options(spec))(_FUNCTIONS[spec.name])
