"""Who a request is from, and which host it names (issue 11): any address the server binds is
accepted as its own ``Host``, and no ``X-Forwarded-For``/``-Proto`` is believed unless
``AVALA_MCP_TRUSTED_PROXIES`` names the proxy, neither by ``serve``'s HTTP transports (whose
per-client bounds it would dodge) nor by ``api`` (its rate limit, and the scheme of ``next``).
Every server here listens on a loopback address (127.0.0.0/8).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import canaries
import httpx
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from running import clean_env, started

from avala_mcp.cli import build_parser
from avala_mcp.commands.serve import create_http_app, load_settings, open_server
from avala_mcp.embedded.runner import serve_in_thread
from avala_mcp.embedded.seed import DEMO_ORG
from avala_mcp.server.http import MCP_PATHS
from benchmarks.raw_mcp import ACCEPT, INITIALIZE, LISTEN, LISTEN_HEADERS

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": f"Bearer {canaries.BEARER_TOKEN}"}
TOKEN_ENV = {"AVALA_MCP_AUTH_TOKEN": canaries.BEARER_TOKEN}


@contextlib.contextmanager
def serving_at(
    db_path: Path,
    bind: str,
    listen_on: str,
    transport: str = "streamable-http",
    environ: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """The app of ``serve --local --host BIND``, listening on ``listen_on``; yields its MCP URL."""
    argv = ["serve", "--local", "--db", str(db_path), "--transport", transport, "--host", bind]
    args = build_parser().parse_args(argv)
    settings = load_settings(args, environ or {})
    with (
        open_server(args, settings) as server,
        serve_in_thread(create_http_app(args, settings, server), host=listen_on) as api_url,
    ):
        yield api_url.removesuffix("/api/v1") + MCP_PATHS[transport]


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
async def test_a_loopback_alias_bind_serves_on_its_own_address(
    local_db_path: Path, transport: str
) -> None:
    with serving_at(local_db_path, "127.0.0.2", "127.0.0.2", transport) as url:
        assert url.startswith("http://127.0.0.2:")
        connect = sse_client(url) if transport == "sse" else url
        async with Client(connect) as client:
            assert (await client.list_tools()).tools


async def test_a_wildcard_bind_accepts_the_address_a_request_arrived_at(
    local_db_path: Path,
) -> None:
    # Built for 0.0.0.0 but listening on 127.0.0.3 only: the Host check alone decides.
    with serving_at(local_db_path, "0.0.0.0", "127.0.0.3", environ=TOKEN_ENV) as url:
        port = httpx.URL(url).port
        async with httpx.AsyncClient(timeout=30) as http:

            async def status(host: str) -> int:
                headers = {**AUTH, **ACCEPT, "Host": host}
                return (await http.post(url, json=INITIALIZE, headers=headers)).status_code

            assert await status(f"127.0.0.3:{port}") == 200
            assert await status(f"127.0.0.4:{port}") == 421  # not where it arrived
            assert await status("evil.example") == 421


def test_serve_on_a_loopback_alias_answers_and_believes_no_forwarded_address(
    tmp_path: Path,
) -> None:
    env = clean_env(AVALA_MCP_MAX_PER_CLIENT="1")
    args = ["serve", "--local", "--db", str(tmp_path / "db.sqlite3"), "--transport",
            "streamable-http", "--host", "127.0.0.2", "--port", "0"]  # fmt: skip
    with started(args, env, r"at (http://127\.0\.0\.2:\d+/mcp)") as running:
        url = running.ready[1]
        with httpx.Client(timeout=30) as http:
            assert http.post(url, json=INITIALIZE, headers=ACCEPT).status_code == 200
            with http.stream("POST", url, json=LISTEN, headers=LISTEN_HEADERS) as first:
                assert first.status_code == 200
                forged = {**LISTEN_HEADERS, "X-Forwarded-For": "198.51.100.7"}
                with http.stream("POST", url, json=LISTEN, headers=forged) as second:
                    # Still this client's one stream: the forged address was not believed.
                    assert second.status_code == 503


def test_a_named_proxy_is_believed(tmp_path: Path) -> None:
    env = clean_env(AVALA_MCP_MAX_PER_CLIENT="1", AVALA_MCP_TRUSTED_PROXIES="127.0.0.0/8")
    args = ["serve", "--local", "--db", str(tmp_path / "db.sqlite3"), "--transport",
            "streamable-http", "--port", "0"]  # fmt: skip
    with started(args, env, r"at (http://\S+/mcp)") as running:
        url = running.ready[1]
        with httpx.Client(timeout=30) as http:
            first_client = {**LISTEN_HEADERS, "X-Forwarded-For": "198.51.100.7"}
            other_client = {**LISTEN_HEADERS, "X-Forwarded-For": "198.51.100.8"}
            with (
                http.stream("POST", url, json=LISTEN, headers=first_client) as first,
                http.stream("POST", url, json=LISTEN, headers=other_client) as second,
            ):
                assert (first.status_code, second.status_code) == (200, 200)
                with http.stream("POST", url, json=LISTEN, headers=first_client) as again:
                    assert again.status_code == 503


def test_api_believes_no_forwarded_address_or_scheme(tmp_path: Path) -> None:
    key = "proxies-key-5c81f0a2"
    env = clean_env(AVALA_MCP_DB=str(tmp_path / "api.sqlite3"), AVALA_MCP_LOG_LEVEL="WARNING")
    args = ["api", "--port", "0", "--api-key", key, "--rate-limit", "3"]
    with started(args, env, r"serving (\S+)") as running:
        base = running.ready[1]
        with httpx.Client(timeout=30) as http:
            # Unauthenticated requests are charged to their client: a fresh forged address
            # per request must not bring a fresh allowance.
            statuses = [
                http.get(
                    f"{base}/slices/{DEMO_ORG}/list/",
                    headers={"X-Forwarded-For": f"198.51.100.{n}"},
                ).status_code
                for n in range(5)
            ]
            assert statuses[:3] == [401, 401, 401]
            assert statuses[3:] == [429, 429]
        with httpx.Client(timeout=30) as http:
            page = http.get(
                f"{base}/slices/{DEMO_ORG}/list/?limit=1",
                headers={"X-Avala-Api-Key": key, "X-Forwarded-Proto": "https"},
            )
            assert page.status_code == 200
            assert page.json()["next"].startswith(base.split("/api/")[0])
