"""A secret the caller itself sent (the key as a slug, in a prompt's goal) is never echoed back:
not in a resource error, a prompt's text, a tool failure, nor in any escaped form."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import canaries
import pytest
from mcp import Client, MCPError
from mcp.server.mcpserver import MCPServer
from mcp.types import TextContent

from avala_mcp.embedded.seed import DEMO_ORG
from avala_mcp.redaction import REDACTED, Redactor

pytestmark = pytest.mark.anyio

KEY = canaries.API_KEY


def forms(secret: str) -> list[str]:
    return [secret, quote(secret, safe=""), json.dumps(secret)[1:-1], repr(secret)[1:-1]]


@pytest.mark.parametrize(
    "uri",
    [
        f"avala://slices/{DEMO_ORG}/{KEY}",
        f"avala://slices/{DEMO_ORG}/{KEY}/items",
        f"avala://slices/{KEY}",
        f"avala://slices/{KEY}/{KEY}",
        f"avala://datasets/{KEY}",
        f"avala://no-such-template/{KEY}",
        f"avala://slices/{DEMO_ORG}/{quote(KEY, safe='')}",
        f"avala://slices/{DEMO_ORG}/x?key={KEY}",
    ],
)
async def test_a_resource_error_never_echoes_the_key(mcp_session: Client, uri: str) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp_session.read_resource(uri)
    text = f"{raised.value} {raised.value.error.model_dump_json()}"
    for form in forms(KEY):
        assert form not in text
    assert "no slice" in text or "no dataset" in text or "no owner" in text or REDACTED in text


@pytest.mark.parametrize(
    ("prompt", "arguments"),
    [
        ("build_slice", {"goal": f"night scenes; my key is {KEY}"}),
        ("build_slice", {"goal": f"key {json.dumps({'k': KEY})}"}),
        ("explore_slice", {"owner": DEMO_ORG, "slug": KEY}),
    ],
)
async def test_a_prompt_never_echoes_the_key(
    mcp_session: Client, prompt: str, arguments: dict[str, Any]
) -> None:
    result = await mcp_session.get_prompt(prompt, arguments)
    text = result.model_dump_json()
    for form in forms(KEY):
        assert form not in text
    [message, *_] = result.messages
    assert isinstance(message.content, TextContent)
    assert REDACTED in message.content.text


async def test_a_prompt_error_never_echoes_the_key(mcp_session: Client) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp_session.get_prompt(KEY, {})
    assert KEY not in f"{raised.value} {raised.value.error.model_dump_json()}"


def test_percent_encoded_forms_of_a_key_are_redacted() -> None:
    """However a URL encodes it (any character, either case of hex digits), the key goes."""
    redactor = Redactor([KEY])
    every = "".join(f"%{ord(c):02x}" for c in KEY)
    some = KEY.replace("a", "%61").replace("-", "%2D")
    for line in (f"GET /x/?q={every} HTTP/1.1", f"GET /x/?q={some}&n=1", f"?k={quote(quote(KEY))}"):
        assert redactor.found_in(line)
        cleaned = redactor.text(line)
        assert REDACTED in cleaned
        assert not redactor.found_in(cleaned)
    assert redactor.text("GET /x/?q=a%20b HTTP/1.1") == "GET /x/?q=a%20b HTTP/1.1"


def test_the_redactor_takes_no_json_escaped_flag() -> None:
    with pytest.raises(TypeError):
        Redactor([KEY], json_escaped=True)  # type: ignore[call-arg]


async def test_the_key_as_a_tool_argument_is_not_echoed(mcp_server: MCPServer[Any]) -> None:
    async with Client(mcp_server) as client:
        for name, arguments in (
            ("get_slice", {"owner": DEMO_ORG, "slug": KEY}),
            ("list_slices", {"owner": KEY}),
            (KEY, {}),
        ):
            result = await client.call_tool(name, arguments)
            assert result.is_error
            assert KEY not in result.model_dump_json()
