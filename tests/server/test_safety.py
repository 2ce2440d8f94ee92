"""Safety: read-only mode, and delete_slice's confirmation on both protocol eras."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import ElicitRequestParams, ElicitResult
from mcp_checks import failure, local_server, success
from starlette.applications import Starlette

from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_SLICE_SLUG

pytestmark = pytest.mark.anyio

TARGET = {"owner": DEMO_ORG, "slug": "doomed"}


class User:
    """An elicitation callback that answers every question the same way, and records them."""

    def __init__(self, action: str, content: dict[str, Any] | None = None) -> None:
        self.action = action
        self.content = content
        self.questions: list[str] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params.message)
        return ElicitResult(action=self.action, content=self.content)  # type: ignore[arg-type]


async def create_doomed(server: MCPServer[Any], mode: str) -> None:
    async with Client(server, mode=mode) as client:
        await success(
            client,
            "create_slice",
            {
                "name": "Doomed",
                "dataset": DEMO_DATASET_UID,
                "filter": {"field": "metadata.weather", "op": "eq", "value": "snow"},
            },
        )


async def exists(server: MCPServer[Any], mode: str) -> bool:
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("get_slice", TARGET)
    return not result.is_error


@pytest.fixture
async def doomed(mcp_server: MCPServer[Any], mode: str) -> MCPServer[Any]:
    """The server, with the slice acme-ai/doomed created."""
    await create_doomed(mcp_server, mode)
    return mcp_server


async def test_accepted_confirmation_deletes(doomed: MCPServer[Any], mode: str) -> None:
    user = User("accept", {"confirm": True})
    async with Client(doomed, mode=mode, elicitation_callback=user) as client:
        result = await success(client, "delete_slice", TARGET)
    assert result == {"deleted": True, **TARGET}
    assert len(user.questions) == 1
    assert "'Doomed'" in user.questions[0]
    assert "acme-ai/doomed" in user.questions[0]
    assert not await exists(doomed, mode)


@pytest.mark.parametrize(
    ("action", "content", "said"),
    [
        ("decline", None, "declined"),
        ("cancel", None, "cancelled"),
        ("accept", {"confirm": False}, "declined"),
    ],
)
async def test_declined_or_cancelled_deletes_nothing(
    doomed: MCPServer[Any], mode: str, action: str, content: dict[str, Any] | None, said: str
) -> None:
    user = User(action, content)
    async with Client(doomed, mode=mode, elicitation_callback=user) as client:
        result = await success(client, "delete_slice", TARGET)
    assert result["deleted"] is False
    assert said in result["message"]
    assert "nothing was deleted" in result["message"]
    assert await exists(doomed, mode)


async def test_an_eliciting_client_is_asked_even_with_confirm(
    doomed: MCPServer[Any], mode: str
) -> None:
    user = User("decline")
    async with Client(doomed, mode=mode, elicitation_callback=user) as client:
        result = await success(client, "delete_slice", {**TARGET, "confirm": "acme-ai/doomed"})
    assert result["deleted"] is False
    assert user.questions
    assert await exists(doomed, mode)


async def test_a_missing_slice_fails_before_asking(mcp_server: MCPServer[Any], mode: str) -> None:
    user = User("accept", {"confirm": True})
    async with Client(mcp_server, mode=mode, elicitation_callback=user) as client:
        error = await failure(client, "delete_slice", {"owner": DEMO_ORG, "slug": "ghost"})
    assert error["type"] == "not_found"
    assert user.questions == []


async def test_without_elicitation_a_missing_slice_fails_before_asking_to_confirm(
    mcp_server: MCPServer[Any], mode: str
) -> None:
    async with Client(mcp_server, mode=mode) as client:
        error = await failure(client, "delete_slice", {"owner": DEMO_ORG, "slug": "ghost"})
    assert error["type"] == "not_found"


@pytest.mark.parametrize("confirm", [None, "acme-ai/other", "doomed", "ACME-AI/DOOMED"])
async def test_without_elicitation_confirm_must_name_the_slice(
    doomed: MCPServer[Any], mode: str, confirm: str | None
) -> None:
    arguments = TARGET if confirm is None else {**TARGET, "confirm": confirm}
    async with Client(doomed, mode=mode) as client:
        error = await failure(client, "delete_slice", arguments)
    assert error["type"] == "confirmation_required"
    assert "confirm='acme-ai/doomed'" in error["hint"]
    assert await exists(doomed, mode)


async def test_without_elicitation_the_confirm_fallback_deletes(
    doomed: MCPServer[Any], mode: str
) -> None:
    async with Client(doomed, mode=mode) as client:
        result = await success(client, "delete_slice", {**TARGET, "confirm": "acme-ai/doomed"})
        assert result == {"deleted": True, **TARGET}
        error = await failure(client, "delete_slice", {**TARGET, "confirm": "acme-ai/doomed"})
    assert error["type"] == "not_found"
    assert not await exists(doomed, mode)


async def test_read_only_mode_offers_no_writes(
    local_app: Starlette, local_api_key: str, mode: str
) -> None:
    server = local_server(local_app, local_api_key, read_only=True)
    async with Client(
        server, mode=mode, elicitation_callback=User("accept", {"confirm": True})
    ) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {
            "list_datasets",
            "describe_dataset",
            "list_slices",
            "get_slice",
            "describe_slice",
            "preview_slice",
            "list_slice_items",
            "show_items",
            "validate_slice_name",
        }
        for tool, arguments in [
            ("create_slice", {"name": "Nope", "dataset": DEMO_DATASET_UID}),
            (
                "delete_slice",
                {
                    "owner": DEMO_ORG,
                    "slug": DEMO_SLICE_SLUG,
                    "confirm": "acme-ai/night-driving-scenes",
                },
            ),
        ]:
            error = await failure(client, tool, arguments)
            assert error["type"] == "read_only"
            assert tool in error["message"]
            assert "--read-only" in error["hint"]
        assert await success(client, "get_slice", {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG})
