"""Load over streamable HTTP: the app ``avala-mcp serve --local --transport streamable-http``
runs, under uvicorn on 127.0.0.1, driven by real MCP clients in both protocol eras.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hostile_checks import serving
from mcp import Client
from mcp.types import CallToolResult

from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_SLICE_SLUG

pytestmark = pytest.mark.anyio

CLIENTS = 10
CALLS_PER_CLIENT = 20  # 200 calls in flight at once
SAME_NAME_CREATES = 50
# Generous: 200 calls on a loaded 2-core machine take seconds; this only catches a hang.
HANG = 120.0
NIGHT = {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "load.sqlite3"


@pytest.fixture
def mcp_url(db_path: Path) -> Iterator[str]:
    """The streamable HTTP endpoint of ``serve --local --db DB``, served on 127.0.0.1."""
    with serving(db_path) as url:
        yield url


def _call(index: int) -> tuple[str, dict[str, Any]]:
    """The index-th call of the mix: mostly reads, one write in ten."""
    mix: list[tuple[str, dict[str, Any]]] = [
        ("list_slices", {"owner": DEMO_ORG}),
        ("get_slice", NIGHT),
        ("list_slice_items", {**NIGHT, "limit": 50}),
        ("validate_slice_name", {"name": f"Load {index}", "dataset": DEMO_DATASET_UID}),
        ("list_slices", {"owner": DEMO_ORG, "dataset": DEMO_DATASET_UID, "ordering": "-name"}),
        ("list_slice_items", {**NIGHT, "detail": "full"}),
        ("get_slice", NIGHT),
        ("list_slices", {"owner": DEMO_ORG, "limit": 1}),
        ("validate_slice_name", {"name": "Night Driving Scenes"}),
        ("create_slice", {"name": f"Load {index}", "dataset": DEMO_DATASET_UID}),
    ]
    return mix[index % len(mix)]


@pytest.mark.slow
async def test_200_concurrent_calls_over_streamable_http_all_succeed(mcp_url: str) -> None:
    results: list[CallToolResult] = []

    async def one_client(number: int) -> None:
        mode = "auto" if number % 2 else "legacy"
        async with Client(mcp_url, mode=mode) as client, anyio.create_task_group() as tg:

            async def call(index: int) -> None:
                name, arguments = _call(index)
                results.append(await client.call_tool(name, arguments))

            for n in range(CALLS_PER_CLIENT):
                tg.start_soon(call, number * CALLS_PER_CLIENT + n)

    with anyio.fail_after(HANG):
        async with anyio.create_task_group() as tg:
            for number in range(CLIENTS):
                tg.start_soon(one_client, number)
    errors = [result.structured_content for result in results if result.is_error]
    assert len(results) == CLIENTS * CALLS_PER_CLIENT
    assert errors == []


async def test_50_concurrent_creates_of_one_name_make_exactly_one_slice(
    mcp_url: str, db_path: Path
) -> None:
    arguments = {"name": "Contended", "dataset": DEMO_DATASET_UID}
    results: list[CallToolResult] = []

    async def create(client: Client) -> None:
        results.append(await client.call_tool("create_slice", arguments))

    with anyio.fail_after(HANG):
        async with (
            Client(mcp_url, mode="auto") as auto,
            Client(mcp_url, mode="legacy") as legacy,
            anyio.create_task_group() as tg,
        ):
            for n in range(SAME_NAME_CREATES):
                tg.start_soon(create, auto if n % 2 else legacy)
    created = [r for r in results if not r.is_error]
    kinds = {
        r.structured_content["error"]["type"]
        for r in results
        if r.structured_content and r.is_error
    }
    assert len(results) == SAME_NAME_CREATES
    assert len(created) == 1
    assert kinds == {"conflict"}
    with sqlite3.connect(db_path) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM slices WHERE name = 'Contended'").fetchone()
    conn.close()
    assert count == 1
