"""The package uses only the MCP SDK's public API, so a 2.x minor release cannot break it.

Our range is ``mcp>=2.3,<3``. The SDK marks what it may change: modules and names starting with
``_``, and internals such as ``mcp.server.mcpserver.utilities`` (argument models), ``.resolve``
(resolver plans), ``.tools`` (``Tool``, "internal registration info") and the ``Prompt`` and
``PromptArgument`` classes of ``.prompts``. The source is read with ``ast``: nothing is imported.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp.server.mcpserver import MCPServer

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "avala_mcp"
SDK_PACKAGES = frozenset({"mcp", "mcp_types"})

# Importing from these (or from modules below them) is using the SDK's internals.
INTERNAL_MODULES = (
    "mcp.server.mcpserver.utilities",
    "mcp.server.mcpserver.resolve",
    "mcp.server.mcpserver.tools",
    "mcp.server.mcpserver.prompts",  # its public names are exported by mcp.server.mcpserver
)
# Internal wherever they are imported from.
INTERNAL_NAMES = frozenset(
    {"ArgModelBase", "FuncMetadata", "find_resolved_parameters", "build_resolver_plans"}
)
# Internal when imported from mcp.server.mcpserver (mcp.types.Tool is the wire type: public).
INTERNAL_SERVER_NAMES = frozenset({"Tool", "Prompt", "PromptArgument"})

# The one module that registers tools, so that none is registered around the call guard.
TOOL_REGISTRATION = PACKAGE / "server" / "tools.py"


def _is_sdk(module: str) -> bool:
    return module.split(".")[0] in SDK_PACKAGES


def _internal_module(module: str) -> bool:
    return any(part.startswith("_") for part in module.split(".")) or any(
        module == internal or module.startswith(internal + ".") for internal in INTERNAL_MODULES
    )


def sdk_privates() -> frozenset[str]:
    """MCPServer's private attributes and methods: what a subclass must neither use nor reuse."""
    server = MCPServer("probe")
    names = {*vars(server), *dir(MCPServer)}
    return frozenset(n for n in names if n.startswith("_") and not n.startswith("__"))


def violations(source: str, filename: str, privates: frozenset[str] = frozenset()) -> Iterator[str]:
    """Each use of the SDK's internals in ``source``: what, and on which line."""
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_sdk(alias.name) and _internal_module(alias.name):
                    yield f"{where}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module and _is_sdk(node.module):
            module = node.module
            if _internal_module(module):
                yield f"{where}: from {module} import ..."
                continue
            for alias in node.names:
                if (
                    alias.name.startswith("_")
                    or alias.name in INTERNAL_NAMES
                    or (
                        module.startswith("mcp.server.mcpserver")
                        and alias.name in INTERNAL_SERVER_NAMES
                    )
                ):
                    yield f"{where}: from {module} import {alias.name}"
        elif isinstance(node, ast.Attribute) and node.attr in privates:
            yield f"{where}: .{node.attr} (private to MCPServer)"


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", package_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_uses_only_the_public_sdk(path: Path) -> None:
    found = list(violations(path.read_text(), str(path.relative_to(ROOT)), sdk_privates()))
    assert not found, "private SDK API in use:\n" + "\n".join(found)


OLD_APP = """
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument
from mcp.server.mcpserver.resolve import build_resolver_plans, find_resolved_parameters
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.shared._callable_inspection import is_async_callable
from mcp.server.mcpserver import _version_gated
from mcp_types._types import Tool as WireTool
import mcp.server._otel
from mcp.types import Tool, CallToolResult
from mcp.server.mcpserver import MCPServer, Resolve

def f(server):
    return server._tool_manager.list_tools()
"""


def test_the_check_sees_each_kind_of_internal_use() -> None:
    # The imports app.py once made, and the other forms: each must be caught, once.
    found = list(violations(OLD_APP, "old.py", sdk_privates()))
    assert [line.split(": ", 1)[1] for line in found] == [
        "from mcp.server.mcpserver.prompts.base import ...",
        "from mcp.server.mcpserver.resolve import ...",
        "from mcp.server.mcpserver.tools import ...",
        "from mcp.server.mcpserver.utilities.func_metadata import ...",
        "from mcp.shared._callable_inspection import ...",
        "from mcp.server.mcpserver import _version_gated",
        "from mcp_types._types import ...",
        "import mcp.server._otel",
        "._tool_manager (private to MCPServer)",
    ]


def test_tools_are_registered_in_one_place() -> None:
    # Every tool registered through tools.register_tools passes AvalaServer.call_tool's guard
    # the same way; a tool registered elsewhere could be declared without its catalog entry.
    registering = {
        str(path.relative_to(ROOT))
        for path in package_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in {"add_tool", "tool"}
    }
    assert registering == {str(TOOL_REGISTRATION.relative_to(ROOT))}


def test_the_sdk_range_stays_within_one_major_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "mcp>=2.3,<3" in project["dependencies"]
