"""The whole tool surface, as clients see it, against a committed snapshot; and the README table.

After an intended change, regenerate both with ``UPDATE_SNAPSHOTS=1 python -m pytest
tests/server/test_surface.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from avala_mcp.server.catalog import tools_markdown

pytestmark = pytest.mark.anyio

SNAPSHOT = Path(__file__).with_name("tool_surface.json")
README = Path(__file__).parents[2] / "README.md"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
TOOLS_SECTION = re.compile(r"(<!-- tools:start -->\n).*?(\n<!-- tools:end -->)", re.DOTALL)


async def test_tool_surface_matches_the_snapshot(mcp_session: Client) -> None:
    tools = (await mcp_session.list_tools()).tools
    surface: list[dict[str, Any]] = [
        tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools
    ]
    if UPDATE:
        SNAPSHOT.write_text(json.dumps(surface, indent=2, sort_keys=True) + "\n")
    assert surface == json.loads(SNAPSHOT.read_text()), "tool surface changed: see the docstring"


async def test_every_tool_carries_all_four_hints(mcp_session: Client) -> None:
    for tool in (await mcp_session.list_tools()).tools:
        assert tool.title
        assert tool.annotations is not None
        hints = tool.annotations.model_dump(by_alias=True)
        for hint in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"):
            assert isinstance(hints[hint], bool), (tool.name, hint)


async def test_instructions_explain_the_domain(mcp_session: Client) -> None:
    instructions = mcp_session.instructions
    assert instructions is not None
    for needed in ("owner", "slug", "filter", "validate_slice_name", "next_cursor", "hint"):
        assert needed in instructions


def test_readme_tool_table_is_rendered_from_the_catalog() -> None:
    readme = README.read_text()
    if UPDATE:
        readme = TOOLS_SECTION.sub(lambda m: m[1] + tools_markdown() + m[2], readme)
        README.write_text(readme)
    section = TOOLS_SECTION.search(readme)
    assert section is not None, "README lacks the <!-- tools:start --> ... end markers"
    assert section[0] == f"<!-- tools:start -->\n{tools_markdown()}\n<!-- tools:end -->"
