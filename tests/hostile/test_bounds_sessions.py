"""Every session and stream of the HTTP transports has a bound (issue 11): an SSE client that
never reads is closed, an ``initialize`` flood makes room instead of locking clients out, busy
sessions are kept and the newcomer gets a clear 503, idle sessions end, and open streams are
bounded in all and per client. All on 127.0.0.1, with small bounds set through the environment.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from hostile_checks import serving
from mcp import Client
from mcp.client.sse import sse_client

from avala_mcp.server.bounds import MAX_SSE_BACKLOG
from avala_mcp.server.limits import SessionTable, client_of
from avala_mcp.settings import ConfigError, HttpLimits, Settings
from benchmarks.raw_mcp import (
    ACCEPT,
    INITIALIZE,
    LEGACY,
    LISTEN,
    LISTEN_HEADERS,
    PING,
    unread_sse_stream,
)

pytestmark = pytest.mark.anyio

PER_CLIENT = 4
BOUNDS = {
    "AVALA_MCP_MAX_PER_CLIENT": str(PER_CLIENT),
    "AVALA_MCP_MAX_SESSIONS": "8",
    "AVALA_MCP_MAX_STREAMS": "6",
}
#: Far more messages than an SSE session may leave unread: main accepted every one.
UNREAD_POSTS = 3000


async def _open_session(http: httpx.AsyncClient, url: str) -> str:
    response = await http.post(url, json=INITIALIZE, headers=ACCEPT)
    assert response.status_code == 200, response.text
    return response.headers["mcp-session-id"]


async def _alive(http: httpx.AsyncClient, url: str, session_id: str) -> bool:
    response = await http.post(url, json=PING, headers={**LEGACY, "Mcp-Session-Id": session_id})
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


async def _tools_of(url: str, mode: Any) -> int:
    async with Client(url, mode=mode) as client:
        return len((await client.list_tools()).tools)


@contextlib.asynccontextmanager
async def _stream(
    http: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> AsyncIterator[httpx.Response]:
    """A request whose response stays open (an event stream) until the block ends."""
    async with http.stream(method, url, **kwargs) as response:
        yield response


def test_limits_are_settings_with_defaults_that_fit_one_machine() -> None:
    assert Settings.from_env({}).limits == HttpLimits()
    limits = Settings.from_env({**BOUNDS, "AVALA_MCP_SESSION_IDLE_TIMEOUT": "2.5"}).limits
    assert limits == HttpLimits(
        max_sessions=8, max_per_client=PER_CLIENT, session_idle_timeout=2.5, max_streams=6
    )
    for variable, value in [
        ("AVALA_MCP_MAX_SESSIONS", "0"),
        ("AVALA_MCP_MAX_PER_CLIENT", "many"),
        ("AVALA_MCP_MAX_STREAMS", "1.5"),
        ("AVALA_MCP_SESSION_IDLE_TIMEOUT", "-1"),
    ]:
        with pytest.raises(ConfigError, match=variable):
            Settings.from_env({variable: value})


def test_the_session_table_evicts_unused_then_idle_sessions_of_the_busiest_client() -> None:
    now = [0.0]
    table = SessionTable(
        HttpLimits(max_sessions=3, max_per_client=3, session_idle_timeout=100.0),
        clock=lambda: now[0],
    )

    def open_session(client: str, name: str) -> list[str]:
        admission = table.admit(client)
        assert admission.refusal is None
        table.opened(client, name)
        now[0] += 1
        return admission.evict

    assert open_session("a", "a1") == []
    for name in ("a2", "a3"):
        open_session("a", name)
    table.enter("a1")  # a1 is used, then idle again: it goes after the never-used ones
    table.enter("a1")
    table.leave("a1", ended=False)
    table.leave("a1", ended=False)
    assert open_session("a", "a4") == ["a2"]  # a's share is full: its own oldest unused
    assert open_session("b", "b1") == ["a3"]  # all full: the client holding the most
    table.enter("a1")
    table.enter("a4")  # every session of a is busy now, b1 is idle
    assert open_session("c", "c1") == ["b1"]
    table.enter("c1")
    refused = table.admit("d")
    assert refused.refusal == "too many open sessions (3), none of them idle"
    now[0] += 1000  # long past the idle timeout, but busy sessions never expire
    assert table.admit("d").refusal is not None
    table.leave("c1", ended=False)
    now[0] += 1000
    assert table.admit("d").evict == ["c1"]  # expired


def test_a_client_is_its_address_and_an_ipv6_client_its_64() -> None:
    def scope(host: str) -> dict[str, object]:
        return {"client": (host, 1234)}

    assert client_of(scope("192.0.2.7")) == "192.0.2.7"
    assert client_of(scope("::ffff:192.0.2.7")) == "192.0.2.7"
    assert client_of(scope("2001:db8:1:2:aaaa::1")) == client_of(scope("2001:db8:1:2::99"))
    assert client_of(scope("2001:db8:1:2::1")) != client_of(scope("2001:db8:1:3::1"))
    assert client_of({}) == "unknown"


async def test_an_initialize_flood_makes_room_and_legacy_clients_still_connect(
    local_db_path: Path,
) -> None:
    with serving(local_db_path, environ=BOUNDS) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            flood = [await _open_session(http, url) for _ in range(8 * PER_CLIENT)]
            alive = [session for session in flood if await _alive(http, url, session)]
        # The flood took the place of its own oldest sessions: a bounded table, newest kept.
        assert 0 < len(alive) <= PER_CLIENT
        assert alive == flood[-len(alive) :]
        for _ in range(3):
            assert await _tools_of(url, "legacy") > 0
        assert await _tools_of(url, "auto") > 0


async def test_busy_sessions_are_kept_and_the_newcomer_gets_a_503_that_clears(
    local_db_path: Path,
) -> None:
    with serving(local_db_path, environ=BOUNDS) as url:
        async with httpx.AsyncClient(timeout=30) as http, contextlib.AsyncExitStack() as streams:
            busy = [await _open_session(http, url) for _ in range(PER_CLIENT)]
            for session in busy:  # an open GET stream: the session is in use
                get = await streams.enter_async_context(
                    _stream(http, "GET", url, headers={**LEGACY, "Mcp-Session-Id": session})
                )
                assert get.status_code == 200
            refused = await http.post(url, json=INITIALIZE, headers=ACCEPT)
            assert refused.status_code == 503
            assert refused.headers["retry-after"].isdigit()
            assert "too many open sessions from this client" in refused.json()["error"]
            assert [await _alive(http, url, session) for session in busy] == [True] * PER_CLIENT
            await streams.aclose()  # the streams end: the sessions are idle again
            assert await _tools_of(url, "legacy") > 0


async def test_idle_sessions_end_after_the_idle_timeout(local_db_path: Path) -> None:
    environ = {**BOUNDS, "AVALA_MCP_SESSION_IDLE_TIMEOUT": "0.5"}
    with serving(local_db_path, environ=environ) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            idle = await _open_session(http, url)
            await anyio.sleep(1.0)  # past the timeout; a new session finds the old one expired
            fresh = await _open_session(http, url)
            assert not await _alive(http, url, idle)
            assert await _alive(http, url, fresh)


async def test_open_streams_are_bounded_per_client(local_db_path: Path) -> None:
    with serving(local_db_path, environ=BOUNDS) as url:
        async with httpx.AsyncClient(timeout=30) as http, contextlib.AsyncExitStack() as streams:
            for _ in range(PER_CLIENT):
                listen = await streams.enter_async_context(
                    _stream(http, "POST", url, json=LISTEN, headers=LISTEN_HEADERS)
                )
                assert listen.status_code == 200
                assert listen.headers["content-type"].startswith("text/event-stream")
            async with _stream(http, "POST", url, json=LISTEN, headers=LISTEN_HEADERS) as refused:
                assert refused.status_code == 503
                await refused.aread()
                assert "too many open streams from this client" in refused.json()["error"]
            # Ordinary requests are no streams: they still pass.
            assert await _tools_of(url, "auto") > 0
            await streams.aclose()
            # The server frees a slot when it sees the disconnect, which takes a moment on a busy
            # machine: ask again until it has (bounded), rather than racing it.
            statuses: list[int] = []
            with anyio.move_on_after(10):
                while not statuses or statuses[-1] != 200:
                    async with _stream(
                        http, "POST", url, json=LISTEN, headers=LISTEN_HEADERS
                    ) as again:
                        statuses.append(again.status_code)
                    if statuses[-1] != 200:
                        await anyio.sleep(0.1)
            assert statuses[-1] == 200, statuses


async def test_a_stateless_server_answers_get_streams_with_405(local_db_path: Path) -> None:
    with serving(local_db_path, "streamable-http", "--stateless", environ=BOUNDS) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(3 * PER_CLIENT):
                async with _stream(http, "GET", url, headers=LEGACY) as response:
                    assert response.status_code == 405
        for mode in ("legacy", "auto"):
            assert await _tools_of(url, mode) > 0


async def test_an_sse_client_that_never_reads_is_closed_with_a_bounded_backlog(
    local_db_path: Path,
) -> None:
    with serving(local_db_path, "sse") as url:
        sock, session = unread_sse_stream(url)
        messages = url.removesuffix("/sse") + f"/messages/?session_id={session}"
        statuses: list[int] = []
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                assert (await http.post(messages, json=INITIALIZE)).status_code == 202
                for number in range(UNREAD_POSTS):
                    listing = {"jsonrpc": "2.0", "id": 10 + number, "method": "tools/list"}
                    statuses.append((await http.post(messages, json=listing)).status_code)
                    if statuses[-1] != 202:
                        break
                closed = await http.post(messages, json=PING)
        finally:
            sock.close()
        assert statuses[-1] == 503, f"{len(statuses)} messages accepted from a client not reading"
        assert len(statuses) > MAX_SSE_BACKLOG
        assert closed.status_code == 404
        # Everyone else is served as before.
        async with Client(sse_client(url)) as client:
            assert (await client.list_tools()).tools
