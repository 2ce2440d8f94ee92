"""Slice names: no control, format or separator character, refused alike by the client, the
tools and the embedded API; and a name already stored is shown escaped, never raw."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_checks import LOCAL_BASE_URL, failure, success
from test_safety import TARGET, User, create_doomed, exists

from avala_mcp.client import AvalaClient
from avala_mcp.client.errors import InvalidInputError, quoted
from avala_mcp.contract import name_problem
from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_SLICE_NAME

pytestmark = pytest.mark.anyio

# Each refused category, by one character of it.
REFUSED = {
    "\u202e": "U+202E",  # Cf: right-to-left override
    "\u200b": "U+200B",  # Cf: zero-width space
    "\ufeff": "U+FEFF",  # Cf: zero-width no-break space
    "\u2028": "U+2028",  # Zl
    "\u2029": "U+2029",  # Zp
    "\x00": "U+0000",  # Cc
    "\n": "U+000A",  # Cc
    "\x85": "U+0085",  # Cc (C1)
    "\ud800": "U+D800",  # Cs
}
# A bidi override that would show "Delete (3 items) ..." reversed: the spoof of the issue.
SPOOF = "Innocent\u202e)smeti 0 ,ai-emca/ekaf( ekaf"


@pytest.mark.parametrize(("char", "code"), REFUSED.items())
def test_refused_characters_are_named_by_code_point_never_raw(char: str, code: str) -> None:
    problem = name_problem(f"Night{char}Scenes")
    assert problem is not None
    assert code in problem
    assert char not in problem


@pytest.mark.parametrize(
    "name", ["Night Driving Scenes", "Café du Nord", "夜のシーン", "a\u00a0b", "x\ue000", "ünïcode"]
)
def test_ordinary_names_are_accepted(name: str) -> None:
    assert name_problem(name) is None


def test_quoted_shows_every_hidden_character_and_escapes_quotes() -> None:
    shown = quoted(SPOOF + "' (acme-ai/x, 1 items)")
    assert "\u202e" not in shown
    assert "<U+202E>" in shown
    assert "\\'" in shown
    assert shown.startswith("'")
    assert shown.endswith("'")
    assert len(quoted("x" * 10_000)) < 100


@pytest.mark.parametrize(("char", "code"), REFUSED.items())
async def test_the_tools_refuse_such_names(mcp_session: Client, char: str, code: str) -> None:
    name = f"Night Driving Scenes{char}"
    for tool, arguments in (
        ("create_slice", {"name": name, "dataset": DEMO_DATASET_UID}),
        ("validate_slice_name", {"name": name, "dataset": DEMO_DATASET_UID}),
    ):
        error = await failure(mcp_session, tool, arguments)
        assert error["type"] == "invalid_input"
        assert set(error["fields"]) == {"name"}
        # A lone surrogate is not text at all: refused as no valid string, before any check.
        assert code in json.dumps(error) or char == "\ud800"
        assert char not in json.dumps(error, ensure_ascii=False)


async def test_a_lookalike_of_an_existing_name_cannot_be_made(mcp_session: Client) -> None:
    lookalike = {"name": DEMO_SLICE_NAME + "\u200b", "dataset": DEMO_DATASET_UID}
    error = await failure(mcp_session, "create_slice", lookalike)
    assert error["type"] == "invalid_input"
    listed = await success(mcp_session, "list_slices", {"owner": "acme-ai", "limit": 100})
    assert [s["name"] for s in listed["slices"]].count(DEMO_SLICE_NAME) == 1
    assert not any("\u200b" in s["name"] for s in listed["slices"])


@pytest.mark.parametrize(("char", "code"), REFUSED.items())
async def test_the_client_refuses_such_names(
    local_app: Any, local_api_key: str, char: str, code: str
) -> None:
    transport = httpx.ASGITransport(app=local_app)
    async with AvalaClient(local_api_key, LOCAL_BASE_URL, transport=transport) as client:
        with pytest.raises(InvalidInputError) as raised:
            await client.create_slice(name=f"a{char}b", dataset=DEMO_DATASET_UID)
        # An invalid name is an answer with the reason, not an error.
        verdict = await client.validate_slice_name(f"a{char}b", dataset=DEMO_DATASET_UID)
    assert set(raised.value.fields or {}) == {"name"}
    assert code in raised.value.message
    assert char not in raised.value.message
    assert verdict.valid is False
    assert any(code in reason for reason in verdict.reasons)


@pytest.mark.parametrize(("char", "code"), REFUSED.items())
async def test_the_embedded_api_refuses_such_names(
    local_http: httpx.AsyncClient, char: str, code: str
) -> None:
    # Raw JSON text: a lone surrogate is sent escaped, as a client would have to.
    for path in ("slices/", "slice/validate/name"):
        body = json.dumps({"name": f"Night{char}", "dataset": DEMO_DATASET_UID})
        response = await local_http.post(
            path, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, response.text
        reasons = response.json()["name"]
        assert any(code in reason for reason in reasons)
        assert char not in response.text


async def test_a_name_stored_by_old_code_is_shown_escaped_and_can_be_deleted(
    mcp_server: MCPServer[Any], mode: str, local_db_path: Path
) -> None:
    await create_doomed(mcp_server, mode)
    with sqlite3.connect(local_db_path) as db:  # as a version without the check stored it
        db.execute("UPDATE slices SET name = ? WHERE slug = 'doomed'", (SPOOF,))
    user = User("accept", {"confirm": True})
    async with Client(mcp_server, mode=mode, elicitation_callback=user) as client:
        shown = await success(client, "get_slice", TARGET)
        assert shown["name"] == SPOOF  # data stays data
        result = await success(client, "delete_slice", TARGET)
    assert result["deleted"] is True
    [question] = user.questions
    assert "\u202e" not in question
    assert question.startswith("Delete the slice acme-ai/doomed (")
    assert "<U+202E>" in question
    assert not await exists(mcp_server, mode)


async def test_the_client_shows_a_refused_owner_or_slug_escaped(
    local_app: Any, local_api_key: str
) -> None:
    transport = httpx.ASGITransport(app=local_app)
    async with AvalaClient(local_api_key, LOCAL_BASE_URL, transport=transport) as client:
        with pytest.raises(InvalidInputError) as raised:
            await client.get_slice("acme-ai", SPOOF)
    assert "<U+202E>" in raised.value.message
    assert "\u202e" not in raised.value.message
