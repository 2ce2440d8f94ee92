"""The resource templates, as the tools return them: a dataset described, an owner's slices, a
slice, a slice's items."""

from collections.abc import Awaitable, Callable

import pydantic
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from avala_mcp.client import AvalaClient
from avala_mcp.client.errors import AvalaError, InvalidInputError, NotFoundError
from avala_mcp.server import catalog
from avala_mcp.server.completion import Owners
from avala_mcp.server.exploring import describe_dataset
from avala_mcp.server.guard import clip
from avala_mcp.server.inputs import (
    DescribeDatasetInput,
    GetSliceInput,
    ListSliceItemsInput,
    ListSlicesInput,
)
from avala_mcp.server.outputs import (
    DATASET_URI,
    ITEMS_URI,
    OWNER_URI,
    SLICE_URI,
    ToolOutput,
    compact_json,
)
from avala_mcp.server.state import RequestContext, ServerState, client_of


def register_resources(server: MCPServer[ServerState], owners: Owners) -> None:
    """Register the templates; what they read is noted in ``owners``.

    Secrets are scrubbed from what they return, and from their errors, by
    :meth:`AvalaServer.read_resource <avala_mcp.server.app.AvalaServer.read_resource>`.
    """

    async def read(
        ctx: RequestContext, run: Callable[[AvalaClient], Awaitable[ToolOutput]], missing: str
    ) -> str:
        """A resource's JSON; a missing (or impossible) slice is MCP's resource-not-found."""
        try:
            output = await run(client_of(ctx))
        except (NotFoundError, pydantic.ValidationError, InvalidInputError):
            raise ResourceNotFoundError(missing) from None
        except AvalaError as error:
            raise ResourceError(error.message) from None
        payload = output.payload()
        owners.note(None, payload)
        return compact_json(payload)

    @server.resource(
        DATASET_URI,
        name="dataset",
        title="A dataset's fields",
        description="A dataset's items described: count, and per field its types and most "
        "common values (as describe_dataset returns it).",
        mime_type="application/json",
    )
    async def dataset(uid: str, ctx: RequestContext) -> str:
        return await read(
            ctx,
            lambda client: describe_dataset(client, DescribeDatasetInput(dataset=uid)),
            f"no dataset {clip(uid)}",
        )

    @server.resource(
        OWNER_URI,
        name="owner_slices",
        title="An owner's slices",
        description="The first page of an owner's slices (as list_slices returns it).",
        mime_type="application/json",
    )
    async def owner_slices(owner: str, ctx: RequestContext) -> str:
        return await read(
            ctx,
            lambda client: catalog.list_slices(client, ListSlicesInput(owner=owner)),
            f"no owner {clip(owner)}",
        )

    @server.resource(
        SLICE_URI,
        name="slice",
        title="A slice",
        description="One slice, with its filter (as get_slice returns it).",
        mime_type="application/json",
    )
    async def slice_(owner: str, slug: str, ctx: RequestContext) -> str:
        return await read(
            ctx,
            lambda client: catalog.get_slice(client, GetSliceInput(owner=owner, slug=slug)),
            f"no slice {clip(slug)} for owner {clip(owner)}",
        )

    @server.resource(
        ITEMS_URI,
        name="slice_items",
        title="A slice's items",
        description="The first page of a slice's items, concise (as list_slice_items returns it).",
        mime_type="application/json",
    )
    async def slice_items(owner: str, slug: str, ctx: RequestContext) -> str:
        return await read(
            ctx,
            lambda client: catalog.list_slice_items(
                client, ListSliceItemsInput(owner=owner, slug=slug)
            ),
            f"no slice {clip(slug)} for owner {clip(owner)}",
        )
