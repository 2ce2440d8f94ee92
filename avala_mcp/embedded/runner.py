"""Serving the embedded API with uvicorn: the ``avala-mcp api`` command, and a background server."""

from __future__ import annotations

import argparse
import contextlib
import copy
import secrets
import socket
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import uvicorn
import uvicorn.config
from starlette.types import ASGIApp

from avala_mcp.embedded.app import BASE_PATH, create_app
from avala_mcp.embedded.paths import default_db_path
from avala_mcp.embedded.seed import DEMO_USER
from avala_mcp.embedded.store import StoreError
from avala_mcp.net import bind, is_loopback, origin, server_config
from avala_mcp.settings import ApiSettings, ConfigError


def base_url(sock: socket.socket) -> str:
    """The API's base URL on a bound socket."""
    return f"{origin(sock)}{BASE_PATH}"


def _log_config(secrets: Iterable[str | None]) -> dict[str, Any]:
    """uvicorn's logging, with access lines on stderr too (its default puts them on stdout) and
    ``secrets`` redacted from every line (a key a caller put in a URL shows in its access line)."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {
        "redact": {"()": "avala_mcp.logs.RedactingFilter", "secrets": list(secrets)}
    }
    for handler in config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
        handler["filters"] = ["redact"]
    return config


def _server(
    app: ASGIApp,
    log_level: str,
    *,
    access_log: bool = False,
    secrets: Iterable[str | None] = (),
    trusted_proxies: Sequence[str] = (),
) -> uvicorn.Server:
    config = server_config(
        app,
        trusted_proxies=trusted_proxies,
        log_level=log_level,
        lifespan="on",
        access_log=access_log,
        log_config=_log_config(secrets),
    )
    return uvicorn.Server(config)


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` under uvicorn in a background thread; yield its base URL; stop it on exit."""
    sock = bind(host, port)
    server = _server(app, "warning")
    # uvicorn installs signal handlers only on the main thread, so this one leaves them alone.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="avala-local-api", daemon=True
    )
    thread.start()
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def api_command(args: argparse.Namespace) -> int:
    """``avala-mcp api``: serve the embedded Slices API over HTTP until interrupted."""
    db_path = args.db or default_db_path()
    try:
        settings = ApiSettings.from_env(api_key=args.api_key)
    except ConfigError as error:
        print(f"avala-mcp api: {error}", file=sys.stderr)
        return 2
    log_level = settings.log_level.lower()
    key = settings.api_key
    generated = key is None
    if key is None:
        key = secrets.token_urlsafe(24)
    try:
        app = create_app(db_path, api_key=key, rate_limit=args.rate_limit)
    except (StoreError, OSError) as error:
        print(f"avala-mcp api: {error}", file=sys.stderr)
        return 1
    try:
        sock = bind(args.host, args.port)
    except OSError as error:
        print(f"avala-mcp api: cannot bind {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    if not is_loopback(args.host):
        print(
            f"avala-mcp api: warning: binding {args.host}, reachable from other machines; "
            "anyone with the API key can read and change this database",
            file=sys.stderr,
        )
    if generated:
        print(f"avala-mcp api: API key of user {DEMO_USER!r}: {key}", file=sys.stderr)
    elif settings.key_from_environment:
        # Said aloud: a user's real cloud key, exported for other tools, now also opens this API.
        print(
            f"avala-mcp api: the key in AVALA_API_KEY is now a key of user {DEMO_USER!r} here",
            file=sys.stderr,
        )
    print(f"avala-mcp api: database {db_path}", file=sys.stderr)
    print(f"avala-mcp api: serving {base_url(sock)}", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        # A development server shows each request at INFO, its default here;
        # AVALA_MCP_LOG_LEVEL=WARNING (or above) keeps it quiet.
        server = _server(
            app,
            log_level,
            access_log=log_level in ("debug", "info"),
            secrets=[key],
            trusted_proxies=settings.trusted_proxies,
        )
        server.run(sockets=[sock])
    sock.close()
    return 0
