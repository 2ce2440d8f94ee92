"""Resources (JSON, listed as templates), argument completion, and the prompts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.types import (
    INVALID_PARAMS,
    PromptReference,
    ResourceTemplateReference,
    TextContent,
    TextResourceContents,
)
from mcp_checks import local_server, success
from starlette.applications import Starlette

from avala_mcp.embedded.seed import (
    DEMO_DATASET_UID,
    DEMO_NIGHT_COUNT,
    DEMO_ORG,
    DEMO_SLICE_NAME,
    DEMO_SLICE_SLUG,
    OTHER_ORG,
)

pytestmark = pytest.mark.anyio

SLICE = f"avala://slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}"


async def read_json(client: Client, uri: str) -> Any:
    result = await client.read_resource(uri)
    (contents,) = result.contents
    assert isinstance(contents, TextResourceContents)
    assert contents.mime_type == "application/json"
    return json.loads(contents.text)


async def test_templates_are_listed(mcp_session: Client) -> None:
    templates = (await mcp_session.list_resource_templates()).resource_templates
    assert {t.uri_template for t in templates} == {
        "avala://datasets/{uid}",
        "avala://slices/{owner}",
        "avala://slices/{owner}/{slug}",
        "avala://slices/{owner}/{slug}/items",
    }
    assert {t.mime_type for t in templates} == {"application/json"}
    assert all(t.description for t in templates)


async def test_resources_match_the_tools(mcp_session: Client) -> None:
    owner = await read_json(mcp_session, f"avala://slices/{DEMO_ORG}")
    assert owner == await success(mcp_session, "list_slices", {"owner": DEMO_ORG})

    slice_ = await read_json(mcp_session, SLICE)
    assert slice_["name"] == DEMO_SLICE_NAME
    assert slice_["uri"] == SLICE

    items = await read_json(mcp_session, f"{SLICE}/items")
    assert items["count"] == DEMO_NIGHT_COUNT
    assert len(items["items"]) == 20


@pytest.mark.parametrize(
    "uri",
    [
        f"avala://slices/{DEMO_ORG}/no-such-slice",
        f"avala://slices/{DEMO_ORG}/no-such-slice/items",
        "avala://slices/no-such-owner",
        "avala://slices/bad%20owner/x",
    ],
)
async def test_a_missing_slice_is_resource_not_found(mcp_session: Client, uri: str) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp_session.read_resource(uri)
    assert raised.value.code == INVALID_PARAMS  # the SDK's code for resource-not-found


async def test_an_api_failure_is_a_resource_error(mcp_session: Client) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp_session.read_resource(f"avala://slices/{OTHER_ORG}")
    assert raised.value.code != INVALID_PARAMS
    assert "permission" in raised.value.error.message


async def test_slug_completion_comes_from_the_api(mcp_session: Client) -> None:
    ref = ResourceTemplateReference(uri="avala://slices/{owner}/{slug}")
    result = await mcp_session.complete(
        ref, {"name": "slug", "value": "night"}, context_arguments={"owner": DEMO_ORG}
    )
    assert DEMO_SLICE_SLUG in result.completion.values
    assert all(value.startswith("night") for value in result.completion.values)

    prompt = PromptReference(name="explore_slice")
    result = await mcp_session.complete(
        prompt, {"name": "slug", "value": ""}, context_arguments={"owner": DEMO_ORG}
    )
    assert DEMO_SLICE_SLUG in result.completion.values

    # An owner the key may not read, or none at all: nothing to offer, no error.
    for context in ({"owner": OTHER_ORG}, {}):
        result = await mcp_session.complete(
            ref, {"name": "slug", "value": ""}, context_arguments=context
        )
        assert result.completion.values == []


async def test_owner_completion_offers_the_default_and_owners_seen(
    local_app: Starlette, local_api_key: str, mode: str
) -> None:
    server = local_server(local_app, local_api_key, default_owner="team-x")
    ref = ResourceTemplateReference(uri="avala://slices/{owner}")
    async with Client(server, mode=mode) as client:
        before = await client.complete(ref, {"name": "owner", "value": ""})
        assert before.completion.values == ["team-x"]
        await success(client, "list_slices", {"owner": DEMO_ORG})
        after = await client.complete(ref, {"name": "owner", "value": "a"})
    assert after.completion.values == [DEMO_ORG]


async def test_prompts_are_listed_with_their_arguments(mcp_session: Client) -> None:
    prompts = {p.name: p for p in (await mcp_session.list_prompts()).prompts}
    assert set(prompts) == {"build_slice", "explore_slice"}
    arguments = {
        name: [(a.name, a.required, bool(a.description)) for a in prompt.arguments or []]
        for name, prompt in prompts.items()
    }
    assert arguments == {
        "build_slice": [("goal", True, True), ("dataset", False, True)],
        "explore_slice": [("owner", True, True), ("slug", True, True)],
    }


async def test_build_slice_prompt_walks_describe_preview_create_verify(mcp_session: Client) -> None:
    result = await mcp_session.get_prompt(
        "build_slice", {"dataset": DEMO_DATASET_UID, "goal": "foggy highway scenes"}
    )
    (message,) = result.messages
    assert message.role == "user"
    assert isinstance(message.content, TextContent)
    text = message.content.text
    assert "foggy highway scenes" in text
    steps = [
        text.index(tool)
        for tool in (
            "describe_dataset(",
            "preview_slice(",
            "validate_slice_name(",
            "create_slice(",
            "describe_slice(owner",
        )
    ]
    assert steps == sorted(steps)
    assert DEMO_DATASET_UID in text


async def test_explore_slice_prompt_reads_the_slice_and_its_items(mcp_session: Client) -> None:
    result = await mcp_session.get_prompt(
        "explore_slice", {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG}
    )
    (message,) = result.messages
    assert isinstance(message.content, TextContent)
    text = message.content.text
    assert f"get_slice(owner='{DEMO_ORG}', slug='{DEMO_SLICE_SLUG}')" in text
    assert "list_slice_items" in text


@pytest.mark.parametrize(
    ("name", "arguments", "named"),
    [
        ("build_slice", {"dataset": DEMO_DATASET_UID}, "goal"),
        ("build_slice", {"dataset": "not-a-uuid", "goal": "x"}, "dataset"),
        ("explore_slice", {"owner": DEMO_ORG, "slug": "../x"}, "slug"),
        ("no_such_prompt", {}, "no_such_prompt"),
    ],
)
async def test_bad_prompt_arguments_are_invalid_params_with_a_reason(
    mcp_session: Client, name: str, arguments: dict[str, str], named: str
) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp_session.get_prompt(name, arguments)
    assert raised.value.code == INVALID_PARAMS
    assert named in raised.value.error.message
