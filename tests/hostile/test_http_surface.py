"""The transports under hostile requests, beyond what tests/server/test_transport_http.py and
test_serve_process.py already cover (401 and no tool run, 421, 403, a non-loopback bind refused):
HTTP bodies over the cap, bodies and stdio lines that are not JSON-RPC, and a server that keeps
working after them.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import canaries
import httpx
import httpx2
import pytest
from hostile_checks import serving
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_checks import success

from avala_mcp.embedded.seed import DEMO_ORG

pytestmark = pytest.mark.anyio

TOKEN_ENV = {"AVALA_MCP_AUTH_TOKEN": canaries.BEARER_TOKEN}
AUTH = {"Authorization": f"Bearer {canaries.BEARER_TOKEN}"}
HEADERS = {**AUTH, "Accept": "application/json, text/event-stream"}
#: Past the SDK's 4 MiB cap on a request body.
OVER_CAP = 5 * 2**20


def rpc(number: int, method: str, **params: object) -> dict[str, object]:
    """A JSON-RPC request."""
    return {"jsonrpc": "2.0", "id": number, "method": method, "params": params}


HELLO = {"name": "hostile", "version": "0"}
NIGHT_OWNER = {"owner": DEMO_ORG}
INITIALIZE = rpc(1, "initialize", protocolVersion="2025-11-25", capabilities={}, clientInfo=HELLO)
NOT_JSON_RPC = {
    "nested arrays": b"[" * 100_000 + b"]" * 100_000,
    "nested params": json.dumps(INITIALIZE)
    .encode()
    .replace(b'"params": {', b'"params": {"a": ' * 5000 + b"{", 1)
    + b"}" * 5000,
    "bad UTF-8": b'{"jsonrpc": "2.0", "id": 1, "method": "\xff\xfe"}',
    "not JSON": b"<html>hello</html>",
    "truncated": json.dumps(INITIALIZE).encode()[:40],
}


async def _still_serves(url: str) -> None:
    """A real MCP client, with the token, gets a tool result: the refusals left no damage."""
    async with (
        httpx2.AsyncClient(headers=AUTH) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        assert (await success(client, "list_slices", {"owner": DEMO_ORG}))["slices"]


def _oversized() -> bytes:
    padded = rpc(1, "initialize", **INITIALIZE["params"], pad="x" * OVER_CAP)  # type: ignore[arg-type]
    return json.dumps(padded).encode()


@pytest.mark.parametrize("flags", [[], ["--stateless"]], ids=["stateful", "stateless"])
async def test_a_body_over_the_cap_is_413_and_the_server_carries_on(
    tmp_path: Path, flags: list[str]
) -> None:
    with serving(tmp_path / "db.sqlite3", "streamable-http", *flags, environ=TOKEN_ENV) as url:
        async with httpx.AsyncClient(headers=HEADERS, timeout=60) as http:
            refused = await http.post(
                url, content=_oversized(), headers={"Content-Type": "application/json"}
            )
            # Without the token, the guard refuses before reading a byte of the body.
            anonymous = await http.post(
                url,
                content=_oversized(),
                headers={"Authorization": "", "Content-Type": "application/json"},
            )
        assert refused.status_code == 413
        assert anonymous.status_code == 401
        await _still_serves(url)


async def test_a_body_over_the_cap_is_413_over_sse(tmp_path: Path) -> None:
    with serving(tmp_path / "db.sqlite3", "sse", environ=TOKEN_ENV) as url:
        base = url.removesuffix("/sse")
        async with httpx.AsyncClient(headers=HEADERS, timeout=60) as http:
            refused = await http.post(
                f"{base}/messages/?session_id=0123456789abcdef0123456789abcdef",
                content=_oversized(),
                headers={"Content-Type": "application/json"},
            )
        assert refused.status_code == 413
        async with Client(sse_client(url, headers=AUTH)) as client:
            assert (await success(client, "list_slices", {"owner": DEMO_ORG}))["slices"]


async def test_bodies_that_are_not_json_rpc_are_parse_errors(tmp_path: Path) -> None:
    with serving(tmp_path / "db.sqlite3", environ=TOKEN_ENV) as url:
        async with httpx.AsyncClient(headers=HEADERS, timeout=60) as http:
            for label, body in NOT_JSON_RPC.items():
                answer = await http.post(
                    url, content=body, headers={"Content-Type": "application/json"}
                )
                assert answer.status_code == 400, label
                assert answer.json()["error"]["code"] == -32700, label
                assert len(answer.content) < 1000, label  # the body is not repeated back
        await _still_serves(url)


def test_stdio_survives_lines_that_are_not_json_rpc(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "avala_mcp", "serve", "--local", "--db", str(tmp_path / "db")]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    lines = [*NOT_JSON_RPC.values(), b'{"jsonrpc": "2.0", "id": 9, "method": "no/such/method"}']
    lines += [
        json.dumps(INITIALIZE).encode(),
        b'{"jsonrpc": "2.0", "method": "notifications/initialized"}',
        json.dumps(rpc(2, "tools/call", name="list_slices", arguments=NIGHT_OWNER)).encode(),
    ]
    with subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    ) as server:
        assert server.stdin is not None
        assert server.stdout is not None
        server.stdin.write(b"".join(line.replace(b"\n", b" ") + b"\n" for line in lines))
        server.stdin.flush()
        answers: dict[int, dict[str, object]] = {}
        out = b""
        deadline = time.monotonic() + 60
        while 2 not in answers and time.monotonic() < deadline:
            if select.select([server.stdout], [], [], 1)[0]:
                chunk = os.read(server.stdout.fileno(), 65536)
                assert chunk, "the server closed stdout: the garbage killed it"
                out += chunk
                *complete, out = out.split(b"\n")
                answers.update((m["id"], m) for m in map(json.loads, complete) if "id" in m)
        server.stdin.close()
        assert server.wait(timeout=60) == 0
    assert answers[9]["error"] == {
        "code": -32601,
        "message": "Method not found",
        "data": "no/such/method",
    }
    result = answers[2]["result"]
    assert isinstance(result, dict)
    assert not result.get("isError")
    assert result["structuredContent"]["slices"]
