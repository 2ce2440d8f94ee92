"""Helpers for the server tests: settings for the embedded API, and checked tool calls.

``call_tool`` runs a tool through a real MCP client and checks what every result must satisfy:
the text is the compact JSON of the structured content (show_items: its lines and images, as
``check_gallery`` checks them); a success matches the tool's output schema; a failure has all
seven keys of the failure payload.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import jsonschema
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ImageContent, TextContent
from starlette.applications import Starlette
from starlette.types import Send

from avala_mcp.server import build_server
from avala_mcp.settings import Settings

# Any loopback URL: requests go through the ASGI transport, never the network.
LOCAL_BASE_URL = "http://127.0.0.1:8000/api/v1"
FAILURE_KEYS = {"type", "status", "message", "fields", "retryable", "retry_after", "hint"}


def local_settings(api_key: str | None, **overrides: Any) -> Settings:
    # No retries: a retried 429 or connection failure would wait for real.
    return replace(Settings(api_key=api_key, base_url=LOCAL_BASE_URL, max_retries=0), **overrides)


def local_server(app: Starlette, api_key: str | None, **overrides: Any) -> MCPServer[Any]:
    return build_server(
        local_settings(api_key, **overrides), transport=httpx.ASGITransport(app=app)
    )


def text_of(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def check_gallery(result: CallToolResult) -> list[ImageContent]:
    """What a successful show_items result holds: a summary line, then per item its line and,
    where ``images`` says so, its image at ``content_index``; its images, in item order."""
    assert result.structured_content is not None
    items, images = result.structured_content["items"], result.structured_content["images"]
    assert [entry["item_id"] for entry in images] == [item["uid"] for item in items]
    blocks = result.content
    assert isinstance(blocks[0], TextContent)
    shown: list[ImageContent] = []
    at = 1
    for entry in images:
        line = blocks[at]
        assert isinstance(line, TextContent)
        assert "\n" not in line.text
        at += 1
        if "note" in entry:
            assert "content_index" not in entry
            assert line.text.endswith(f"no image: {entry['note']}")
            continue
        assert entry["content_index"] == at
        image = blocks[at]
        assert isinstance(image, ImageContent)
        assert image.mime_type == entry["mime_type"] in ("image/jpeg", "image/png")
        shown.append(image)
        at += 1
    assert at == len(blocks)
    return shown


async def call_tool(client: Client, name: str, arguments: dict[str, Any]) -> CallToolResult:
    """Call a tool and check the shape every result must have."""
    result = await client.call_tool(name, arguments)
    assert result.structured_content is not None
    if name == "show_items" and not result.is_error:
        check_gallery(result)  # lines and images, not one JSON text
    else:
        # The text copy is the structured content as compact JSON.
        assert text_of(result) == json.dumps(
            result.structured_content, separators=(",", ":"), ensure_ascii=False
        )
    if result.is_error:
        assert set(result.structured_content) == {"error"}
        assert set(result.structured_content["error"]) == FAILURE_KEYS
    else:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        schema = tools[name].output_schema
        assert schema is not None
        jsonschema.validate(result.structured_content, schema)
    return result


async def failure(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The structured failure of a call that must fail."""
    result = await call_tool(client, name, arguments)
    assert result.is_error, text_of(result)
    assert result.structured_content is not None
    error: dict[str, Any] = result.structured_content["error"]
    return error


async def success(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The structured content of a call that must succeed."""
    result = await call_tool(client, name, arguments)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return result.structured_content


async def send_json(send: Send, status: int, body: Any) -> None:
    """Answer an ASGI request with ``body`` as JSON: how test wrappers fake an API's answer."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
