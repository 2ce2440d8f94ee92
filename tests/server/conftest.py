"""In-memory MCP sessions on the server over the embedded API, in both protocol eras.

``mcp_session`` is a real ``mcp.Client`` on ``build_server(...)``, parametrized over
``mode="auto"`` (2026-07-28) and ``mode="legacy"`` (2025-11-25).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_checks import local_server
from starlette.applications import Starlette


@pytest.fixture(params=["auto", "legacy"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def mcp_server(local_app: Starlette, local_api_key: str) -> MCPServer[Any]:
    return local_server(local_app, local_api_key)


@pytest.fixture
async def mcp_session(mcp_server: MCPServer[Any], mode: str) -> AsyncIterator[Client]:
    async with Client(mcp_server, mode=mode) as client:
        yield client
