"""What every transport test checks on a live session: the tools, one success, one failure."""

from __future__ import annotations

from mcp import Client

from avala_mcp.embedded.seed import DEMO_ORG, DEMO_SLICE_SLUG

ALL_TOOLS = {
    "list_datasets",
    "describe_dataset",
    "describe_slice",
    "preview_slice",
    "list_slices",
    "get_slice",
    "create_slice",
    "list_slice_items",
    "show_items",
    "validate_slice_name",
    "delete_slice",
}
WRITE_TOOLS = {"create_slice", "delete_slice"}


async def check_session(client: Client) -> None:
    """The six tools are listed, a read succeeds, and a missing slice is a structured failure."""
    assert {tool.name for tool in (await client.list_tools()).tools} == ALL_TOOLS

    page = await client.call_tool("list_slices", {"owner": DEMO_ORG})
    assert not page.is_error
    assert page.structured_content is not None
    assert DEMO_SLICE_SLUG in {s["slug"] for s in page.structured_content["slices"]}

    missing = await client.call_tool("get_slice", {"owner": DEMO_ORG, "slug": "no-such"})
    assert missing.is_error
    assert missing.structured_content is not None
    error = missing.structured_content["error"]
    assert error["type"] == "not_found"
    assert error["hint"]
