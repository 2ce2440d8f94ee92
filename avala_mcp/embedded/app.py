"""The embedded Slices API as a Starlette app.

Every request passes the gate (``gate``: rate limit, then API key) before routing; the handlers
(``routes``) check the request, then ask the store, whose blocking calls run in worker threads.
Errors take the seed's shapes (``errors``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

from avala_mcp.embedded.errors import exception_handlers
from avala_mcp.embedded.gate import Gate
from avala_mcp.embedded.ratelimit import RateLimiter
from avala_mcp.embedded.routes import datasets, media, slices
from avala_mcp.embedded.seed import DEMO_USER
from avala_mcp.embedded.store import Store

#: Where the API lives on the server, as in the cloud (``https://api.avala.ai/api/v1``).
BASE_PATH = "/api/v1"


def create_app(
    db_path: str | os.PathLike[str],
    *,
    api_key: str | None = None,
    session_key: str | None = None,
    rate_limit: int | None = None,
) -> Starlette:
    """The embedded Slices API on the SQLite database at ``db_path`` (created with demo data).

    ``api_key`` becomes a key of the demo user stored (hashed) in the database, so it stays valid
    for later apps on the same file (``avala-mcp api --api-key``). ``session_key`` is a key of
    the demo user valid only for this app: held in memory, never stored, gone when the app is
    (``avala-mcp serve --local``). ``rate_limit`` switches on rate limiting (requests per minute
    per key). Works with or without lifespan events; call ``close_app`` when done in-process
    (the lifespan's shutdown does the same under a server).
    """
    store = Store(db_path)
    try:
        if api_key is not None:
            store.add_api_key(DEMO_USER, api_key)
        session_keys: dict[str, int] = {}
        if session_key is not None:
            session_keys[session_key] = store.user_id(DEMO_USER)
        limiter = None if rate_limit is None else RateLimiter(rate_limit)
    except BaseException:
        store.close()
        raise

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    app = Starlette(
        routes=[
            Mount(
                BASE_PATH,
                routes=[*slices.routes(store), *datasets.routes(store), *media.routes(store)],
            )
        ],
        middleware=[Middleware(Gate, store=store, limiter=limiter, session_keys=session_keys)],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.limiter = limiter
    return app


def app_store(app: Starlette) -> Store:
    """The store behind an app made by ``create_app``."""
    store: Store = app.state.store
    return store


def close_app(app: Starlette) -> None:
    """Close the database of an app made by ``create_app`` (safe to call twice)."""
    app_store(app).close()
