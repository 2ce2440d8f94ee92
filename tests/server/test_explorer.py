"""The explorer MCP App on the server side: its resource, the tools bound to it, and clients
that do not advertise the extension getting exactly the results they got before it.

The app itself, in a real browser behind the real host bridge, is tested in ``tests/browser``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcp import Client
from mcp.client import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.server.mcpserver import MCPServer
from mcp.types import TextResourceContents

from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_SLICE_SLUG
from avala_mcp.server import explorer
from avala_mcp.server.catalog import TOOLS

pytestmark = pytest.mark.anyio

APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
NIGHT = {"field": "metadata.time_of_day", "op": "eq", "value": "night"}

# One valid call of each bound tool.
BOUND_CALLS: dict[str, dict[str, Any]] = {
    "list_slice_items": {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "limit": 3},
    "show_items": {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "limit": 2},
    "preview_slice": {"dataset": DEMO_DATASET_UID, "filter": NIGHT},
    "describe_dataset": {"dataset": DEMO_DATASET_UID, "fields": ["metadata.weather"]},
    "describe_slice": {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG},
}
CATALOG = {spec.name for spec in TOOLS}


def test_the_bound_tools_are_the_explorers_own() -> None:
    assert set(BOUND_CALLS) == explorer.BOUND
    assert explorer.BOUND <= CATALOG


async def test_the_explorer_resource_is_served_as_an_mcp_app(mcp_session: Client) -> None:
    listed = {str(r.uri): r for r in (await mcp_session.list_resources()).resources}
    assert listed[explorer.URI].mime_type == APP_MIME_TYPE
    read = await mcp_session.read_resource(explorer.URI)
    [content] = read.contents
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == APP_MIME_TYPE
    assert content.text == explorer.html()
    assert content.text.startswith("<!doctype html>")


def test_the_explorer_is_one_self_contained_document() -> None:
    html = explorer.html()
    # No external script, style, font or image, and no way to reach the network from script.
    assert not re.search(r"<(link|iframe|object|embed)\b", html, re.IGNORECASE)
    assert not re.search(r"<[^>]*\s(src|href|action|srcset)\s*=", html, re.IGNORECASE)
    # The one image source the script sets is a data: URL of bytes a tool result carried.
    assert re.findall(r"\.src\s*=\s*(.{6})", html) == ["`data:"]
    assert not re.search(r"url\(|@import|https?://", html, re.IGNORECASE)
    for api in ("fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "import(", "sendBeacon"):
        assert api not in html, api
    # Data is never rendered as markup.
    assert "innerHTML" not in html
    assert "insertAdjacentHTML" not in html
    assert "default-src 'none'; img-src data:" in html  # its own CSP, whatever the host sets


async def test_the_server_advertises_the_extension(mcp_session: Client, mode: str) -> None:
    extensions = mcp_session.server_capabilities.extensions
    if mode == "legacy":
        # 2025-11-25 capabilities have no extensions field (the SDK leaves it out); hosts there
        # find the app through the tools' _meta.ui.resourceUri, which both eras carry.
        assert extensions is None
    else:
        assert extensions == {EXTENSION_ID: {}}


async def test_exactly_the_bound_tools_carry_the_ui_binding(mcp_session: Client) -> None:
    tools = (await mcp_session.list_tools()).tools
    for tool in tools:
        if tool.name in explorer.BOUND:
            assert tool.meta == {"ui": {"resourceUri": explorer.URI}}, tool.name
        else:
            assert tool.meta is None, tool.name
    assert {tool.name for tool in tools} >= explorer.BOUND
    # Listed in the catalog's order, though the SDK registers the bound tools first.
    assert [tool.name for tool in tools] == [spec.name for spec in TOOLS]


async def test_a_client_without_the_extension_gets_the_same_results(
    mcp_server: MCPServer[Any], mode: str
) -> None:
    """The tools never branch on the client: only the ``_meta`` on tools/list names the app,
    and the SDK sends it to every client (SEP-2133: a client ignores what it does not know)."""
    async with (
        Client(mcp_server, mode=mode) as plain,
        Client(mcp_server, mode=mode, extensions=[APPS]) as apps,
    ):
        plain_tools = (await plain.list_tools()).tools
        assert plain_tools == (await apps.list_tools()).tools
        for name, arguments in BOUND_CALLS.items():
            seen = await plain.call_tool(name, arguments)
            assert not seen.is_error, seen.content
            assert "ui" not in (seen.meta or {})  # nothing of the app in a result
            assert seen == await apps.call_tool(name, arguments), name
    # tools/list differs from before the explorer only by the bindings: tests/server/
    # tool_surface.json's history shows that diff, and the test above pins its exact form.


async def test_read_only_keeps_every_bound_tool(local_app: Any, local_api_key: str) -> None:
    from mcp_checks import local_server

    async with Client(local_server(local_app, local_api_key, read_only=True)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert names >= explorer.BOUND
    assert "create_slice" not in names
