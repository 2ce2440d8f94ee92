"""The suite-wide secret watch (``tests/conftest.py``) sees what it claims to, and catches a leak.

The watch itself runs around every test; these tests show it is not blind: a canary placed on
purpose in a tool result, a resource, a protocol error and a log line is reported each time.
"""

from __future__ import annotations

import logging
from typing import Any

import canaries
import pytest
from canaries import Exposure
from mcp import Client, MCPError
from mcp.server.mcpserver import MCPServer

pytestmark = pytest.mark.anyio


def _leaky_server() -> MCPServer[Any]:
    """A bare SDK server with no scrubbing at all: everything it says holds the canary."""
    server: MCPServer[Any] = MCPServer("leaky", log_level="WARNING")

    @server.tool()
    async def echo_key() -> str:
        return f"key={canaries.API_KEY}"

    @server.resource("leak://token")
    async def token() -> str:
        return canaries.BEARER_TOKEN

    @server.prompt()
    async def broken() -> str:
        raise ValueError(canaries.API_KEY)

    return server


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_watch_reports_every_kind_of_leak(exposure: Exposure, mode: str) -> None:
    seen = exposure.seen
    async with Client(_leaky_server(), mode=mode) as client:
        await client.call_tool("echo_key", {})
        await client.read_resource("leak://token")
        with pytest.raises(MCPError):
            await client.get_prompt("broken")
    logging.getLogger("avala_mcp.test").error("token %s", canaries.BEARER_TOKEN)
    caught, exposure.leaks = exposure.leaks, []  # taken, or this test would fail for them
    assert exposure.seen >= seen + 4
    where = [leak.split(":", 1)[0] for leak in caught]
    assert "call_tool" in where
    assert "read_resource" in where
    assert "log avala_mcp.test" in where
    # Either the prompt's error carried the canary, or the SDK hid it: both are fine, but a
    # leak there must be caught if it happens.
    assert all(canaries.API_KEY in leak or canaries.BEARER_TOKEN in leak for leak in caught)
