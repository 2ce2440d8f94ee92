"""Every failure type (docs/contracts.md) is a structured tool result, and the session lives on."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp_checks import failure, local_server, local_settings, send_json, success
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.seed import (
    DEMO_DATASET_UID,
    DEMO_ORG,
    DEMO_SLICE_NAME,
    DEMO_SLICE_SLUG,
    OTHER_ORG,
    OTHER_SLICE_SLUG,
)
from avala_mcp.server import build_server

pytestmark = pytest.mark.anyio

NIGHT = {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG}


@pytest.mark.parametrize(
    ("tool", "arguments", "bad"),
    [
        ("list_slices", {"owner": "acme ai"}, {"owner"}),
        ("list_slices", {"owner": "../etc"}, {"owner"}),
        ("list_slices", {"owner": DEMO_ORG, "limit": 0}, {"limit"}),
        ("list_slices", {"owner": DEMO_ORG, "limit": 101}, {"limit"}),
        ("list_slices", {"owner": DEMO_ORG, "limit": "many"}, {"limit"}),
        ("list_slices", {"owner": DEMO_ORG, "dataset": "not-a-uuid"}, {"dataset"}),
        ("list_slices", {}, {"owner"}),
        ("get_slice", {"owner": DEMO_ORG, "slug": "x" * 101}, {"slug"}),
        ("get_slice", {"owner": DEMO_ORG, "slug": 7}, {"slug"}),
        ("get_slice", {**NIGHT, "sluggish": True}, {"sluggish"}),
        ("list_slice_items", {**NIGHT, "detail": "verbose"}, {"detail"}),
        ("validate_slice_name", {"name": ""}, {"name"}),
        ("create_slice", {"name": "x" * 256, "dataset": DEMO_DATASET_UID}, {"name"}),
        (
            "create_slice",
            {
                "name": "Bad op",
                "dataset": DEMO_DATASET_UID,
                "filter": {"field": "metadata.weather", "op": "like", "value": "rain"},
            },
            {"filter"},
        ),
        (
            "create_slice",
            {
                "name": "Bad shape",
                "dataset": DEMO_DATASET_UID,
                "filter": {"and": [{"field": "colour", "op": "eq", "value": 1}]},
            },
            {"filter"},
        ),
        (
            "create_slice",
            {
                "name": "Bad value",
                "dataset": DEMO_DATASET_UID,
                "filter": {"field": "metadata.weather", "op": "in", "value": "rain"},
            },
            {"filter"},
        ),
        ("delete_slice", {"owner": DEMO_ORG, "slug": "a/b"}, {"slug"}),
    ],
)
async def test_invalid_arguments_are_invalid_input_naming_each_field(
    mcp_session: Client, tool: str, arguments: dict[str, Any], bad: set[str]
) -> None:
    error = await failure(mcp_session, tool, arguments)
    assert error["type"] == "invalid_input"
    assert set(error["fields"]) == bad
    assert error["status"] is None
    assert error["retryable"] is False
    assert error["hint"]
    for name in bad:
        assert name in error["message"]


async def test_invalid_input_never_echoes_hostile_input(mcp_session: Client) -> None:
    payload = "<script>" + "A" * 100_000
    error = await failure(
        mcp_session,
        "list_slices",
        {"owner": payload, "cursor": payload, payload: payload, "limit": payload},
    )
    text = json.dumps(error)
    assert "<script>" not in text
    assert "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" not in text
    assert len(text) < 2000
    assert {"owner", "cursor", "limit"} <= set(error["fields"])


async def test_a_deeply_nested_filter_is_refused_cleanly(mcp_session: Client) -> None:
    nested: dict[str, Any] = {"field": "key", "op": "exists", "value": True}
    for _ in range(60):  # deeper requests cannot even be serialized by the client
        nested = {"not": nested}
    error = await failure(
        mcp_session, "create_slice", {"name": "Deep", "dataset": DEMO_DATASET_UID, "filter": nested}
    )
    assert error["type"] in {"invalid_input", "validation"}
    assert len(json.dumps(error)) < 2000


async def test_validation_from_the_api(mcp_session: Client) -> None:
    # Well-formed for the tool, refused by the API: a name of blanks only.
    error = await failure(
        mcp_session,
        "create_slice",
        {"name": "   ", "dataset": DEMO_DATASET_UID},
    )
    assert error["type"] == "validation"
    assert error["status"] == 400
    assert "name" in error["fields"]


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"field": "key", "op": "exists", "value": True}
    for _ in range(depth - 1):
        node = {"not": node}
    return node


@pytest.mark.parametrize(
    ("bad_filter", "problem"),
    [
        (_nested(9), "nested deeper than 8 levels"),
        (
            {"or": [{"field": "key", "op": "eq", "value": str(n)} for n in range(65)]},
            "or[64]: filter has more than 64 conditions",
        ),
        ({"field": "key", "op": "eq", "value": "x" * 1025}, "1027 bytes, over 1024"),
    ],
)
async def test_filters_past_the_bounds_are_refused_before_any_request(
    mcp_session: Client, bad_filter: dict[str, Any], problem: str
) -> None:
    error = await failure(
        mcp_session,
        "create_slice",
        {"name": "Too big", "dataset": DEMO_DATASET_UID, "filter": bad_filter},
    )
    assert error["type"] == "invalid_input"
    assert error["status"] is None
    assert any(problem in message for message in error["fields"]["filter"])


async def test_filters_at_the_bounds_are_accepted(mcp_session: Client) -> None:
    created = await success(
        mcp_session,
        "create_slice",
        {"name": "Deep enough", "dataset": DEMO_DATASET_UID, "filter": _nested(8)},
    )
    assert created["item_count"] == 0  # seven 'not's around a condition every item meets


async def test_a_dataset_of_another_owner_is_not_listed_as_the_owners(
    mcp_session: Client,
) -> None:
    error = await failure(
        mcp_session, "list_slices", {"owner": "globex", "dataset": DEMO_DATASET_UID}
    )
    assert error["type"] == "invalid_input"
    assert error["fields"] == {
        "dataset": [f"this dataset's slices belong to '{DEMO_ORG}', not 'globex'"]
    }
    assert error["hint"] == f"call list_slices(owner='{DEMO_ORG}', dataset='{DEMO_DATASET_UID}')"


async def test_not_found_names_the_slice_and_the_next_call(mcp_session: Client) -> None:
    error = await failure(mcp_session, "get_slice", {"owner": DEMO_ORG, "slug": "x"})
    assert error["type"] == "not_found"
    assert error["status"] == 404
    assert error["message"] == f"no slice 'x' for owner '{DEMO_ORG}'"
    assert error["hint"] == f"call list_slices(owner='{DEMO_ORG}') to see its slugs"

    error = await failure(mcp_session, "list_slices", {"owner": "nobody-here"})
    assert error["type"] == "not_found"
    assert "nobody-here" in error["message"]

    unknown = "00000000-0000-4000-8000-000000000000"
    for tool, arguments in [
        ("list_slices", {"owner": DEMO_ORG, "dataset": unknown}),
        ("create_slice", {"name": "Orphan", "dataset": unknown}),
    ]:
        error = await failure(mcp_session, tool, arguments)
        assert error["type"] == "not_found"
        assert error["message"] == f"no dataset '{unknown}'"
        assert "list_datasets" in error["hint"]


async def test_forbidden_for_another_organization(mcp_session: Client) -> None:
    error = await failure(mcp_session, "get_slice", {"owner": OTHER_ORG, "slug": OTHER_SLICE_SLUG})
    assert error["type"] == "forbidden"
    assert error["status"] == 403
    assert error["hint"]


async def test_conflict_on_a_duplicate_name(mcp_session: Client) -> None:
    error = await failure(
        mcp_session, "create_slice", {"name": DEMO_SLICE_NAME, "dataset": DEMO_DATASET_UID}
    )
    assert error["type"] == "conflict"
    assert error["status"] == 409
    assert "validate_slice_name" in error["hint"]


async def test_unauthorized_with_a_bad_key(local_app: Starlette, mode: str) -> None:
    async with Client(local_server(local_app, "not-a-valid-key"), mode=mode) as client:
        error = await failure(client, "list_slices", {"owner": DEMO_ORG})
    assert error["type"] == "unauthorized"
    assert error["status"] == 401
    assert "AVALA_API_KEY" in error["hint"]


async def test_rate_limited(local_db_path: Path, local_api_key: str, mode: str) -> None:
    app = create_app(local_db_path, api_key=local_api_key, rate_limit=2)
    try:
        async with Client(local_server(app, local_api_key), mode=mode) as client:
            errors = [
                (await client.call_tool("list_slices", {"owner": DEMO_ORG})).structured_content
                for _ in range(3)
            ]
    finally:
        close_app(app)
    assert errors[-1] is not None
    error = errors[-1]["error"]
    assert error["type"] == "rate_limited"
    assert error["status"] == 429
    assert error["retryable"] is True
    assert error["retry_after"] > 0


def _faulty(app: Starlette, fault: list[str]) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """``app``, except while ``fault`` holds "500" (answer 500) or "crash" (raise)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if fault == ["crash"]:
            raise RuntimeError("internal detail that must stay in the server's log")
        if fault == ["500"]:
            await send_json(send, 500, {"detail": "database exploded"})
            return
        await app(scope, receive, send)

    return wrapped


async def test_server_error_and_unexpected_exceptions_keep_the_session(
    local_app: Starlette, local_api_key: str, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    fault: list[str] = []
    server = build_server(
        local_settings(local_api_key),
        transport=httpx.ASGITransport(app=_faulty(local_app, fault)),
    )
    async with Client(server, mode=mode) as client:
        fault[:] = ["500"]
        error = await failure(client, "get_slice", NIGHT)
        assert error["type"] == "server_error"
        assert error["status"] == 500

        fault[:] = ["crash"]
        error = await failure(client, "get_slice", NIGHT)
        assert error["type"] == "server_error"
        assert error["status"] is None
        assert "internal detail" not in json.dumps(error)
        assert error["message"] == "unexpected error in the server; the details are in its log"

        fault.clear()
        assert (await success(client, "get_slice", NIGHT))["slug"] == DEMO_SLICE_SLUG
    # The detail goes to the log (stderr), not to the client.
    assert "internal detail that must stay in the server's log" in caplog.text


async def test_network_failure(mode: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    server = build_server(local_settings("key"), transport=httpx.MockTransport(refuse))
    async with Client(server, mode=mode) as client:
        error = await failure(client, "list_slices", {"owner": DEMO_ORG})
    assert error["type"] == "network"
    assert error["retryable"] is True
    assert error["status"] is None


async def test_unknown_tool_is_a_structured_failure(mcp_session: Client) -> None:
    error = await failure(mcp_session, "drop_everything", {})
    assert error["type"] == "invalid_input"
    assert "list_slices" in error["hint"]


async def test_invalid_input_is_caught_before_any_request(
    local_app: Starlette, local_api_key: str, mode: str
) -> None:
    requests: list[str] = []

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        requests.append(scope["path"])
        await local_app(scope, receive, send)

    server = build_server(
        local_settings(local_api_key), transport=httpx.ASGITransport(app=counting)
    )
    async with Client(server, mode=mode) as client:
        for tool, arguments in [
            ("list_slices", {"owner": "../admin"}),
            ("delete_slice", {"owner": DEMO_ORG, "slug": "x/y", "confirm": "acme-ai/x/y"}),
            ("create_slice", {"name": "x", "dataset": DEMO_DATASET_UID, "filter": {"op": "eq"}}),
        ]:
            assert (await failure(client, tool, arguments))["type"] == "invalid_input"
    assert requests == []
