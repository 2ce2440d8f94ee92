"""Faults from a real misbehaving API on 127.0.0.1, through the MCP tool layer.

A small ASGI app under uvicorn (and, for a TCP reset, a bare socket) answers each slug of
``get_slice(owner="fault", slug=...)`` with one fault and counts the requests it received, so
the retries can be counted where they land. The server under test talks to it over real HTTP with
a short timeout; every call is guarded by a generous ``fail_after``, so a hang fails the test
instead of stalling the suite.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl

import anyio
import pytest
from hostile_checks import server_for
from mcp import Client
from mcp_checks import failure, success
from starlette.types import Receive, Scope, Send

from avala_mcp.embedded.runner import serve_in_thread

pytestmark = pytest.mark.anyio

#: Seconds the server under test waits for an answer (the configured timeout).
TIMEOUT = 0.5
#: Retries the server under test allows itself after a first attempt.
RETRIES = 2
#: How long any one call may take before the test calls it a hang: far past the timeout and the
#: retries' waits, far below anything a user would accept.
HANG = 20.0
PREFIX = "/api/v1/slices/fault/"
SLICE = {
    "uid": "5b1f6c1e-0000-4000-8000-000000000001",
    "name": "Recovered",
    "slug": "recovered",
    "description": "",
    "item_count": 3,
}
OK = {"owner": "fault", "slug": "ok"}
SILENT = {"owner": "fault", "slug": "silent"}
HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body>"
# Past the client's cap on an answer (32 MiB), far below what would strain the machine.
FLOOD_MIB = 40
# A trickle of this many bytes, one per TRICKLE_GAP seconds, takes minutes: past any timeout.
TRICKLE_BYTES = 2000
TRICKLE_GAP = 0.05
# A field message of an error body, as an upstream API sent them.
HUGE_FIELD = 5 * 2**20


class FaultApi:
    """The ASGI fault app. Thread-safe counters: uvicorn runs it in its own thread."""

    def __init__(self) -> None:
        self.base_url = ""
        self.other_port = 0
        self.reset()

    def reset(self) -> None:
        self.requests: Counter[str] = Counter()
        self.arrived = threading.Event()
        self.disconnected = threading.Event()
        self.elsewhere = 0  # requests that reached the "other host"
        self.cursors: list[str | None] = []  # the cursor of each listing request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if scope["server"][1] == self.other_port:
            self.elsewhere += 1
            await _answer(send, 200, {"count": 0, "next": None, "previous": None, "results": []})
            return
        fault = path.removeprefix(PREFIX).strip("/")
        self.requests[fault] += 1
        if fault == "list":
            query = dict(parse_qsl(scope["query_string"].decode()))
            self.cursors.append(query.get("cursor"))
        self.arrived.set()
        await getattr(self, "_" + fault.replace("-", "_"))(receive, send, self.requests[fault])

    async def _list(self, receive: Receive, send: Send, count: int) -> None:
        elsewhere = f"http://127.0.0.1:{self.other_port}{PREFIX}list/?cursor=abc"
        page = {"count": 2, "next": elsewhere, "previous": None, "results": [SLICE]}
        await _answer(send, 200, page)

    async def _deep(self, receive: Receive, send: Send, count: int) -> None:
        """A slice with a value nested far past Python's recursion limit."""
        depth = 100_000
        head = json.dumps(SLICE).encode()[:-1]
        await _raw(send, 200, head + b', "extra": ' + b"[" * depth + b"]" * depth + b"}")

    async def _deep_error(self, receive: Receive, send: Send, count: int) -> None:
        depth = 100_000
        await _raw(send, 400, b'{"name": ' + b"[" * depth + b"]" * depth + b"}")

    async def _huge_fields(self, receive: Receive, send: Send, count: int) -> None:
        """The reported upstream 400: field messages of 5 MB each."""
        await _answer(send, 400, {f"field_{n}": ["x" * HUGE_FIELD] for n in range(3)})

    async def _ok(self, receive: Receive, send: Send, count: int) -> None:
        await _answer(send, 200, SLICE)

    async def _rate_limited(self, receive: Receive, send: Send, count: int) -> None:
        await _answer(send, 429, {"detail": "Request was throttled."}, retry_after="0")

    async def _rate_limited_once(self, receive: Receive, send: Send, count: int) -> None:
        if count == 1:
            await _answer(send, 429, {"detail": "Request was throttled."}, retry_after="0")
        else:
            await _answer(send, 200, SLICE)

    async def _unavailable_burst(self, receive: Receive, send: Send, count: int) -> None:
        if count <= RETRIES:
            await _answer(send, 503, {"detail": "Service unavailable."}, retry_after="0")
        else:
            await _answer(send, 200, SLICE)

    async def _unavailable(self, receive: Receive, send: Send, count: int) -> None:
        await _answer(send, 503, {"detail": "Service unavailable."}, retry_after="0")

    async def _html_502(self, receive: Receive, send: Send, count: int) -> None:
        await _raw(send, 502, HTML_502, b"text/html", retry_after="0")

    async def _redirect(self, receive: Receive, send: Send, count: int) -> None:
        """A redirect to another host: following it would hand that host the API key."""
        elsewhere = f"http://127.0.0.1:{self.other_port}{PREFIX}ok/".encode()
        headers = [(b"location", elsewhere), (b"content-length", b"0")]
        await _start(send, 302, b"text/plain", headers)
        await send({"type": "http.response.body", "body": b""})

    async def _truncated_json(self, receive: Receive, send: Send, count: int) -> None:
        await _raw(send, 200, json.dumps(SLICE).encode()[:25])

    async def _malformed_json(self, receive: Receive, send: Send, count: int) -> None:
        await _raw(send, 200, b'{"uid": "1", "name": , "slug": "x"}}')

    async def _wrong_shape(self, receive: Receive, send: Send, count: int) -> None:
        await _answer(send, 200, [SLICE])

    async def _cut_off(self, receive: Receive, send: Send, count: int) -> None:
        """Promises 500 bytes, sends 20 and ends: the connection closes mid-body."""
        await _start(send, 200, b"application/json", [(b"content-length", b"500")])
        await send(
            {"type": "http.response.body", "body": b'{"uid": "1", "name":', "more_body": True}
        )

    async def _flood(self, receive: Receive, send: Send, count: int) -> None:
        """A valid slice whose description runs to FLOOD_MIB MiB, sent as fast as it goes."""
        await _start(send, 200, b"application/json", [])
        rest = {key: value for key, value in SLICE.items() if key != "description"}
        head = json.dumps({**rest, "description": ""}).encode()[:-2]  # ends before '"}'
        await send({"type": "http.response.body", "body": head, "more_body": True})
        for _ in range(FLOOD_MIB):  # bounded, and unread chunks stop when the client leaves
            await send({"type": "http.response.body", "body": b"x" * 2**20, "more_body": True})
        await send({"type": "http.response.body", "body": b'"}'})

    async def _silent(self, receive: Receive, send: Send, count: int) -> None:
        """Never answers; returns once the client gives up and disconnects."""
        await self._until_disconnect(receive)

    async def _trickle(self, receive: Receive, send: Send, count: int) -> None:
        """A valid status line, then the body one byte at a time, slower than anyone waits."""
        body = b" " * TRICKLE_BYTES
        await _start(send, 200, b"application/json", [(b"content-length", b"%d" % len(body))])
        async with anyio.create_task_group() as tg:

            async def drip() -> None:
                for _ in range(TRICKLE_BYTES):  # bounded: TRICKLE_BYTES * TRICKLE_GAP seconds
                    await send({"type": "http.response.body", "body": b" ", "more_body": True})
                    await anyio.sleep(TRICKLE_GAP)

            tg.start_soon(drip)
            await self._until_disconnect(receive)
            tg.cancel_scope.cancel()

    async def _until_disconnect(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.disconnected.set()


async def _start(
    send: Send, status: int, content_type: bytes, extra: list[tuple[bytes, bytes]]
) -> None:
    headers = [(b"content-type", content_type), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _raw(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = b"application/json",
    retry_after: str | None = None,
) -> None:
    extra = [(b"content-length", b"%d" % len(body))]
    if retry_after is not None:
        extra.append((b"retry-after", retry_after.encode()))
    await _start(send, status, content_type, extra)
    await send({"type": "http.response.body", "body": body})


async def _answer(send: Send, status: int, body: Any, retry_after: str | None = None) -> None:
    await _raw(send, status, json.dumps(body).encode(), retry_after=retry_after)


@pytest.fixture(scope="module")
def _served() -> Iterator[FaultApi]:
    """The fault app on 127.0.0.1, plus a second port standing for another host."""
    api = FaultApi()
    with serve_in_thread(api) as base_url, serve_in_thread(api) as other_url:
        api.base_url = base_url
        api.other_port = int(other_url.split(":")[2].split("/")[0])
        yield api


@pytest.fixture
def fault_api(_served: FaultApi) -> FaultApi:
    """The module's fault app, its counts and events cleared for this test."""
    _served.reset()
    return _served


@pytest.fixture
async def client(fault_api: FaultApi) -> AsyncIterator[Client]:
    server = server_for(fault_api.base_url, timeout=TIMEOUT, max_retries=RETRIES)
    async with Client(server) as mcp_client:
        yield mcp_client


async def fault(client: Client, slug: str) -> dict[str, Any]:
    with anyio.fail_after(HANG):
        return await failure(client, "get_slice", {"owner": "fault", "slug": slug})


@pytest.mark.parametrize(
    ("slug", "kind", "status", "retryable", "attempts", "said"),
    [
        ("rate-limited", "rate_limited", 429, True, 1 + RETRIES, "retry after 0 s"),
        ("unavailable", "server_error", 503, True, 1 + RETRIES, "Service unavailable"),
        ("html-502", "server_error", 502, True, 1 + RETRIES, "non-JSON response"),
        ("cut-off", "network", None, True, 1 + RETRIES, "connection"),
        ("silent", "network", None, True, 1 + RETRIES, f"within {TIMEOUT:g} s"),
        ("redirect", "server_error", 302, False, 1, "redirects are not followed"),
        ("truncated-json", "server_error", 200, False, 1, "not JSON"),
        ("malformed-json", "server_error", 200, False, 1, "not JSON"),
        ("wrong-shape", "server_error", None, False, 1, "not a valid Slice"),
        ("deep", "server_error", 200, False, 1, "malformed: nested deeper than 64 levels"),
        ("deep-error", "validation", 400, False, 1, "malformed error body, nested deeper"),
        ("huge-fields", "validation", 400, False, 1, "invalid field_0: xxx"),
    ],
)
async def test_each_fault_is_its_failure_type_within_the_retry_bound(
    fault_api: FaultApi,
    client: Client,
    slug: str,
    kind: str,
    status: int | None,
    retryable: bool,
    attempts: int,
    said: str,
) -> None:
    error = await fault(client, slug)
    assert (error["type"], error["status"], error["retryable"]) == (kind, status, retryable)
    assert said in error["message"]
    assert error["hint"]
    assert fault_api.requests[slug] == attempts  # counted where they land: the bound held
    assert fault_api.elsewhere == 0
    text = json.dumps(error)
    assert "<html" not in text  # a proxy's page is described, never repeated
    assert '"uid"' not in text
    # The session survives every fault.
    assert (await success(client, "get_slice", OK))["slug"] == "recovered"


async def test_one_429_is_retried_after_its_retry_after(
    fault_api: FaultApi, client: Client
) -> None:
    api = fault_api
    with anyio.fail_after(HANG):
        found = await success(client, "get_slice", {"owner": "fault", "slug": "rate-limited-once"})
    assert found["slug"] == "recovered"
    assert api.requests["rate-limited-once"] == 2


async def test_a_burst_of_503_is_ridden_out(fault_api: FaultApi, client: Client) -> None:
    api = fault_api
    with anyio.fail_after(HANG):
        found = await success(client, "get_slice", {"owner": "fault", "slug": "unavailable-burst"})
    assert found["name"] == "Recovered"
    assert api.requests["unavailable-burst"] == RETRIES + 1


async def test_a_slow_trickle_is_cut_at_the_timeout(fault_api: FaultApi, client: Client) -> None:
    """Bytes arriving just often enough to dodge a per-read timeout must not hold a call."""
    api = fault_api
    error = await fault(client, "trickle")
    assert error["type"] == "network"
    assert f"within {TIMEOUT:g} s" in error["message"]
    assert api.requests["trickle"] == 1 + RETRIES


async def test_an_endless_answer_is_cut_at_the_size_cap(fault_api: FaultApi) -> None:
    """A server streaming without end must not fill the MCP server's memory until the timeout."""
    # A timeout far beyond the test: only the cap can end the request.
    server = server_for(fault_api.base_url, timeout=600, max_retries=RETRIES)
    async with Client(server) as mcp_client:
        with anyio.fail_after(HANG):
            result = await mcp_client.call_tool("get_slice", {"owner": "fault", "slug": "flood"})
    # Not through failure(): on a regression its message would print the 40 MiB answer.
    assert result.is_error, "the whole answer was read and returned"
    assert result.structured_content is not None
    error = result.structured_content["error"]
    assert error["type"] == "server_error"
    assert "larger than 32 MiB" in error["message"]
    assert fault_api.requests["flood"] == 1  # not retried: the same answer would come again


async def test_a_next_link_to_another_host_gives_its_cursor_to_the_base_url(
    fault_api: FaultApi, client: Client
) -> None:
    """A proxy's or an alias's link: its position is asked of the base URL, the other host
    gets nothing (neither a request nor the key)."""
    api = fault_api
    with anyio.fail_after(HANG):
        first = await success(client, "list_slices", {"owner": "fault"})
        assert first["next_cursor"] == "abc"
        second = await success(client, "list_slices", {"owner": "fault", "cursor": "abc"})
    assert second["slices"][0]["slug"] == "recovered"
    assert api.requests["list"] == 2
    assert api.cursors == [None, "abc"]
    assert api.elsewhere == 0


async def test_a_huge_error_body_gives_a_small_failure(fault_api: FaultApi, client: Client) -> None:
    """An upstream 400 of 5 MB field messages gave a 15 MB tool result."""
    with anyio.fail_after(HANG):
        result = await client.call_tool("get_slice", {"owner": "fault", "slug": "huge-fields"})
    assert result.is_error
    assert result.structured_content is not None
    assert len(json.dumps(result.structured_content)) < 4096
    error = result.structured_content["error"]
    assert set(error["fields"]) == {"field_0", "field_1", "field_2"}
    assert all(len(message) <= 300 for messages in error["fields"].values() for message in messages)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_cancelled_call_aborts_its_request(fault_api: FaultApi, mode: str) -> None:
    api = fault_api
    # A timeout far beyond the test: only the cancellation can end the request.
    server = server_for(api.base_url, timeout=600, max_retries=0)
    async with Client(server, mode=mode) as mcp_client:
        with anyio.fail_after(HANG):
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    mcp_client.call_tool, "get_slice", {"owner": "fault", "slug": "silent"}
                )
                await anyio.to_thread.run_sync(api.arrived.wait, HANG)
                tg.cancel_scope.cancel()
            # The API sees the client hang up: the request was aborted, not left running.
            assert await anyio.to_thread.run_sync(api.disconnected.wait, HANG)
        assert api.requests["silent"] == 1
        with anyio.fail_after(HANG):
            assert (await success(mcp_client, "get_slice", OK))["slug"] == "recovered"


def _reset_server() -> tuple[socket.socket, threading.Thread, list[int]]:
    """A TCP server on 127.0.0.1 that reads a request and resets the connection (RST)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(HANG)
    accepted: list[int] = []

    def serve() -> None:
        for _ in range(1 + RETRIES):  # bounded: one connection per attempt
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            with conn:
                conn.recv(65536)
                # Linger 0: close() sends RST instead of FIN.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread, accepted


async def test_a_connection_reset_is_a_network_failure_after_the_retries() -> None:
    listener, thread, accepted = _reset_server()
    port = listener.getsockname()[1]
    try:
        server = server_for(f"http://127.0.0.1:{port}/api/v1", timeout=TIMEOUT, max_retries=RETRIES)
        async with Client(server) as mcp_client:
            error = await fault(mcp_client, "reset")
    finally:
        listener.close()
        await anyio.to_thread.run_sync(thread.join, HANG)
    assert error["type"] == "network"
    assert error["retryable"] is True
    assert len(accepted) == 1 + RETRIES
