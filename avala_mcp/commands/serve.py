"""``avala-mcp serve``: settings, logging, the server, and the chosen transport.

Claude Desktop spawns this at every start, so the embedded API and uvicorn are imported only
when the chosen mode needs them. The steps are separate functions so tests can build exactly
what the command runs, minus the process-wide parts (logging, uvicorn's own loop).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from avala_mcp.logs import configure_logging
from avala_mcp.redaction import Redactor
from avala_mcp.settings import ConfigError, Settings, secrets_given

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from starlette.types import ASGIApp

logger = logging.getLogger(__name__)

# The embedded API is reached through an in-process ASGI transport, so this host is never
# resolved or connected to; it only has to be a loopback URL the client accepts.
LOCAL_BASE_URL = "http://127.0.0.1/api/v1"


def serve_command(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """Run the MCP server until the client disconnects or the process is interrupted."""
    environ = os.environ if environ is None else environ
    try:
        settings = load_settings(args, environ)
        # Before the server exists: the SDK's own logging setup is then a no-op.
        configure_logging(settings.log_level, secrets=[settings.api_key, settings.auth_token])
        check_startup(args, settings)
        with open_server(args, settings) as server:
            if args.transport == "stdio":
                server.run()
            else:
                run_http(create_http_app(args, settings, server), args, settings)
    except ConfigError as exc:
        redactor = Redactor(secrets_given(environ))
        print(f"avala-mcp: {redactor.text(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def load_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """Flags win over the environment; ``--local`` brings its own key and base URL."""
    # None means "not given", so the environment's value stays.
    overrides: dict[str, Any] = {"read_only": args.read_only, "db_path": args.db}
    if args.local:
        # A fresh key per process: nothing outside this process can use the embedded API.
        overrides["api_key"] = secrets.token_urlsafe(32)
        overrides["base_url"] = LOCAL_BASE_URL
    return Settings.from_env(environ=environ, **overrides)


def check_startup(args: argparse.Namespace, settings: Settings) -> None:
    """Refuse to start without a key, or on a non-loopback address without a bearer token that
    is hard to guess; warn about flags that the chosen mode ignores."""
    settings.require_api_key()
    if args.transport != "stdio":
        settings.check_bind(args.host)
    # Warnings last, so that a refusal stays the only line.
    if args.db is not None and not args.local:
        logger.warning("--db is used only with --local; ignoring it")
    if args.stateless and args.transport != "streamable-http":
        logger.warning("--stateless applies only to --transport streamable-http; ignoring it")


@contextmanager
def open_server(args: argparse.Namespace, settings: Settings) -> Iterator[MCPServer[Any]]:
    """The MCP server; with ``--local``, against the embedded API called in-process (no port is
    opened), whose database is closed on exit."""
    from avala_mcp.server import build_server

    if not args.local:
        yield build_server(settings)
        return
    import sqlite3

    import httpx

    from avala_mcp.embedded import close_app, create_app, default_db_path
    from avala_mcp.embedded.store import StoreError

    db_path = settings.db_path or default_db_path()
    try:
        # A session key: valid while this process runs, never written to the database.
        app = create_app(db_path, session_key=settings.require_api_key())
    except (OSError, sqlite3.Error, StoreError) as exc:
        raise ConfigError(f"cannot open the embedded API's database {db_path}: {exc}") from None
    logger.info("embedded Slices API in-process, database %s", db_path)
    try:
        yield build_server(settings, transport=httpx.ASGITransport(app=app))
    finally:
        close_app(app)


def create_http_app(
    args: argparse.Namespace, settings: Settings, server: MCPServer[Any]
) -> ASGIApp:
    """The ASGI app of ``--transport sse|streamable-http``."""
    from avala_mcp.server.http import build_http_app

    return build_http_app(
        server,
        args.transport,
        host=args.host,
        stateless=args.stateless,
        auth_token=settings.auth_token,
        limits=settings.limits,
    )


def run_http(app: ASGIApp, args: argparse.Namespace, settings: Settings) -> None:
    """Serve ``app`` with uvicorn until interrupted."""
    import uvicorn

    from avala_mcp.net import bind, origin, server_config
    from avala_mcp.server.http import MCP_PATHS

    try:
        sock = bind(args.host, args.port)
    except OSError as error:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {error}") from None
    token_note = "bearer token required" if settings.auth_token else "no bearer token"
    # The bound port, so that --port 0 says where it is listening.
    print(
        f"avala-mcp: MCP over {args.transport} at {origin(sock)}"
        f"{MCP_PATHS[args.transport]} ({token_note}; health: /healthz)",
        file=sys.stderr,
        flush=True,
    )
    config = server_config(
        app,
        trusted_proxies=settings.trusted_proxies,
        # Logging is already configured: uvicorn's own config would add handlers on stdout and
        # reset the levels that keep per-request lines quiet.
        log_config=None,
        log_level=None,
        access_log=settings.log_level == "DEBUG",
        lifespan="on",
    )
    with sock:
        uvicorn.Server(config).run(sockets=[sock])
