"""``python -m benchmarks.tool_list_size``: the bytes of the tool list a client reads, as JSON.

Every tool a server lists costs each conversation context before any call is made, so the
exploring tools of issue 10 must pay their way. The figures, measured through a real MCP client
(``tools/list``, compact JSON, UTF-8):

- ``before``: the six slice tools the server had before issue 10 (as they are listed now);
- ``after``: every tool the server lists;
- ``model_facing``: of all tools, the part a model reads (name, description, input schema),
  against the bound of 16 KB (``tests/explore/test_tool_list_size.py`` holds it).

Sizes do not depend on load, so one listing is enough; no API is reached.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from mcp import Client

from avala_mcp.commands.serve import LOCAL_BASE_URL
from avala_mcp.server import build_server
from avala_mcp.settings import Settings

#: The tools before issue 10 added the exploring ones.
SLICE_TOOLS = (
    "list_slices",
    "get_slice",
    "create_slice",
    "list_slice_items",
    "validate_slice_name",
    "delete_slice",
)
MODEL_FACING_KEYS = ("name", "description", "inputSchema")
MODEL_FACING_BOUND = 16 * 1024


def _bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


async def listed_tools() -> list[dict[str, Any]]:
    """The tool list as a client receives it, each tool as its JSON."""
    server = build_server(Settings(api_key="tool-list-size", base_url=LOCAL_BASE_URL))
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]


def model_facing(tool: dict[str, Any]) -> dict[str, Any]:
    """What of a listed tool a model reads."""
    return {key: tool[key] for key in MODEL_FACING_KEYS if key in tool}


async def _measure() -> dict[str, Any]:
    tools = await listed_tools()
    before = [tool for tool in tools if tool["name"] in SLICE_TOOLS]
    facing = _bytes([model_facing(tool) for tool in tools])
    return {
        "unit": "bytes",
        "before": {"tools": len(before), "bytes": _bytes(before)},
        "after": {"tools": len(tools), "bytes": _bytes(tools)},
        "model_facing": {
            "bytes": facing,
            "bound": MODEL_FACING_BOUND,
            "met": facing <= MODEL_FACING_BOUND,
        },
        "per_tool": {
            tool["name"]: {"bytes": _bytes(tool), "model_facing": _bytes(model_facing(tool))}
            for tool in tools
        },
    }


def measure() -> dict[str, Any]:
    """The figures, as the module doc describes them."""
    return anyio.run(_measure)


def main() -> int:
    print(json.dumps(measure(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
