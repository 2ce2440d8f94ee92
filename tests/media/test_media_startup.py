"""Start-up does not pay for images: ``serve --local`` never imports Pillow.

A real MCP client drives a fresh ``python -X importtime -m avala_mcp serve --local`` through its
start-up, a tool listing and a page of demo items (whose media URLs that builds); the import
log shows every module the process loaded, and PIL is not among them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from avala_mcp.embedded.seed import DEMO_ORG, DEMO_SLICE_SLUG

pytestmark = pytest.mark.anyio


def imported_modules(importtime_log: str) -> set[str]:
    """The modules named by ``-X importtime`` lines."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in importtime_log.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


async def test_serve_local_never_imports_pillow(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-X",
            "importtime",
            "-m",
            "avala_mcp",
            "serve",
            "--local",
            "--db",
            str(tmp_path / "a.db"),
        ],
        env=env,
    )
    log_path = tmp_path / "stderr.log"
    with log_path.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert "show_items" in tools
            page = await client.call_tool(
                "list_slice_items", {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "limit": 3}
            )
    assert not page.is_error
    assert "http://127.0.0.1/api/v1/media/" in str(page.structured_content)
    modules = imported_modules(log_path.read_text())
    assert "avala_mcp.embedded.responses" in modules  # the log is the full one
    # show_items is loaded; what fetches images (httpcore with it) and decodes them is not.
    assert "avala_mcp.server.gallery" in modules
    assert "avala_mcp.client.media" not in modules
    assert not {name for name in modules if name == "PIL" or name.startswith("PIL.")}
    assert "avala_mcp.embedded.media.frames" not in modules
