"""Every tool fuzzed through a real MCP client on the embedded API, in both protocol eras."""

from __future__ import annotations

from typing import Any

import pytest
from fuzzing import TOOLS, fuzz
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_checks import local_server, success
from starlette.applications import Starlette

from avala_mcp.local.demo import DEMO_ORG

pytestmark = pytest.mark.anyio

#: Calls per protocol era: over 300 in all. benchmarks/fuzz.py runs thousands.
CALLS = 160


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_fuzzed_calls_always_answer_with_the_contract(
    local_app: Starlette, local_api_key: str, mode: str
) -> None:
    server: MCPServer[Any] = local_server(local_app, local_api_key)
    async with Client(server, mode=mode) as client:
        tally = await fuzz(client, CALLS)
        # The server still answers, and every tool was exercised.
        assert (await success(client, "list_slices", {"owner": DEMO_ORG}))["slices"]
    assert tally.calls >= CALLS
    assert set(TOOLS) <= set(tally.called)
    assert tally.successes["list_slices"]
    assert tally.failures["invalid_input"]
    print(f"fuzz {mode}: {tally.report()}")  # shown with -s
