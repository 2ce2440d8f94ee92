"""A session key (``serve --local``) works while its app runs and is never stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from mcp import Client
from starlette.applications import Starlette

from avala_mcp.cli import build_parser
from avala_mcp.commands.serve import load_settings, open_server
from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.seed import DEMO_ORG, DEMO_SLICE_SLUG
from avala_mcp.embedded.store import hash_key

pytestmark = pytest.mark.anyio

SESSION_KEY = "session-key-4b0e9d"


def stored_key_hashes(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        hashes = [row[0] for row in conn.execute("SELECT key_hash FROM api_keys")]
    conn.close()
    return hashes


async def _status(app: Starlette, key: str) -> int:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver/api/v1",
        headers={"X-Avala-Api-Key": key},
    ) as client:
        return (await client.get(f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/")).status_code


async def test_a_session_key_is_valid_only_while_its_app_lives(local_db_path: Path) -> None:
    before = stored_key_hashes(local_db_path)
    app = create_app(local_db_path, session_key=SESSION_KEY)
    try:
        assert await _status(app, SESSION_KEY) == 200
        assert stored_key_hashes(local_db_path) == before
    finally:
        close_app(app)
    assert hash_key(SESSION_KEY) not in stored_key_hashes(local_db_path)
    later = create_app(local_db_path)
    try:
        assert await _status(later, SESSION_KEY) == 401
    finally:
        close_app(later)


async def test_serve_local_leaves_no_key_behind(local_db_path: Path) -> None:
    before = stored_key_hashes(local_db_path)
    args = build_parser().parse_args(["serve", "--local", "--db", str(local_db_path)])
    for _ in range(3):
        settings = load_settings(args, {})
        with open_server(args, settings) as server:
            async with Client(server) as client:
                result = await client.call_tool(
                    "get_slice", {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG}
                )
            assert not result.is_error
        assert settings.api_key is not None
        assert hash_key(settings.api_key) not in stored_key_hashes(local_db_path)
    assert stored_key_hashes(local_db_path) == before


def test_an_api_key_is_stored_for_later_apps(local_db_path: Path) -> None:
    # ``avala-mcp api --api-key`` keeps its key across restarts, by design.
    close_app(create_app(local_db_path, api_key=SESSION_KEY))
    assert hash_key(SESSION_KEY) in stored_key_hashes(local_db_path)
