"""The MCP server: the catalog's tools, the resources, completion and prompts over one AvalaClient.

Every tool call passes through :meth:`AvalaServer.call_tool`, where the call guard
(:mod:`avala_mcp.server.guard`) applies the cross-cutting rules, so no tool can skip them:
read-only mode, arguments checked by the tool's input model before any request, every failure
turned into the structured payload of ``docs/contracts.md``, and known secrets scrubbed from
whatever goes back to the client. Only the SDK's public API is used (``tests/test_sdk_public_api``).
"""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import httpx
import pydantic
from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import INVALID_PARAMS, CallToolResult, GetPromptResult, InputRequiredResult, Tool
from pydantic import AnyUrl

from avala_mcp import __version__
from avala_mcp.client import AvalaClient
from avala_mcp.client.errors import InvalidInputError
from avala_mcp.redaction import Redactor
from avala_mcp.server import catalog, explorer
from avala_mcp.server.catalog import TOOLS
from avala_mcp.server.completion import Owners, register_completion
from avala_mcp.server.exits import resource_failure, scrubbed, scrubbed_error
from avala_mcp.server.guard import CallGuard, bad_fields, clip
from avala_mcp.server.prompts import PROMPTS, register_prompts
from avala_mcp.server.resources import register_resources
from avala_mcp.server.state import ServerState
from avala_mcp.server.tools import bind_tools, register_tools
from avala_mcp.settings import Settings

if TYPE_CHECKING:
    from avala_mcp.client.media import MediaFetcher

INSTRUCTIONS = f"""\
Avala slices are saved, filtered subsets of a machine-learning dataset: a slice stores a filter \
over its dataset's items (it never copies them) and item_count is how many items match. Every \
slice belongs to an owner (an organization slug such as 'acme-ai', or a username) and is named \
by owner and slug. A new slice belongs to its dataset's owner.

To explore: list_datasets to find a dataset's uid and owner; describe_dataset(dataset) for its \
fields with their values and counts (one call answers "which values does weather take, and how \
many items each?"); list_slices(owner) for the slices that exist; get_slice, describe_slice and \
list_slice_items(owner, slug) to read one, page by page (pass next_cursor back as cursor).

To build a slice: find the dataset, describe it, try the filter with preview_slice(dataset, \
filter) (count, example items and warnings, nothing written), validate_slice_name(name, \
dataset), create_slice(name, dataset, filter), then describe_slice or list_slice_items on the \
new slice to verify it. delete_slice asks the user to confirm.

{catalog.FILTER_LANGUAGE}.

A failed call returns {{"error": {{"type", "status", "message", "fields", "retryable", \
"retry_after", "hint"}}}}: read the message and follow the hint.\
"""


_CATALOG_ORDER = {spec.name: index for index, spec in enumerate(TOOLS)}

# Keys of a JSON schema whose values are data, not schemas: a "title" inside them is not a title.
_DATA_KEYWORDS = frozenset({"default", "const", "enum", "examples"})


def untitled(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` without its titles.

    Pydantic titles every argument with its own name capitalised ("Owner" for owner), which
    tells a model nothing it does not have, yet costs every conversation about 1 KB of context.
    """
    return {
        key: value if key in _DATA_KEYWORDS else _untitled(value)
        for key, value in schema.items()
        if not (key == "title" and isinstance(value, str))
    }


def _untitled(value: Any) -> Any:
    if isinstance(value, dict):
        return untitled(value)
    if isinstance(value, list):
        return [_untitled(entry) for entry in value]
    return value


def build_server(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> MCPServer[ServerState]:
    """The MCP server for ``settings``; ``transport`` (e.g. an ASGI one) reaches the API."""
    return AvalaServer(settings, transport=transport)


def open_media(settings: Settings, transport: httpx.AsyncBaseTransport | None) -> "MediaFetcher":
    """The image fetcher, reaching the API as the client does (in-process for serve --local);
    imported at the first call that shows images, not at start-up (see ServerState)."""
    from avala_mcp.client.media import MediaFetcher

    return MediaFetcher.from_settings(settings, transport=transport)


class AvalaServer(MCPServer[ServerState]):
    """MCPServer with the catalog registered and every tool call guarded (see the module doc)."""

    def __init__(
        self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        @asynccontextmanager
        async def lifespan(_: MCPServer[ServerState]) -> AsyncIterator[ServerState]:
            state = ServerState(
                lambda: AvalaClient.from_settings(settings, transport=transport),
                lambda: open_media(settings, transport),
            )
            try:
                yield state
            finally:
                await state.aclose()

        redactor = Redactor((settings.api_key, settings.auth_token))
        self._redactor = redactor
        self._guard = CallGuard(TOOLS, read_only=settings.read_only, redactor=redactor)
        self._owners = Owners(settings.default_owner)
        self._prompts = {spec.name: spec for spec in PROMPTS}
        # Read-only: the write tools are not offered (and the guard refuses a call to one).
        offered = [spec for spec in TOOLS if not (settings.read_only and spec.writes)]
        # The explorer's tools are registered through the Apps extension, which the SDK applies
        # while it builds the server; the others after it.
        apps = explorer.extension()
        bind_tools(apps, explorer.URI, (spec for spec in offered if spec.name in explorer.BOUND))
        super().__init__(
            "avala",
            title="Avala slices",
            version=__version__,
            instructions=INSTRUCTIONS,
            # The SDK configures root logging at this level; serve.py configures it first.
            log_level=cast(Any, settings.log_level),
            lifespan=lifespan,
            extensions=[apps],
        )
        register_tools(self, (spec for spec in offered if spec.name not in explorer.BOUND))
        register_prompts(self, PROMPTS)
        register_resources(self, self._owners)
        register_completion(self, self._owners, settings.default_owner)

    # --- tools ----------------------------------------------------------------------------------

    async def list_tools(self) -> list[Tool]:
        # The guard refuses unknown arguments, which the SDK's derived schemas do not say.
        # Listed in the catalog's order, however they were registered.
        tools = sorted(await super().list_tools(), key=lambda tool: _CATALOG_ORDER[tool.name])
        return [
            tool.model_copy(
                update={
                    "input_schema": {**untitled(tool.input_schema), "additionalProperties": False}
                }
            )
            for tool in tools
        ]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[ServerState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            admitted = self._guard.admit(name, arguments)
            result = await super().call_tool(name, admitted, context)
        except MCPError:
            raise
        except Exception as exc:
            result = self._guard.failure(name, arguments, exc)
        if isinstance(result, CallToolResult):
            if not result.is_error:
                self._owners.note(arguments.get("owner"), result.structured_content)
            result = self._guard.scrub(result)
        return result

    # --- resources and prompts: what they return, and their errors, scrubbed of secrets --------
    # A caller may send a secret itself (a URI with the key as its slug, a goal quoting it),
    # which a not-found message or a prompt's text would repeat. Scrubbed here, around the SDK,
    # so that no resource or prompt can skip it.

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[ServerState, Any] | None = None
    ) -> Iterable[Any] | InputRequiredResult:
        try:
            contents = await super().read_resource(uri, context)
        except ResourceError as exc:
            raise resource_failure(self._redactor, str(uri), exc) from None
        except Exception as exc:
            raise scrubbed_error(self._redactor, exc) from None
        if isinstance(contents, InputRequiredResult):
            return contents
        return [
            replace(part, content=self._redactor.text(part.content))
            if isinstance(part.content, str)
            else part
            for part in contents
        ]

    async def get_prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        context: Context[ServerState, Any] | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        try:
            result = await self._prompt(name, arguments, context)
        except Exception as exc:
            raise scrubbed_error(self._redactor, exc) from None
        if isinstance(result, InputRequiredResult):
            return result
        return scrubbed(self._redactor, result, "a prompt")

    async def _prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        context: Context[ServerState, Any] | None,
    ) -> GetPromptResult | InputRequiredResult:
        # Checked here: past this point the SDK hides the reason on the 2026-07-28 protocol.
        spec = self._prompts.get(name)
        if spec is None:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"no prompt named {clip(name)}; prompts: {', '.join(self._prompts)}",
            )
        try:
            spec.input_model.model_validate(arguments or {})
        except pydantic.ValidationError as exc:
            error = InvalidInputError.for_fields(bad_fields(exc))
            raise MCPError(code=INVALID_PARAMS, message=error.message) from None
        return await super().get_prompt(name, arguments, context)


__all__ = ["INSTRUCTIONS", "AvalaServer", "ServerState", "build_server", "untitled"]
