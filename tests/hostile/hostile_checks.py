"""Helpers of the hostile tests: the failure types, an MCP server on any API URL, and the HTTP
app of ``serve --local`` served on 127.0.0.1."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import canaries
from mcp.server.mcpserver import MCPServer

from avala_mcp.cli import build_parser
from avala_mcp.commands.serve import create_http_app, load_settings, open_server
from avala_mcp.embedded.runner import serve_in_thread
from avala_mcp.server import build_server
from avala_mcp.server.http import MCP_PATHS
from avala_mcp.settings import Settings

#: Every failure type a tool result may carry.
FAILURE_TYPES = frozenset(
    {
        "invalid_input",
        "validation",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "rate_limited",
        "server_error",
        "network",
        "read_only",
        "confirmation_required",
    }
)


def server_for(base_url: str, **overrides: Any) -> MCPServer[Any]:
    """The MCP server against the API at ``base_url`` over real HTTP, with the canary key."""
    settings = Settings(api_key=canaries.API_KEY, base_url=base_url, **overrides)
    return build_server(settings)


@contextlib.contextmanager
def serving(
    db_path: Path,
    transport: str = "streamable-http",
    *flags: str,
    environ: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Exactly the app of ``avala-mcp serve --local --db DB --transport T FLAGS`` (with
    ``environ`` as its environment), under uvicorn on an ephemeral loopback port; yields the
    URL of its MCP endpoint."""
    argv = ["serve", "--local", "--db", str(db_path), "--transport", transport, *flags]
    args = build_parser().parse_args(argv)
    settings = load_settings(args, environ or {})
    with (
        open_server(args, settings) as server,
        serve_in_thread(create_http_app(args, settings, server)) as api_url,
    ):
        yield api_url.removesuffix("/api/v1") + MCP_PATHS[transport]
