"""The registered tools and prompts agree with the catalog they are declared in.

Each tool is an explicit function whose parameters the SDK turns into the input schema, while
the call guard validates the catalog's input model: the two must describe the same arguments
(names, types, bounds, descriptions, defaults), or a client would be shown one contract and
held to another. The same holds for each prompt's arguments.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from avala_mcp.server.app import untitled
from avala_mcp.server.catalog import TOOLS
from avala_mcp.server.prompts import PROMPTS

pytestmark = pytest.mark.anyio


def _arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """What an input schema says about the arguments (not what it calls itself)."""
    return {
        "properties": schema["properties"],
        "required": sorted(schema.get("required", ())),
        "$defs": schema.get("$defs"),
    }


async def test_each_tool_advertises_its_catalog_input_model(mcp_session: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp_session.list_tools()).tools}
    assert list(tools) == [spec.name for spec in TOOLS]
    for spec in TOOLS:
        advertised = tools[spec.name].input_schema
        declared = spec.input_model.model_json_schema()
        # Advertised without the titles pydantic derives from the names (see untitled).
        assert _arguments(advertised) == _arguments(untitled(declared)), spec.name
        # The guard refuses what the model forbids, and the schema says so.
        assert declared["additionalProperties"] is advertised["additionalProperties"] is False


async def test_each_tool_advertises_its_catalog_output_model(mcp_session: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp_session.list_tools()).tools}
    for spec in TOOLS:
        assert tools[spec.name].output_schema == spec.output_model.model_json_schema(), spec.name


async def test_each_tool_carries_its_catalog_metadata(mcp_session: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp_session.list_tools()).tools}
    for spec in TOOLS:
        tool = tools[spec.name]
        assert (tool.title, tool.description) == (spec.title, spec.description)
        assert tool.annotations == spec.annotations


async def test_each_prompt_lists_its_input_model_fields(mcp_session: Client) -> None:
    prompts = {prompt.name: prompt for prompt in (await mcp_session.list_prompts()).prompts}
    assert list(prompts) == [spec.name for spec in PROMPTS]
    for spec in PROMPTS:
        schema = spec.input_model.model_json_schema()
        declared = [
            (name, name in schema.get("required", ()), field.get("description"))
            for name, field in schema["properties"].items()
        ]
        listed = [(a.name, a.required, a.description) for a in prompts[spec.name].arguments or []]
        assert listed == declared, spec.name
        assert (prompts[spec.name].title, prompts[spec.name].description) == (
            spec.title,
            spec.description,
        )
