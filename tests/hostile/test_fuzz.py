"""Every tool fuzzed through real MCP clients on the embedded API: in memory in both protocol
eras, and over streamable HTTP, where the arguments cross the wire as JSON bytes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fuzzing import NASTY, TOOLS, fuzz
from hostile_checks import serving
from mcp import Client, MCPError
from mcp.server.mcpserver import MCPServer
from mcp.types import INVALID_PARAMS, ResourceTemplateReference
from mcp_checks import local_server, success
from starlette.applications import Starlette

from avala_mcp.contract import SEGMENT_RE
from avala_mcp.embedded.seed import DEMO_ORG

pytestmark = pytest.mark.anyio

#: Calls per protocol era in memory: over 450 in all (about 20 per tool); benchmarks/fuzz.py
#: runs thousands.
CALLS = 240
#: Calls over streamable HTTP, where arguments cross the wire as JSON bytes.
HTTP_CALLS = 60


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_fuzzed_calls_always_answer_with_the_contract(
    local_app: Starlette, local_api_key: str, mode: str
) -> None:
    server: MCPServer[Any] = local_server(local_app, local_api_key)
    async with Client(server, mode=mode) as client:
        tally = await fuzz(client, CALLS, derandomize=True)
        # The server still answers, and every tool was exercised.
        assert (await success(client, "list_slices", {"owner": DEMO_ORG}))["slices"]
    assert tally.calls >= CALLS
    assert set(TOOLS) <= set(tally.called)
    print(f"fuzz {mode}: {tally.report()}")
    assert tally.successes["list_slices"]
    assert tally.failures["invalid_input"]  # shown with -s


async def test_fuzzed_calls_over_streamable_http(tmp_path: Path) -> None:
    with serving(tmp_path / "fuzz.sqlite3") as url:
        async with Client(url) as client:
            tally = await fuzz(client, HTTP_CALLS, derandomize=True)
            assert (await success(client, "list_slices", {"owner": DEMO_ORG}))["slices"]
    assert tally.calls >= HTTP_CALLS
    assert tally.failures["invalid_input"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_resources_prompts_and_completion_refuse_hostile_input_cleanly(
    local_app: Starlette, local_api_key: str, mode: str
) -> None:
    """Hostile owners, slugs and prompt arguments are 'not found' or 'invalid params', never an
    internal error; completion just offers nothing."""
    server: MCPServer[Any] = local_server(local_app, local_api_key)
    slice_ref = ResourceTemplateReference(uri="avala://slices/{owner}/{slug}")
    refused: Counter[int] = Counter()
    async with Client(server, mode=mode) as client:
        for value in [*NASTY, "a%00b", "a/b/c/d", "?x=1", "#fragment"]:
            for uri in (f"avala://slices/{value}", f"avala://slices/{DEMO_ORG}/{value}/items"):
                with pytest.raises(MCPError) as caught:
                    await client.read_resource(uri)
                refused[caught.value.error.code] += 1
            with pytest.raises(MCPError) as caught:
                await client.get_prompt("build_slice", {"dataset": value, "goal": ""})
            refused[caught.value.error.code] += 1
            explore = {"owner": value, "slug": value}
            if SEGMENT_RE.match(value):  # a well-formed name (e.g. a UUID) renders
                assert (await client.get_prompt("explore_slice", explore)).messages
            else:
                with pytest.raises(MCPError) as caught:
                    await client.get_prompt("explore_slice", explore)
                refused[caught.value.error.code] += 1
            for argument in ("owner", "slug"):
                offered = await client.complete(
                    slice_ref, {"name": argument, "value": value}, {"owner": value}
                )
                assert offered.completion.values == [] or value == ""
        assert (await success(client, "list_slices", {"owner": DEMO_ORG}))["slices"]
    assert set(refused) == {INVALID_PARAMS}, refused
