"""Local stand-ins of Avala's cloud: the embedded API, with what the cloud lacks taken away.

Each is a small ASGI wrapper around the embedded app, usable in-process and under uvicorn, that
records every request it sees, so tests can count what a call cost. :class:`Served` puts one
app behind them for a test (the ``served`` fixture).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.datastructures import URL
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from avala_mcp.client import AvalaClient
from avala_mcp.embedded import app_store
from avala_mcp.embedded.runner import serve_in_thread
from avala_mcp.embedded.seed import DEMO_ORG
from avala_mcp.embedded.store.items import metadata_json
from avala_mcp.embedded.store.records import NewItem

_DATASETS = "/api/v1/datasets/"


class Recorder:
    """The embedded API as it is; ``requests`` holds (method, path, query) of each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests: list[tuple[str, str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"], URL(scope=scope).query))
            if self.missing(scope["path"]):
                await JSONResponse({"detail": "Not found."}, status_code=404)(scope, receive, send)
                return
            scope = self.rewrite(scope)
        await self.app(scope, receive, send)

    def rewrite(self, scope: Scope) -> Scope:
        """The request as the embedded app gets it."""
        return scope

    def missing(self, path: str) -> bool:
        """Whether this stand-in has no route for ``path``."""
        return False

    def count(self, ending: str) -> int:
        """How many requests so far had a path ending with ``ending``."""
        return sum(path.endswith(ending) for _, path, _ in self.requests)


class CloudStandIn(Recorder):
    """Avala's cloud as the client sees it: the dataset endpoints, but no profile extension."""

    def missing(self, path: str) -> bool:
        return path.startswith(_DATASETS) and path.endswith("/profile/")


class NoDatasetsStandIn(Recorder):
    """An API that has the slice endpoints only."""

    def missing(self, path: str) -> bool:
        return path.startswith(_DATASETS)


class SmallPagesStandIn(CloudStandIn):
    """The cloud stand-in with pages of at most ``most`` items, whatever limit is asked for."""

    def __init__(self, app: ASGIApp, most: int) -> None:
        super().__init__(app)
        self.most = most

    def rewrite(self, scope: Scope) -> Scope:
        query = [
            (name, str(min(int(value), self.most)) if name == "limit" else value)
            for name, value in parse_qsl(scope["query_string"].decode())
        ]
        return {**scope, "query_string": urlencode(query).encode()}


# Any loopback host works in-process: the ASGI transport never resolves it.
IN_PROCESS_URL = "http://localhost/api/v1"


class Served:
    """The embedded app of one test, and clients of it behind stand-ins."""

    def __init__(self, app: Starlette, api_key: str, over_http: bool) -> None:
        self.app = app
        self.api_key = api_key
        self.over_http = over_http
        self.servers = contextlib.ExitStack()

    def client(
        self, wrap: Callable[[ASGIApp], Recorder] = Recorder, **options: Any
    ) -> tuple[Recorder, AvalaClient]:
        """A stand-in around the app, and a client of it (``options`` go to AvalaClient)."""
        stand_in = wrap(self.app)
        if self.over_http:
            url = self.servers.enter_context(serve_in_thread(stand_in))
            return stand_in, AvalaClient(self.api_key, url, **options)
        transport = httpx.ASGITransport(app=stand_in)
        return stand_in, AvalaClient(self.api_key, IN_PROCESS_URL, transport=transport, **options)

    def import_dataset(self, name: str, metadata: list[dict[str, Any]]) -> str:
        """A new dataset of the demo organization with items of this metadata; its uid."""
        items = [
            NewItem(key=f"{name}/{index}.jpg", url=None, metadata_json=metadata_json(one))
            for index, one in enumerate(metadata)
        ]
        errors: list[str] = []
        uid, _ = app_store(self.app).import_dataset(DEMO_ORG, name, [items], errors)
        return uid
