"""What the server's lifespan opens, and how a handler reaches it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context

from avala_mcp.client import AvalaClient

if TYPE_CHECKING:
    # Not at start-up: the fetcher's guarded transport imports httpcore (about 30 ms).
    from avala_mcp.client.media import MediaFetcher


class ServerState:
    """What the lifespan opens: one client, one connection pool (per process on stdio and
    streamable HTTP, per connection on SSE, whose transport runs the lifespan each time).

    The client is made at the first request that needs it, not at start-up: for Avala's cloud
    that means building httpx's network stack and loading the TLS certificate store, tens of
    milliseconds a desktop client would otherwise wait for before it may even list the tools.
    """

    def __init__(
        self,
        open_client: Callable[[], AvalaClient],
        open_media: Callable[[], MediaFetcher] | None = None,
    ) -> None:
        self._open_client = open_client
        self._open_media = open_media
        self._client: AvalaClient | None = None
        self._media: MediaFetcher | None = None

    @property
    def client(self) -> AvalaClient:
        if self._client is None:
            self._client = self._open_client()
        return self._client

    @property
    def media(self) -> MediaFetcher:
        """The image fetcher, made at the first call that shows images (none at start-up)."""
        if self._media is None:
            if self._open_media is None:
                raise RuntimeError("this server state fetches no images")
            self._media = self._open_media()
        return self._media

    async def aclose(self) -> None:
        """Close the client's and the fetcher's connections, where they were ever made."""
        if self._client is not None:
            await self._client.aclose()
        if self._media is not None:
            await self._media.aclose()


#: What a tool, resolver or resource function declares to be handed the request's context.
RequestContext = Context[ServerState, Any]


def client_of(ctx: RequestContext) -> AvalaClient:
    """The client of the lifespan serving ``ctx``'s request."""
    return ctx.request_context.lifespan_context.client


def media_of(ctx: RequestContext) -> MediaFetcher:
    """The image fetcher of the lifespan serving ``ctx``'s request."""
    return ctx.request_context.lifespan_context.media
