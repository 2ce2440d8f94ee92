"""The smaller gaps the trial hit, and the resources, completion and prompts of exploring."""

from __future__ import annotations

import json

import pytest
from mcp import Client, MCPError
from mcp.types import PromptReference, ResourceTemplateReference, TextContent, TextResourceContents
from mcp_checks import failure, success

from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ITEM_COUNT, DEMO_ORG

pytestmark = pytest.mark.anyio

DATASET_TEMPLATE = "avala://datasets/{uid}"


async def test_a_slice_without_a_filter_says_filter_null(explore_session: Client) -> None:
    whole = await success(
        explore_session, "get_slice", {"owner": DEMO_ORG, "slug": "all-driving-scenes"}
    )
    assert whole["filter"] is None
    created = await success(
        explore_session, "create_slice", {"name": "Everything", "dataset": DEMO_DATASET_UID}
    )
    assert created["filter"] is None
    assert created["item_count"] == DEMO_ITEM_COUNT
    assert "warnings" not in created


@pytest.mark.parametrize("tool", ["get_slice", "describe_slice", "list_slice_items"])
async def test_a_name_passed_as_slug_gets_a_hint_to_use_the_slug(
    explore_session: Client, tool: str
) -> None:
    error = await failure(explore_session, tool, {"owner": DEMO_ORG, "slug": "Bay Area"})
    assert error["type"] == "invalid_input"
    assert list(error["fields"]) == ["slug"]
    assert "not its name" in error["hint"]
    assert f"list_slices(owner='{DEMO_ORG}')" in error["hint"]


async def test_the_dataset_resource_is_its_description(explore_session: Client) -> None:
    templates = (await explore_session.list_resource_templates()).resource_templates
    assert DATASET_TEMPLATE in {template.uri_template for template in templates}
    read = await explore_session.read_resource(f"avala://datasets/{DEMO_DATASET_UID}")
    (contents,) = read.contents
    assert isinstance(contents, TextResourceContents)
    assert contents.mime_type == "application/json"
    described = await success(explore_session, "describe_dataset", {"dataset": DEMO_DATASET_UID})
    assert json.loads(contents.text) == described


@pytest.mark.parametrize("uid", ["00000000-0000-4000-8000-000000000000", "not-a-uid"])
async def test_an_unknown_dataset_resource_is_not_found(explore_session: Client, uid: str) -> None:
    with pytest.raises(MCPError) as raised:
        await explore_session.read_resource(f"avala://datasets/{uid}")
    assert raised.value.error.code == -32602


async def test_dataset_uids_complete_from_the_api(explore_session: Client) -> None:
    ref = ResourceTemplateReference(uri=DATASET_TEMPLATE)
    offered = await explore_session.complete(ref, {"name": "uid", "value": "550e"})
    assert offered.completion.values == [DEMO_DATASET_UID]
    none = await explore_session.complete(ref, {"name": "uid", "value": "ffff"})
    assert none.completion.values == []
    prompt = PromptReference(name="build_slice")
    offered = await explore_session.complete(prompt, {"name": "dataset", "value": ""})
    assert offered.completion.values == [DEMO_DATASET_UID]
    # The datasets' owners are offered for owner from then on.
    owners = ResourceTemplateReference(uri="avala://slices/{owner}")
    assert (
        await explore_session.complete(owners, {"name": "owner", "value": ""})
    ).completion.values == [DEMO_ORG]


def _text(result: object) -> str:
    (message,) = result.messages  # type: ignore[attr-defined]
    assert isinstance(message.content, TextContent)
    return str(message.content.text)


async def test_build_slice_walks_find_describe_preview_validate_create_verify(
    explore_session: Client,
) -> None:
    text = _text(await explore_session.get_prompt("build_slice", {"goal": "foggy dawns"}))
    steps = [
        text.index(step)
        for step in (
            "list_datasets",
            "describe_dataset(",
            "preview_slice(",
            "validate_slice_name(",
            "create_slice(",
            "describe_slice(",
        )
    ]
    assert steps == sorted(steps)
    given = _text(
        await explore_session.get_prompt(
            "build_slice", {"goal": "foggy dawns", "dataset": DEMO_DATASET_UID}
        )
    )
    assert f"describe_dataset(dataset='{DEMO_DATASET_UID}')" in given


async def test_explore_slice_describes_the_slice(explore_session: Client) -> None:
    text = _text(
        await explore_session.get_prompt(
            "explore_slice", {"owner": DEMO_ORG, "slug": "night-driving-scenes"}
        )
    )
    assert f"describe_slice(owner='{DEMO_ORG}', slug='night-driving-scenes')" in text


async def test_the_instructions_walk_the_workflow(explore_session: Client) -> None:
    instructions = explore_session.instructions or ""
    steps = [
        instructions.index(step)
        for step in ("preview_slice(", "validate_slice_name(", "create_slice(", "describe_slice or")
    ]
    assert steps == sorted(steps)
    assert instructions.index("list_datasets") < instructions.index("describe_dataset(")
