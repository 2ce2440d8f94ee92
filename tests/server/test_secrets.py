"""A canary API key and bearer token never reach a client or a log line."""

from __future__ import annotations

import json
import logging
from typing import Any

import canaries
import httpx
import pytest
from mcp import Client, MCPError
from mcp.types import (
    ElicitRequestParams,
    ElicitResult,
    ResourceTemplateReference,
    TextResourceContents,
)
from mcp_checks import call_tool, local_settings, send_json, text_of
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_SLICE_SLUG, OTHER_ORG
from avala_mcp.server import build_server

pytestmark = pytest.mark.anyio

TOKEN = canaries.BEARER_TOKEN
LEAKY = f"/api/v1/slices/{DEMO_ORG}/leaky/"


def _leaking(app: Starlette, secret: str) -> Any:
    """``app``, plus a slice whose description holds ``secret`` (an API echoing what it got)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == LEAKY:
            slice_ = {"uid": "1", "name": "Leaky", "slug": "leaky", "description": f"key={secret}"}
            await send_json(send, 200, slice_)
            return
        await app(scope, receive, send)

    return wrapped


async def _accept(context: Any, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": True})


async def test_secrets_never_reach_results_or_logs(
    local_app: Starlette, local_api_key: str, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    server = build_server(
        local_settings(local_api_key, auth_token=TOKEN),
        transport=httpx.ASGITransport(app=_leaking(local_app, local_api_key)),
    )
    night = {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG}
    calls: list[tuple[str, dict[str, Any]]] = [
        ("list_slices", {"owner": DEMO_ORG}),
        ("get_slice", night),
        ("get_slice", {"owner": DEMO_ORG, "slug": "leaky"}),
        ("get_slice", {"owner": DEMO_ORG, "slug": "missing"}),
        ("get_slice", {"owner": OTHER_ORG, "slug": "x"}),
        ("list_slice_items", {**night, "detail": "full"}),
        ("validate_slice_name", {"name": "Night Driving Scenes", "dataset": DEMO_DATASET_UID}),
        ("create_slice", {"name": "Secretive", "dataset": DEMO_DATASET_UID}),
        ("create_slice", {"name": "Secretive", "dataset": DEMO_DATASET_UID}),
        ("delete_slice", {"owner": DEMO_ORG, "slug": "secretive"}),
        ("no_such_tool", {"api_key": local_api_key}),
    ]
    async with Client(server, mode=mode, elicitation_callback=_accept) as client:
        for name, arguments in calls:
            seen.append((await client.call_tool(name, arguments)).model_dump_json())
        for uri in (f"avala://slices/{DEMO_ORG}/leaky", f"avala://slices/{OTHER_ORG}"):
            try:
                seen.append((await client.read_resource(uri)).model_dump_json())
            except MCPError as error:
                seen.append(error.error.model_dump_json())
        ref = ResourceTemplateReference(uri="avala://slices/{owner}/{slug}")
        completion = await client.complete(
            ref, {"name": "slug", "value": ""}, context_arguments={"owner": DEMO_ORG}
        )
        seen.append(completion.model_dump_json())
    output = "\n".join(seen)
    assert "key=[redacted]" in output  # the leak was there, and was scrubbed
    for secret in (local_api_key, TOKEN):
        assert secret not in output
        assert secret not in caplog.text


async def test_a_secret_with_json_escapes_is_scrubbed_everywhere(
    local_app: Starlette, local_api_key: str, mode: str
) -> None:
    """A secret holding a quote and a backslash shows escaped in a result's JSON text, and
    as itself in its structured content: both are scrubbed, and the two still agree."""
    secret = 'tok"en\\canary-5d1e'
    server = build_server(
        local_settings(local_api_key, auth_token=secret),
        transport=httpx.ASGITransport(app=_leaking(local_app, secret)),
    )
    async with Client(server, mode=mode) as client:
        result = await call_tool(client, "get_slice", {"owner": DEMO_ORG, "slug": "leaky"})
        resource = await client.read_resource(f"avala://slices/{DEMO_ORG}/leaky")
    assert result.structured_content is not None
    assert result.structured_content["description"] == "key=[redacted]"
    (contents,) = resource.contents
    assert isinstance(contents, TextResourceContents)
    assert json.loads(contents.text)["description"] == "key=[redacted]"
    escaped = json.dumps(secret)[1:-1]
    for seen in (result.model_dump_json(), text_of(result), contents.text):
        assert secret not in seen
        assert escaped not in seen
