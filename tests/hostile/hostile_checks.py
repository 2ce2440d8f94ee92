"""Helpers of the hostile tests: the failure types, and an MCP server on any API URL."""

from __future__ import annotations

from typing import Any

import canaries
from mcp.server.mcpserver import MCPServer

from avala_mcp.config import Settings
from avala_mcp.server import build_server

#: Every failure type of DESIGN §4.
FAILURE_TYPES = frozenset(
    {
        "invalid_input",
        "validation",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "rate_limited",
        "server_error",
        "network",
        "read_only",
        "confirmation_required",
    }
)


def server_for(base_url: str, **overrides: Any) -> MCPServer[Any]:
    """The MCP server against the API at ``base_url`` over real HTTP, with the canary key."""
    settings = Settings(api_key=canaries.API_KEY, base_url=base_url, **overrides)
    return build_server(settings)
