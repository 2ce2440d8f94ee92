"""Every tool fuzzed through real MCP clients on the embedded API: in memory in both protocol
eras, and over streamable HTTP, where the arguments cross the wire as JSON bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fuzzing import TOOLS, fuzz
from hostile_checks import serving
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_checks import local_server, success
from starlette.applications import Starlette

from avala_mcp.local.demo import DEMO_ORG

pytestmark = pytest.mark.anyio

#: Calls per protocol era in memory: over 300 in all. benchmarks/fuzz.py runs thousands.
CALLS = 160
#: Calls over streamable HTTP, where arguments cross the wire as JSON bytes.
HTTP_CALLS = 60


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


async def test_fuzzed_calls_over_streamable_http(tmp_path: Path) -> None:
    with serving(tmp_path / "fuzz.sqlite3") as url:
        async with Client(url) as client:
            tally = await fuzz(client, HTTP_CALLS)
            assert (await success(client, "list_slices", {"owner": DEMO_ORG}))["slices"]
    assert tally.calls >= HTTP_CALLS
    assert tally.failures["invalid_input"]
