"""SSE and streamable HTTP (stateful and stateless), in both protocol eras, against uvicorn on
127.0.0.1: the app ``avala-mcp serve --local --transport ...`` builds, driven by real MCP clients.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Generator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import canaries
import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client, MCPError
from mcp.client.session import ClientRequestContext
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.transport_security import TransportSecurityMiddleware
from mcp.types import ElicitRequestParams, ElicitResult
from starlette.types import ASGIApp
from transport_checks import ALL_TOOLS, WRITE_TOOLS, check_session

from avala_mcp.cli import build_parser
from avala_mcp.commands.serve import create_http_app, load_settings, open_server
from avala_mcp.embedded.seed import DEMO_DATASET_UID as UID
from avala_mcp.embedded.seed import DEMO_ORG, DEMO_SLICE_SLUG
from avala_mcp.server.http import MCP_PATHS, transport_security

pytestmark = pytest.mark.anyio

TOKEN = canaries.BEARER_TOKEN
TRANSPORTS = [
    pytest.param("streamable-http", [], id="streamable-http"),
    pytest.param("streamable-http", ["--stateless"], id="streamable-http-stateless"),
    pytest.param("sse", [], id="sse"),
]


@asynccontextmanager
async def running(
    db_path: Path, transport: str, *flags: str, environ: dict[str, str] | None = None
) -> AsyncIterator[str]:
    """Serves exactly the app of ``avala-mcp serve --local --db DB --transport T FLAGS`` with
    uvicorn on an ephemeral loopback port; yields its base URL."""
    argv = ["serve", "--local", "--db", str(db_path), "--transport", transport, *flags]
    args = build_parser().parse_args(argv)
    settings = load_settings(args, environ or {})
    with open_server(args, settings) as server:
        async with _uvicorn(create_http_app(args, settings, server)) as base:
            yield base


@asynccontextmanager
async def _uvicorn(app: ASGIApp) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await anyio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True


def connect(
    base_url: str, transport: str, token: str | None = None
) -> AbstractAsyncContextManager[Any]:
    """The SDK client transport for ``transport``, sending ``token`` as a bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = base_url + MCP_PATHS[transport]
    if transport == "sse":
        return sse_client(url, headers=headers)
    return _streamable(url, headers)


@asynccontextmanager
async def _streamable(url: str, headers: dict[str, str]) -> AsyncIterator[Any]:
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "avala.db"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize(("transport", "flags"), TRANSPORTS)
async def test_tools_failures_and_confirmed_delete_over_http(
    db_path: Path, transport: str, flags: list[str], mode: str
) -> None:
    async with (
        running(db_path, transport, *flags) as base,
        Client(connect(base, transport), mode=mode, elicitation_callback=_yes) as client,
    ):
        await check_session(client)

        target = {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG}
        with anyio.fail_after(30):  # a lost confirmation round-trip must fail, not hang
            deleted = await client.call_tool("delete_slice", target)
            if deleted.is_error and flags == ["--stateless"] and mode == "legacy":
                # No back channel to ask on: the documented fallback is an explicit confirm.
                assert deleted.structured_content is not None
                assert deleted.structured_content["error"]["type"] == "confirmation_required"
                confirm = f"{DEMO_ORG}/{DEMO_SLICE_SLUG}"
                deleted = await client.call_tool("delete_slice", {**target, "confirm": confirm})
        assert not deleted.is_error
        assert deleted.structured_content == {"deleted": True, **target}


async def _yes(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": True})


@pytest.mark.parametrize(("transport", "flags"), TRANSPORTS)
async def test_read_only_offers_no_write_tool(
    db_path: Path, transport: str, flags: list[str]
) -> None:
    async with (
        running(db_path, transport, *flags, "--read-only") as base,
        Client(connect(base, transport)) as client,
    ):
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == ALL_TOOLS - WRITE_TOOLS
        attempt = await client.call_tool("create_slice", {"name": "Sneaky", "dataset": UID})
        assert attempt.is_error


async def _mcp_post(base: str, **headers: str) -> httpx.Response:
    """A well-formed MCP initialize request with the given headers."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        },
    }
    async with httpx.AsyncClient() as http:
        return await http.post(
            base + MCP_PATHS["streamable-http"],
            json=body,
            headers={"Accept": "application/json, text/event-stream", **headers},
        )


@pytest.fixture
def token_env() -> dict[str, str]:
    return {"AVALA_MCP_AUTH_TOKEN": TOKEN}


class _TokenUnlessCreating(httpx2.Auth):
    """The right token on every request except one that creates a slice, which gets a wrong one."""

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response]:
        creating = b'"create_slice"' in request.content
        request.headers["Authorization"] = f"Bearer {'wrong' if creating else TOKEN}"
        yield request


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_bearer_token_guards_every_mcp_request(
    db_path: Path, token_env: dict[str, str], mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(db_path, "streamable-http", environ=token_env) as base:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            refused = await _mcp_post(base, **headers)
            assert refused.status_code == 401
            assert refused.headers["WWW-Authenticate"] == "Bearer"
        accepted = await _mcp_post(base, Authorization=f"Bearer {TOKEN}")
        assert accepted.status_code == 200

        url = base + MCP_PATHS["streamable-http"]
        async with (
            httpx2.AsyncClient(auth=_TokenUnlessCreating()) as http,
            Client(streamable_http_client(url, http_client=http), mode=mode) as client,
        ):
            assert not (await client.call_tool("list_slices", {"owner": DEMO_ORG})).is_error
            with pytest.raises(MCPError):
                await client.call_tool("create_slice", {"name": "Sneaky", "dataset": UID})

        async with Client(connect(base, "streamable-http", TOKEN)) as client:
            check = await client.call_tool(
                "validate_slice_name", {"name": "Sneaky", "dataset": UID}
            )
            assert check.structured_content is not None
            assert check.structured_content["valid"] is True, "the refused create ran anyway"
    assert caplog.records, "DEBUG logging captured nothing"
    assert TOKEN not in caplog.text


async def test_bearer_token_over_sse(db_path: Path, token_env: dict[str, str]) -> None:
    async with running(db_path, "sse", environ=token_env) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/sse")).status_code == 401
            message = await http.post("/messages/?session_id=x", json={})
            assert message.status_code == 401
        async with Client(connect(base, "sse", TOKEN)) as client:
            assert not (await client.call_tool("list_slices", {"owner": DEMO_ORG})).is_error


async def test_sse_server_stops_quietly_with_a_client_connected(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with httpx.AsyncClient() as http, AsyncExitStack() as open_streams:  # noqa: SIM117
        # The stream's context outlives the server's: the server stops with the stream open.
        async with running(db_path, "sse") as base:
            url = base + MCP_PATHS["sse"]
            stream = await open_streams.enter_async_context(http.stream("GET", url))
            assert stream.status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_healthz_is_public(db_path: Path, token_env: dict[str, str]) -> None:
    async with (
        running(db_path, "streamable-http", environ=token_env) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        health = await http.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Host": "evil.example"}, 421),
        ({"Host": "evil.example:8000"}, 421),
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "http://localhost:3000"}, 200),
    ],
)
async def test_dns_rebinding_protection(
    db_path: Path, token_env: dict[str, str], headers: dict[str, str], status: int
) -> None:
    async with running(db_path, "streamable-http", environ=token_env) as base:
        response = await _mcp_post(base, Authorization=f"Bearer {TOKEN}", **headers)
        assert response.status_code == status


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"Host": "evil.example"}, 421), ({"Origin": "http://evil.example"}, 403)],
)
async def test_dns_rebinding_protection_over_sse(
    db_path: Path, headers: dict[str, str], status: int
) -> None:
    async with (
        running(db_path, "sse") as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        assert (await http.get("/sse", headers=headers)).status_code == status
        message = await http.post("/messages/?session_id=x", json={}, headers=headers)
        assert message.status_code == status


async def test_non_loopback_bind_accepts_its_own_address_only(
    db_path: Path, token_env: dict[str, str]
) -> None:
    # Built for 192.0.2.10 but served on loopback: the Host check alone decides.
    auth = f"Bearer {TOKEN}"
    host = ("--host", "192.0.2.10")
    async with running(db_path, "streamable-http", *host, environ=token_env) as base:
        own = await _mcp_post(base, Authorization=auth, Host="192.0.2.10:8000")
        foreign = await _mcp_post(base, Authorization=auth, Host="203.0.113.5:8000")
    assert own.status_code == 200
    assert foreign.status_code == 421


@pytest.mark.parametrize(
    ("bind", "accepted", "refused"),
    [
        ("127.0.0.1", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000"], ["192.0.2.10:8000"]),
        ("::1", ["[::1]:8000", "localhost"], ["[::2]:8000"]),
        ("192.0.2.10", ["192.0.2.10:8000", "127.0.0.1:8000"], ["192.0.2.11:8000"]),
        ("0.0.0.0", [f"{socket.gethostname()}:8000", "localhost:8000"], ["evil.example"]),
    ],
)
def test_allowed_hosts_follow_the_bind_address(
    bind: str, accepted: list[str], refused: list[str]
) -> None:
    checker = TransportSecurityMiddleware(transport_security(bind))
    for host in accepted:
        assert checker._validate_host(host), host
    for host in refused:
        assert not checker._validate_host(host), host
