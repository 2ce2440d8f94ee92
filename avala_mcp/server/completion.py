"""Argument completion: owners this process has seen, an owner's slugs and the datasets, from the
API."""

import logging
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.server.mcpserver import MCPServer
from mcp.types import (
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)

from avala_mcp.client.errors import AvalaError
from avala_mcp.contract import SEGMENT_RE
from avala_mcp.server.outputs import DATASET_URI, ITEMS_URI, OWNER_URI, SLICE_URI
from avala_mcp.server.state import ServerState

logger = logging.getLogger(__name__)

# Completion serves these templates and prompts (each argument by its name).
_COMPLETED_TEMPLATES = frozenset({OWNER_URI, SLICE_URI, ITEMS_URI, DATASET_URI})
_COMPLETED_PROMPTS = frozenset({"explore_slice", "build_slice"})
_DATASET_ARGUMENTS = frozenset({"uid", "dataset"})
_MAX_COMPLETIONS = 100


class Owners:
    """Owners to offer for completion: AVALA_MCP_OWNER and those seen in this process."""

    def __init__(self, default: str | None) -> None:
        self._seen: set[str] = {default} if default else set()

    def note(self, owner: Any, payload: Mapping[str, Any] | None) -> None:
        """Remember ``owner`` and the owners ``payload`` (a tool's result) names."""
        found = [owner, *(_owners_in(payload) if payload else ())]
        self._seen.update(o for o in found if isinstance(o, str) and SEGMENT_RE.match(o))

    def known(self) -> list[str]:
        return sorted(self._seen)


def _owners_in(payload: Mapping[str, Any]) -> Iterable[Any]:
    yield payload.get("owner")
    for entry in (*(payload.get("slices") or ()), *(payload.get("datasets") or ())):
        if isinstance(entry, Mapping):
            yield entry.get("owner")


# The SDK hands a completion handler no request context, so the lifespan's state (the client)
# reaches it through this variable, which a middleware sets for each request. Middleware is
# provisional in the SDK; this is its only use here.
_state: ContextVar[ServerState] = ContextVar("avala_mcp_state")


async def _bind_state(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    token = _state.set(ctx.lifespan_context)
    try:
        return await call_next(ctx)
    finally:
        _state.reset(token)


class _Completer:
    def __init__(self, owners: Owners, default_owner: str | None) -> None:
        self._owners = owners
        self._default_owner = default_owner

    async def complete(
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
            candidates = await self._slugs(given.get("owner") or self._default_owner)
        elif argument.name in _DATASET_ARGUMENTS:
            candidates = await self._datasets()
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
            page = await _state.get().client.list_slices(owner, limit=100)
        except AvalaError as error:
            logger.debug("no slug completion for %r: %s", owner, error.type)
            return []
        self._owners.note(owner, None)
        return [slice_.slug for slice_ in page.results]

    async def _datasets(self) -> list[str]:
        """The uids of the first 100 datasets the key can see; none when that cannot be had."""
        try:
            page = await _state.get().client.list_datasets(limit=_MAX_COMPLETIONS)
        except AvalaError as error:
            logger.debug("no dataset completion: %s", error.type)
            return []
        for dataset in page.results:
            self._owners.note(dataset.owner_name, None)
        return [dataset.uid for dataset in page.results]


def register_completion(
    server: MCPServer[ServerState], owners: Owners, default_owner: str | None
) -> None:
    """Serve owner and slug completion on ``server``."""
    server.middleware.append(_bind_state)
    # The SDK's decorator is untyped.
    server.completion()(_Completer(owners, default_owner).complete)  # type: ignore[no-untyped-call]
