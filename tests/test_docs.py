"""docs/contracts.md keeps up with the code: every name a user relies on appears in it.

Each name is looked for in backticks, as the document writes names, so a word that merely occurs
in prose (``network``, ``conflict``) does not count as documenting it.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from mcp import Client

from avala_mcp import settings
from avala_mcp.client import errors
from avala_mcp.server import build_server
from avala_mcp.server.catalog import TOOLS
from avala_mcp.server.prompts import PROMPTS
from avala_mcp.settings import Settings

ROOT = Path(__file__).parents[1]
CONTRACTS = ROOT / "docs" / "contracts.md"
_ENV_NAME = re.compile(r"AVALA_[A-Z0-9_]+")


def _contracts() -> str:
    return CONTRACTS.read_text(encoding="utf-8")


def _undocumented(names: set[str]) -> list[str]:
    text = _contracts()
    return sorted(name for name in names if f"`{name}`" not in text)


def test_every_tool_and_prompt_is_documented() -> None:
    names = {spec.name for spec in TOOLS} | {spec.name for spec in PROMPTS}
    assert len(names) == len(TOOLS) + len(PROMPTS) >= 8
    assert _undocumented(names) == []


@pytest.mark.anyio
async def test_every_resource_template_is_documented() -> None:
    # The templates as a real client lists them, so a new one cannot be missed. Listing them
    # makes no API request, so no API needs to run.
    server = build_server(Settings(api_key="docs-test-key"))
    async with Client(server) as client:
        templates = (await client.list_resource_templates()).resource_templates
    uris = {template.uri_template for template in templates}
    assert "avala://slices/{owner}/{slug}" in uris
    assert _undocumented(uris) == []


def test_every_environment_variable_in_settings_is_documented() -> None:
    # The variables settings.py reads are the string constants that are exactly a variable name;
    # the ones inside its error messages are parts of longer strings.
    tree = ast.parse(inspect.getsource(settings))
    variables = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _ENV_NAME.fullmatch(node.value)
    }
    assert {"AVALA_API_KEY", "AVALA_TIMEOUT", "AVALA_MCP_OWNER"} <= variables
    assert _undocumented(variables) == []


def test_every_failure_type_is_documented() -> None:
    types = {
        error_class.type
        for error_class in vars(errors).values()
        if isinstance(error_class, type) and issubclass(error_class, errors.AvalaError)
    }
    assert {"invalid_input", "confirmation_required", "server_error"} <= types
    assert _undocumented(types) == []


def test_the_readme_links_to_the_contracts() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/contracts.md)" in readme
