"""Strict inputs: an integer argument takes only a JSON integer, a confirmation only JSON true."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_checks import failure, success
from test_safety import TARGET, User, create_doomed, exists

from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_SLICE_SLUG
from avala_mcp.server.catalog import TOOLS

pytestmark = pytest.mark.anyio

# The least each tool needs to succeed, so that only the integer under test can be wrong.
BASE: dict[str, dict[str, Any]] = {
    "list_datasets": {},
    "describe_dataset": {"dataset": DEMO_DATASET_UID},
    "describe_slice": {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG},
    "preview_slice": {"dataset": DEMO_DATASET_UID},
    "list_slices": {"owner": DEMO_ORG},
    "list_slice_items": {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG},
    "show_items": {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG},
}


def integer_arguments() -> list[tuple[str, str]]:
    """Every integer argument of every tool, read from the input models (so none is missed)."""
    found = []
    for spec in TOOLS:
        properties = spec.input_model.model_json_schema()["properties"]
        for name, schema in properties.items():
            if schema.get("type") == "integer":
                found.append((spec.name, name))
    return found


INTEGERS = integer_arguments()


def test_every_integer_argument_is_covered() -> None:
    assert {tool for tool, _ in INTEGERS} == set(BASE)
    assert ("list_slices", "limit") in INTEGERS
    assert ("describe_dataset", "top") in INTEGERS
    assert ("preview_slice", "sample") in INTEGERS
    assert ("show_items", "limit") in INTEGERS


@pytest.mark.parametrize(("tool", "argument"), INTEGERS)
@pytest.mark.parametrize("value", [True, False, "5", "true", 5.0, 2.5, [5], {"n": 5}, None])
async def test_an_integer_argument_takes_only_a_json_integer(
    mcp_session: Client, tool: str, argument: str, value: Any
) -> None:
    error = await failure(mcp_session, tool, {**BASE[tool], argument: value})
    assert error["type"] == "invalid_input"
    assert set(error["fields"]) == {argument}
    assert argument in error["message"]


@pytest.mark.parametrize(("tool", "argument"), INTEGERS)
async def test_a_json_integer_is_taken(mcp_session: Client, tool: str, argument: str) -> None:
    await success(mcp_session, tool, {**BASE[tool], argument: 1})


@pytest.mark.parametrize(
    "content",
    [
        {},
        None,
        {"confirm": "yes"},
        {"confirm": "true"},
        {"confirm": 1},
        {"confirm": "1"},
        {"confirm": "on"},
        {"confirm": ["true"]},
        {"confirm": None},
        {"other": True},
    ],
)
async def test_only_json_true_confirms_a_deletion(
    mcp_server: MCPServer[Any], mode: str, content: dict[str, Any] | None
) -> None:
    await create_doomed(mcp_server, mode)
    user = User("accept", content)
    async with Client(mcp_server, mode=mode, elicitation_callback=user) as client:
        result = await success(client, "delete_slice", TARGET)
    assert user.questions
    assert result["deleted"] is False
    assert "not confirmed" in result["message"]
    assert "nothing was deleted" in result["message"]
    assert await exists(mcp_server, mode)
