"""The MCP server: the tool catalog, resources, completion and prompts over one AvalaClient.

Every tool call passes through :meth:`AvalaServer.call_tool`, which is where the cross-cutting
rules live, so no tool can skip them: read-only mode, arguments checked by the tool's input
model before any request, every failure turned into DESIGN §4's structured payload, and known
secrets scrubbed from whatever goes back to the client.
"""

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Annotated, Any, cast

import httpx
import pydantic
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import (
    AcceptedElicitation,
    CancelledElicitation,
    Context,
    Elicit,
    ElicitationResult,
    MCPServer,
    Resolve,
)
from mcp.server.mcpserver.exceptions import (
    ResourceError,
    ResourceNotFoundError,
    ToolError,
    UnexpectedToolError,
)
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument
from mcp.server.mcpserver.resolve import build_resolver_plans, find_resolved_parameters
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    CallToolResult,
    Completion,
    CompletionArgument,
    CompletionContext,
    GetPromptResult,
    InputRequiredResult,
    PromptReference,
    ResourceTemplateReference,
    TextContent,
)

from avala_mcp import __version__
from avala_mcp.client import AvalaClient
from avala_mcp.client.errors import (
    AvalaError,
    InvalidInputError,
    NotFoundError,
    ReadOnlyError,
    ServerError,
    failure_payload,
    one_line,
)
from avala_mcp.contract import SEGMENT_RE
from avala_mcp.redaction import Redactor
from avala_mcp.server import catalog
from avala_mcp.server.catalog import TOOLS, Consent, ToolSpec
from avala_mcp.server.inputs import GetSliceInput, ListSliceItemsInput, ListSlicesInput
from avala_mcp.server.outputs import SLICE_URI, ToolOutput, compact_json
from avala_mcp.server.prompts import PROMPTS, PromptSpec
from avala_mcp.settings import Settings

logger = logging.getLogger(__name__)

INSTRUCTIONS = f"""\
Avala slices are saved, filtered subsets of a machine-learning dataset: a slice stores a filter \
over its dataset's items (it never copies them) and item_count is how many items match. Every \
slice belongs to an owner (an organization slug such as 'acme-ai', or a username) and is named \
by owner and slug. A new slice belongs to its dataset's owner.

Usual workflow: list_slices(owner) to see what exists; get_slice(owner, slug) and \
list_slice_items(owner, slug) to read one, page by page (pass next_cursor back as cursor); to \
build one, validate_slice_name(name, dataset), then create_slice(name, dataset, filter), then \
list_slice_items on the new slice to check its items. delete_slice asks the user to confirm.

{catalog.FILTER_LANGUAGE}.

A failed call returns {{"error": {{"type", "status", "message", "fields", "retryable", \
"retry_after", "hint"}}}}: read the message and follow the hint.\
"""

#: The resource templates (registered by ``AvalaServer._add_resources``).
OWNER_URI = "avala://slices/{owner}"
ITEMS_URI = "avala://slices/{owner}/{slug}/items"

# Owner and slug completion serves these templates and prompts.
_COMPLETED_TEMPLATES = frozenset({OWNER_URI, SLICE_URI, ITEMS_URI})
_COMPLETED_PROMPTS = frozenset({"explore_slice"})
_MAX_COMPLETIONS = 100

# Bounds on what an invalid_input failure repeats of the caller's (possibly hostile) input.
_MAX_BAD_FIELDS = 10
_MAX_NAME_CHARS = 64
_MAX_FIELD_MESSAGE_CHARS = 200
# An unknown argument is named back only if it looks like a name, not like an attack.
_ARGUMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

_READ_TOOLS = tuple(spec.name for spec in TOOLS if not spec.writes)


_UNEXPECTED = "unexpected error in the server; the details are in its log"


class ServerState:
    """What the lifespan opens: one client, one connection pool (per process on stdio and
    streamable HTTP, per connection on SSE, whose transport runs the lifespan each time).

    The client is made at the first request that needs it, not at start-up: for Avala's cloud
    that means building httpx's network stack and loading the TLS certificate store, tens of
    milliseconds a desktop client would otherwise wait for before it may even list the tools.
    """

    def __init__(self, open_client: Callable[[], AvalaClient]) -> None:
        self._open_client = open_client
        self._client: AvalaClient | None = None

    @property
    def client(self) -> AvalaClient:
        if self._client is None:
            self._client = self._open_client()
        return self._client

    async def aclose(self) -> None:
        """Close the client's connections, if it was ever made."""
        if self._client is not None:
            await self._client.aclose()


# Completion handlers get no request context, so a middleware binds the state to each request.
_state: ContextVar[ServerState] = ContextVar("avala_mcp_state")


def _client() -> AvalaClient:
    return _state.get().client


async def _bind_state(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    token = _state.set(ctx.lifespan_context)
    try:
        return await call_next(ctx)
    finally:
        _state.reset(token)


def build_server(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> MCPServer[ServerState]:
    """The MCP server for ``settings``; ``transport`` (e.g. an ASGI one) reaches the API."""
    return AvalaServer(settings, transport=transport)


class AvalaServer(MCPServer[ServerState]):
    """MCPServer with the catalog registered and every tool call guarded (see the module doc)."""

    def __init__(
        self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        @asynccontextmanager
        async def lifespan(_: MCPServer[ServerState]) -> AsyncIterator[ServerState]:
            state = ServerState(lambda: AvalaClient.from_settings(settings, transport=transport))
            try:
                yield state
            finally:
                await state.aclose()

        self._settings = settings
        self._tools = {spec.name: spec for spec in TOOLS}
        self._prompts = {spec.name: spec for spec in PROMPTS}
        self._owners = _Owners(settings.default_owner)
        # Results carry JSON, where a key holding quotes or backslashes shows escaped.
        self._redactor = Redactor((settings.api_key, settings.auth_token), json_escaped=True)
        super().__init__(
            "avala",
            title="Avala slices",
            version=__version__,
            instructions=INSTRUCTIONS,
            # The SDK configures root logging at this level; serve.py configures it first.
            log_level=cast(Any, settings.log_level),
            lifespan=lifespan,
            middleware=[_bind_state],
            tools=[
                _sdk_tool(spec)
                for spec in TOOLS
                if not (settings.read_only and spec.writes)  # read-only: writes not offered
            ],
        )
        for prompt in PROMPTS:
            self.add_prompt(_sdk_prompt(prompt))
        self._add_resources()
        # The SDK's decorator is untyped.
        self.completion()(self._complete)  # type: ignore[no-untyped-call]

    # --- tools ----------------------------------------------------------------------------------

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[ServerState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        spec = self._tools.get(name)
        try:
            if spec is not None and spec.writes and self._settings.read_only:
                raise ReadOnlyError(
                    f"the server runs read-only, so {name} is disabled",
                    hint=f"only the read tools ({', '.join(_READ_TOOLS)}) are available; the "
                    "user can restart the server without --read-only",
                )
            result = await super().call_tool(name, arguments, context)
        except MCPError:
            raise
        except Exception as exc:
            error = _explain(_as_avala_error(name, exc), name, arguments)
            result = _tool_result(failure_payload(error), is_error=True)
        if isinstance(result, CallToolResult):
            if not result.is_error:
                self._owners.note(arguments.get("owner"), result.structured_content)
            result = self._scrub(result)
        return result

    def _scrub(self, result: CallToolResult) -> CallToolResult:
        """The result without any known secret: a last line of defence, should one slip in."""
        if not self._redactor or not self._redactor.found_in(_searchable_text(result)):
            return result
        logger.warning("a secret was scrubbed from a tool result")
        return CallToolResult.model_validate(self._redactor.value(result.model_dump(by_alias=True)))

    # --- resources ------------------------------------------------------------------------------

    def _add_resources(self) -> None:
        @self.resource(
            OWNER_URI,
            name="owner_slices",
            title="An owner's slices",
            description="The first page of an owner's slices (as list_slices returns it).",
            mime_type="application/json",
        )
        async def owner_slices(owner: str) -> str:
            return await self._read(
                lambda client: catalog.list_slices(client, ListSlicesInput(owner=owner)),
                f"no owner '{_clip(owner)}'",
            )

        @self.resource(
            SLICE_URI,
            name="slice",
            title="A slice",
            description="One slice, with its filter (as get_slice returns it).",
            mime_type="application/json",
        )
        async def slice_(owner: str, slug: str) -> str:
            return await self._read(
                lambda client: catalog.get_slice(client, GetSliceInput(owner=owner, slug=slug)),
                f"no slice '{_clip(slug)}' for owner '{_clip(owner)}'",
            )

        @self.resource(
            ITEMS_URI,
            name="slice_items",
            title="A slice's items",
            description="The first page of a slice's items, concise (as list_slice_items "
            "returns it).",
            mime_type="application/json",
        )
        async def slice_items(owner: str, slug: str) -> str:
            return await self._read(
                lambda client: catalog.list_slice_items(
                    client, ListSliceItemsInput(owner=owner, slug=slug)
                ),
                f"no slice '{_clip(slug)}' for owner '{_clip(owner)}'",
            )

    async def _read(self, run: Callable[[AvalaClient], Awaitable[ToolOutput]], missing: str) -> str:
        """A resource's JSON; a missing (or impossible) slice is MCP's resource-not-found."""
        try:
            output = await run(_client())
        except (NotFoundError, pydantic.ValidationError, InvalidInputError):
            raise ResourceNotFoundError(missing) from None
        except AvalaError as error:
            raise ResourceError(self._redactor.text(error.message)) from None
        payload = output.payload()
        self._owners.note(None, payload)
        return self._redactor.text(compact_json(payload))

    # --- completion -----------------------------------------------------------------------------

    async def _complete(
        self,
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        served = (
            ref.uri in _COMPLETED_TEMPLATES
            if isinstance(ref, ResourceTemplateReference)
            else ref.name in _COMPLETED_PROMPTS
        )
        if not served:
            return None
        if argument.name == "owner":
            candidates = self._owners.known()
        elif argument.name == "slug":
            given = (context.arguments or {}) if context else {}
            candidates = await self._slugs(given.get("owner") or self._settings.default_owner)
        else:
            return None
        values = [value for value in candidates if value.startswith(argument.value)]
        return Completion(
            values=values[:_MAX_COMPLETIONS],
            total=len(values),
            has_more=len(values) > _MAX_COMPLETIONS,
        )

    async def _slugs(self, owner: str | None) -> list[str]:
        """The slugs of ``owner``'s first page of slices; none when that cannot be had."""
        if owner is None or not SEGMENT_RE.match(owner):
            return []
        try:
            page = await _client().list_slices(owner, limit=100)
        except AvalaError as error:
            logger.debug("no slug completion for %r: %s", owner, error.type)
            return []
        self._owners.note(owner, None)
        return [slice_.slug for slice_ in page.results]

    # --- prompts --------------------------------------------------------------------------------

    async def get_prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        context: Context[ServerState, Any] | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        # Checked here: past this point the SDK hides the reason on the 2026-07-28 protocol.
        spec = self._prompts.get(name)
        if spec is None:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"no prompt named '{_clip(name)}'; prompts: {', '.join(self._prompts)}",
            )
        try:
            spec.input_model.model_validate(arguments or {})
        except pydantic.ValidationError as exc:
            error = InvalidInputError.for_fields(_bad_fields(exc))
            raise MCPError(code=INVALID_PARAMS, message=error.message) from None
        return await super().get_prompt(name, arguments, context)


class _Owners:
    """Owners to offer for completion: AVALA_MCP_OWNER and those seen in this process."""

    def __init__(self, default: str | None) -> None:
        self._seen: set[str] = {default} if default else set()

    def note(self, owner: Any, payload: Mapping[str, Any] | None) -> None:
        found = [owner, *(_owners_in(payload) if payload else ())]
        self._seen.update(o for o in found if isinstance(o, str) and SEGMENT_RE.match(o))

    def known(self) -> list[str]:
        return sorted(self._seen)


def _owners_in(payload: Mapping[str, Any]) -> Iterable[Any]:
    yield payload.get("owner")
    for entry in payload.get("slices") or ():
        if isinstance(entry, Mapping):
            yield entry.get("owner")


# --- registration -------------------------------------------------------------------------------


def _sdk_tool(spec: ToolSpec) -> Tool:
    """The SDK's tool for ``spec``: its input model is the argument model, as declared.

    The SDK validates the arguments with it (a failure reaches AvalaServer.call_tool as the
    pydantic error) and validates each result against the output model.
    """
    arguments = pydantic.create_model(
        f"{spec.name}_arguments", __base__=(spec.input_model, ArgModelBase)
    )
    handler = _confirmed_handler(spec) if spec.destructive else _handler(spec)
    resolved = find_resolved_parameters(handler)
    return Tool(
        fn=handler,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        parameters=spec.input_model.model_json_schema(),
        fn_metadata=FuncMetadata(
            arg_model=cast(type[ArgModelBase], arguments), output_model=spec.output_model
        ),
        is_async=True,
        context_kwarg="ctx" if spec.destructive else None,
        resolved_params=resolved,
        resolver_plans=build_resolver_plans(resolved, set(spec.input_model.model_fields)),
        annotations=spec.annotations,
    )


def _handler(spec: ToolSpec) -> Callable[..., Awaitable[CallToolResult]]:
    async def handler(**fields: Any) -> CallToolResult:
        args = spec.input_model.model_construct(**fields)  # validated by the SDK already
        return _success(await spec.run(_client(), args))

    return handler


class ConfirmDeletion(pydantic.BaseModel):
    """What the user is asked before a deletion."""

    confirm: bool = pydantic.Field(description="Delete it?")


def _can_elicit(ctx: Context[Any, Any]) -> bool:
    """Whether the client can answer a form; a bare ``elicitation: {}`` can, url-only cannot."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


async def _ask_consent(
    owner: str, slug: str, confirm: str | None, ctx: Context[ServerState, Any]
) -> Elicit[ConfirmDeletion] | ConfirmDeletion:
    """Ask the user (on either protocol era); a client that cannot ask needs ``confirm``."""
    # Fetched first so that a missing slice fails at once, rather than after the user (or, for a
    # client that cannot ask, the model asking the user) approved deleting nothing; and so that
    # the question says what is at stake.
    target = await _client().get_slice(owner, slug)
    if not _can_elicit(ctx):
        return ConfirmDeletion(confirm=confirm == f"{owner}/{slug}")
    return Elicit(
        f"Delete the slice '{one_line(target.name)}' ({owner}/{slug}, {target.item_count} "
        "items)? Its dataset's items are kept, but the slice cannot be restored.",
        ConfirmDeletion,
    )


def _consent(answer: ElicitationResult[ConfirmDeletion], could_ask: bool) -> Consent:
    if isinstance(answer, AcceptedElicitation):
        if answer.data.confirm:
            return Consent.GIVEN
        return Consent.DECLINED if could_ask else Consent.MISSING
    return Consent.CANCELLED if isinstance(answer, CancelledElicitation) else Consent.DECLINED


def _confirmed_handler(spec: ToolSpec) -> Callable[..., Awaitable[CallToolResult]]:
    async def handler(
        ctx: Context[ServerState, Any],
        answer: Annotated[ElicitationResult[ConfirmDeletion], Resolve(_ask_consent)],
        **fields: Any,
    ) -> CallToolResult:
        args = spec.input_model.model_construct(**fields)
        return _success(await spec.run(_client(), args, _consent(answer, _can_elicit(ctx))))

    return handler


def _sdk_prompt(spec: PromptSpec) -> Prompt:
    schema = spec.input_model.model_json_schema()
    required = set(schema.get("required", ()))

    async def render(**arguments: Any) -> str:
        return spec.render(spec.input_model.model_validate(arguments))

    return Prompt(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        arguments=[
            PromptArgument(
                name=name, description=prop.get("description"), required=name in required
            )
            for name, prop in schema["properties"].items()
        ],
        fn=render,
        context_kwarg=None,
    )


# --- results and failures -----------------------------------------------------------------------


def _tool_result(payload: dict[str, Any], *, is_error: bool = False) -> CallToolResult:
    """Structured content plus the same JSON, compact, as text for clients that read only text."""
    return CallToolResult(
        content=[TextContent(type="text", text=compact_json(payload))],
        structured_content=payload,
        is_error=is_error,
    )


def _searchable_text(result: CallToolResult) -> str:
    """Text holding everything in ``result`` a secret could hide in.

    Every tool result is built by _tool_result: one text block, the compact JSON of the
    structured content. That text, already built, is all there is to search: JSON escapes a
    string character by character, so a secret anywhere in the structured content shows in it
    as its escaped form (which AvalaServer searches for as well). A result of any other shape is
    searched whole.
    """
    match result.content:
        case [TextContent(text=text)]:
            return text
    return result.model_dump_json()


def _success(output: ToolOutput) -> CallToolResult:
    return _tool_result(output.payload())


def _as_avala_error(tool: str, exc: Exception) -> AvalaError:
    """The failure an exception from a tool call stands for.

    The SDK wraps what a tool (or a resolver) raises in a ToolError whose cause is the original.
    """
    cause = exc.__cause__
    for candidate in (exc, cause):
        if isinstance(candidate, AvalaError):
            return candidate
    if isinstance(exc, ToolError) and not isinstance(exc, UnexpectedToolError):
        if isinstance(cause, pydantic.ValidationError):
            return InvalidInputError.for_fields(_bad_fields(cause))
        # The catalog, not the SDK's wording, tells an unknown tool (read-only mode refuses
        # the write tools before this point).
        if cause is None and all(spec.name != tool for spec in TOOLS):
            return InvalidInputError(
                f"no tool named '{_clip(tool)}'",
                hint="call tools/list to see the tools; this server has "
                + ", ".join(spec.name for spec in TOOLS),
            )
    # Only the log sees the detail: it may describe internals the client has no business with.
    logger.error("tool %r failed unexpectedly", tool, exc_info=exc)
    return ServerError(_UNEXPECTED, hint="try again; if it keeps failing, tell the user")


def _bad_fields(error: pydantic.ValidationError) -> dict[str, list[str]]:
    """Each bad argument with what is wrong, never repeating the rejected values."""
    fields: dict[str, list[str]] = {}
    for problem in error.errors(include_input=False, include_url=False):
        loc = [str(part) for part in problem["loc"]]
        name = loc[0] if loc and _ARGUMENT_NAME.fullmatch(loc[0]) else "(unknown argument)"
        path = _filter_path(loc[1:])
        message = problem["msg"] if not path else f"at {path}: {problem['msg']}"
        if name in fields or len(fields) < _MAX_BAD_FIELDS:
            fields.setdefault(name, []).append(one_line(message, _MAX_FIELD_MESSAGE_CHARS))
    return fields


def _filter_path(loc: list[str]) -> str:
    """A location inside a filter without the union's tags: and.0.op rather than and.and.0..."""
    path: list[str] = []
    for part in loc:
        if part == "condition" or (path and path[-1] == part):
            continue
        path.append(part)
    return _clip(".".join(path))


_HINTS: dict[str, str] = {
    "invalid_input": "fix the arguments named in 'fields' (see the tool's input schema) and "
    "call again",
    "validation": "fix what 'fields' names and call again; the filter language is in "
    "create_slice's description",
    "unauthorized": "the server's API key (AVALA_API_KEY) is missing, invalid or revoked; "
    "retrying will not help: the user must fix the server's configuration",
    "forbidden": "the API key's user may not act for this owner; use an owner the user belongs "
    "to, or ask the user for access",
    "conflict": "a slice of that dataset already has this name: call validate_slice_name and "
    "pick another name, or use the existing slice (list_slices)",
    "rate_limited": "too many requests: wait retry_after seconds (about a minute if null), then "
    "call again",
    "server_error": "the API failed; try again in a moment, and tell the user if it persists",
    "network": "the API could not be reached; try again later, and tell the user if it persists "
    "(their network or AVALA_BASE_URL may be wrong)",
}


def _explain(error: AvalaError, tool: str, arguments: Mapping[str, Any]) -> AvalaError:
    """``error`` with a message and a hint that tell a model what to call next."""
    if error.hint is None and isinstance(error, NotFoundError):
        error.message, error.hint = _missing(tool, arguments)
    if error.hint is None:
        error.hint = _HINTS.get(error.type)
    return error


def _missing(tool: str, arguments: Mapping[str, Any]) -> tuple[str, str]:
    """What a 404 means for this tool's (already validated) arguments, and what to call next."""
    owner, slug, dataset = (arguments.get(key) for key in ("owner", "slug", "dataset"))
    if owner and slug:
        return (
            f"no slice '{slug}' for owner '{owner}'",
            f"call list_slices(owner='{owner}') to see its slugs",
        )
    if dataset:
        return (
            f"no dataset '{dataset}'",
            "check the UUID: list_slices(owner=...) shows each slice's dataset",
        )
    if owner:
        return (
            f"no owner '{owner}'",
            "owners are organization slugs or usernames, such as 'acme-ai'; check the spelling",
        )
    return ("not found", "check the arguments against list_slices")


def _clip(text: str) -> str:
    """A name from the caller, short and on one line, to quote in a message."""
    return one_line(text, _MAX_NAME_CHARS)


__all__ = ["INSTRUCTIONS", "AvalaServer", "ServerState", "build_server"]
