"""Helpers of the exploring tests: a recording ASGI wrapper, cloud stand-ins, and the demo items
read through the API with plain httpx (no client, no server)."""

from __future__ import annotations

from typing import Any

import httpx
from mcp_checks import send_json
from starlette.types import ASGIApp, Receive, Scope, Send

from avala_mcp.embedded.seed import DEMO_ORG

#: Items the cloud stand-in's client samples: fewer than the demo dataset's 2,000, so a sampled
#: answer visibly differs from the exact one.
CLOUD_SAMPLE = 500
DRIVING_SCENES_ITEMS = f"/api/v1/datasets/{DEMO_ORG}/driving-scenes/items/"


class Recorder:
    """An ASGI wrapper: records each request, and answers 404 for the paths it is told to."""

    def __init__(self, app: ASGIApp, *, missing: tuple[str, ...] = ()) -> None:
        self._app = app
        self._missing = missing
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"]))
            if any(part in scope["path"] for part in self._missing):
                await send_json(send, 404, {"detail": "Not found."})
                return
        await self._app(scope, receive, send)


def cloud(app: ASGIApp, *, datasets: bool = True) -> Recorder:
    """A stand-in of Avala's cloud: no profile extension, and, unless ``datasets``, no dataset
    endpoints at all."""
    return Recorder(app, missing=("/profile/",) if datasets else ("/datasets/",))


async def read_items(http: httpx.AsyncClient, *, most: int | None = None) -> list[dict[str, Any]]:
    """The demo dataset's items in the listing's order (the first ``most``), read with httpx."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 1000}
    path = f"datasets/{DEMO_ORG}/driving-scenes/items/"
    while True:
        response = await http.get(path, params=params)
        response.raise_for_status()
        page = response.json()
        items += page["results"]
        if not page["next"] or (most is not None and len(items) >= most):
            return items if most is None else items[:most]
        params = dict(httpx.URL(page["next"]).params)
