"""Fixtures shared by the whole suite.

Async tests use anyio's pytest plugin (``pytestmark = pytest.mark.anyio``): unlike
pytest-asyncio's fixtures, its yield-fixtures may hold an MCP ``Client`` open across a test.

Embedded Slices API (``avala_mcp.local``), each on a fresh database with the demo data
(constants in ``avala_mcp.local.demo``):

- ``local_api_key``: a valid API key of the demo user ``demo`` (a canary-like string: it must never
  show up in output or logs).
- ``local_db_path``: where the database of ``local_app`` lives (a file under ``tmp_path``).
- ``local_app``: the Starlette app, in-process; use it with ``httpx.ASGITransport(app=local_app)``
  (no lifespan needed). Closed after the test.
- ``local_http``: an ``httpx.AsyncClient`` on ``local_app`` with base URL
  ``http://testserver/api/v1`` and the key header set (async tests only).
- ``local_api_url``: a real uvicorn server on 127.0.0.1 at an ephemeral port, running in a
  background thread; the value is its base URL ``http://127.0.0.1:PORT/api/v1``. Works in sync and
  async tests; stopped after the test.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from avala_mcp.local import close_app, create_app
from avala_mcp.local.runner import serve_in_thread

LOCAL_API_KEY = "avk-canary-7f3a9c1e5b2d4086-do-not-log"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def local_api_key() -> str:
    return LOCAL_API_KEY


@pytest.fixture(scope="session")
def _local_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new database with the demo data, built once: copying it is faster than rebuilding."""
    path = tmp_path_factory.mktemp("template") / "slices.sqlite3"
    close_app(create_app(path))  # closing checkpoints the WAL into the main file
    return path


@pytest.fixture
def local_db_path(tmp_path: Path, _local_template_db: Path) -> Path:
    path = tmp_path / "slices.sqlite3"
    shutil.copyfile(_local_template_db, path)
    return path


@pytest.fixture
def local_app(local_db_path: Path, local_api_key: str) -> Iterator[Starlette]:
    app = create_app(local_db_path, api_key=local_api_key)
    yield app
    close_app(app)


@pytest.fixture
async def local_http(local_app: Starlette, local_api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=local_app),
        base_url="http://testserver/api/v1",
        headers={"X-Avala-Api-Key": local_api_key},
    ) as client:
        yield client


@pytest.fixture
def local_api_url(tmp_path: Path, _local_template_db: Path, local_api_key: str) -> Iterator[str]:
    path = tmp_path / "served.sqlite3"
    shutil.copyfile(_local_template_db, path)
    app = create_app(path, api_key=local_api_key)
    try:
        with serve_in_thread(app) as url:
            yield url
    finally:
        close_app(app)
