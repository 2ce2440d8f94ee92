"""An in-process client of an app made for one test, for tests that prepare its database first."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from avala_mcp.embedded import close_app, create_app


@contextlib.asynccontextmanager
async def in_process_api(
    db_path: Path, api_key: str, **app_options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``create_app(db_path, api_key=api_key, **app_options)``, in-process, with the
    base URL ``http://testserver/api/v1`` and the key header set; the app is closed after."""
    app = create_app(db_path, api_key=api_key, **app_options)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver/api/v1",
            headers={"X-Avala-Api-Key": api_key},
        ) as client:
            yield client
    finally:
        close_app(app)
