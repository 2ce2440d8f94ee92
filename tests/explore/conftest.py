"""Fixtures of the exploring tests: real MCP clients on the server over the embedded API.

- ``explore_session``: an ``mcp.Client`` (both protocol eras) on the server over the embedded API
  with the demo data, whose profile extension makes every answer exact;
- ``requests``: the requests that reached that API during the test, ``(method, path)``;
- ``truth``: every demo item, read page by page through the dataset items endpoint with plain
  httpx, apart from the server and the client.

The cloud stand-ins are in ``test_cloud.py``; the helpers in ``explore_checks.py``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from starlette.applications import Starlette

# tests/server has no __init__.py: pytest puts it on sys.path only once one of its modules is
# collected, and these tests must also run on their own (pytest tests/explore). tests/ itself
# holds the package ``embedded`` of the embedded API's tests, whose reference profile counts.
_TESTS = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(_TESTS / "server"), str(_TESTS)]

from explore_checks import Recorder, read_items  # noqa: E402
from mcp_checks import local_server  # noqa: E402


@pytest.fixture(params=["auto", "legacy"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def recorder(local_app: Starlette) -> Recorder:
    return Recorder(local_app)


@pytest.fixture
def requests(recorder: Recorder) -> list[tuple[str, str]]:
    return recorder.requests


@pytest.fixture
async def explore_session(
    recorder: Recorder, local_api_key: str, mode: str
) -> AsyncIterator[Client]:
    async with Client(local_server(recorder, local_api_key), mode=mode) as client:
        yield client


@pytest.fixture
async def truth(local_http: httpx.AsyncClient) -> list[dict[str, Any]]:
    return await read_items(local_http)
