"""``avala-mcp serve`` as a user runs it: the real console script in a subprocess.

Children get an explicit environment, so a key or token set in the test runner's shell never
changes what these tests see.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.abc
import canaries
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from transport_checks import ALL_TOOLS, check_session

from avala_mcp.embedded.seed import DEMO_ORG, DEMO_SLICE_SLUG

pytestmark = pytest.mark.anyio

SCRIPT = str(Path(sys.executable).with_name("avala-mcp"))
CANARY_KEY = canaries.API_KEY
CANARY_TOKEN = canaries.BEARER_TOKEN


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean child environment: no inherited key, token or log level."""
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **extra}


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def errlog(tmp_path: Path) -> Iterator[IO[str]]:
    """A file for the server's stderr, read back by the secret checks."""
    with (tmp_path / "stderr.log").open("w+") as log:
        yield log


def read_back(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_stdio_console_script(tmp_path: Path, errlog: IO[str], mode: str) -> None:
    params = StdioServerParameters(
        command=SCRIPT,
        args=["serve", "--local", "--db", str(tmp_path / "avala.db")],
        env=base_env(tmp_path, AVALA_MCP_AUTH_TOKEN=CANARY_TOKEN, AVALA_MCP_LOG_LEVEL="DEBUG"),
    )
    async with Client(stdio_client(params, errlog=errlog), mode=mode) as client:
        await check_session(client)
    log = read_back(errlog)
    assert log, "DEBUG logging should have written to stderr"
    assert CANARY_TOKEN not in log


async def test_canary_key_and_token_never_appear(tmp_path: Path, errlog: IO[str]) -> None:
    """Cloud mode against a dead loopback API, logging at DEBUG: a network failure, no secret."""
    env = base_env(
        tmp_path,
        AVALA_API_KEY=CANARY_KEY,
        AVALA_BASE_URL=f"http://127.0.0.1:{unused_port()}/api/v1",
        AVALA_MAX_RETRIES="0",
        AVALA_MCP_AUTH_TOKEN=CANARY_TOKEN,
        AVALA_MCP_LOG_LEVEL="DEBUG",
    )
    params = StdioServerParameters(command=sys.executable, args=["-m", "avala_mcp"], env=env)
    async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
        results = [
            await client.call_tool("list_slices", {"owner": DEMO_ORG}),
            await client.call_tool("get_slice", {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG}),
        ]
    for result in results:
        assert result.is_error
        assert result.structured_content is not None
        assert result.structured_content["error"]["type"] == "network"
        shown = json.dumps(result.structured_content) + "".join(
            getattr(block, "text", "") for block in result.content
        )
        assert CANARY_KEY not in shown
        assert CANARY_TOKEN not in shown
    log = read_back(errlog)
    assert log
    assert CANARY_KEY not in log
    assert CANARY_TOKEN not in log


def _send(stdin: IO[str], message: dict[str, Any]) -> None:
    stdin.write(json.dumps(message) + "\n")
    stdin.flush()


def test_stdout_carries_only_the_protocol(tmp_path: Path, errlog: IO[str]) -> None:
    env = base_env(tmp_path, AVALA_MCP_LOG_LEVEL="DEBUG")
    argv = [SCRIPT, "serve", "--local", "--db", str(tmp_path / "avala.db")]
    with subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errlog, env=env, text=True
    ) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        info = {"name": "raw", "version": "0"}
        params = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": info}
        _send(proc.stdin, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
        _send(proc.stdin, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(proc.stdin, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        lines = []
        while not any(json.loads(line).get("id") == 2 for line in lines):
            line = proc.stdout.readline()
            assert line, "the server closed stdout before answering tools/list"
            lines.append(line)
        proc.stdin.close()  # end of input: the server exits
        lines += proc.stdout.read().splitlines()
        assert proc.wait(timeout=60) == 0
    for line in lines:
        assert json.loads(line)["jsonrpc"] == "2.0", line
    answer = next(json.loads(line) for line in lines if json.loads(line).get("id") == 2)
    assert {tool["name"] for tool in answer["result"]["tools"]} == ALL_TOOLS
    assert read_back(errlog), "the DEBUG logs belong on stderr"


def refusal(tmp_path: Path, *argv: str) -> str:
    """Runs ``avala-mcp ARGV``, checks it failed with one line on stderr only; returns the line."""
    done = subprocess.run(
        [SCRIPT, *argv], env=base_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("argv", [[], ["serve"], ["serve", "--transport", "sse"]])
def test_missing_key_is_one_line_and_a_failure(tmp_path: Path, argv: list[str]) -> None:
    line = refusal(tmp_path, *argv)
    assert "AVALA_API_KEY" in line
    assert "--local" in line


def test_non_loopback_bind_without_token_is_refused(tmp_path: Path) -> None:
    line = refusal(
        tmp_path, "serve", "--local", "--transport", "streamable-http", "--host", "0.0.0.0"
    )
    assert "AVALA_MCP_AUTH_TOKEN" in line


def test_unusable_database_is_one_line_and_a_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    line = refusal(tmp_path, "serve", "--local", "--db", str(blocker / "avala.db"))
    assert "database" in line


async def _wait_until_healthy(base: str, proc: anyio.abc.Process, errlog: IO[str]) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        while True:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                assert proc.returncode is None, read_back(errlog)
            await anyio.sleep(0.05)


async def _announced_origin(proc: anyio.abc.Process, errlog: IO[str]) -> str:
    """The http://host:port the server says it listens on (it binds before saying so)."""
    while True:
        found = re.search(r"MCP over \S+ at (http://[^/\s]+)/", read_back(errlog))
        if found:
            return found[1]
        assert proc.returncode is None, read_back(errlog)
        await anyio.sleep(0.05)


async def test_streamable_http_command(tmp_path: Path, errlog: IO[str]) -> None:
    argv = [SCRIPT, "serve", "--local", "--db", str(tmp_path / "avala.db")]
    # Port 0: the kernel picks a free port, so parallel runs cannot collide.
    argv += ["--transport", "streamable-http", "--port", "0"]
    env = base_env(tmp_path, AVALA_MCP_AUTH_TOKEN=CANARY_TOKEN, AVALA_MCP_LOG_LEVEL="DEBUG")
    async with await anyio.open_process(argv, env=env, stderr=errlog) as proc:
        try:
            # A hang guard for the readiness poll, not a timing assertion.
            with anyio.fail_after(60):
                base = await _announced_origin(proc, errlog)
                await _wait_until_healthy(base, proc, errlog)
            headers = {"Authorization": f"Bearer {CANARY_TOKEN}"}
            async with (
                httpx2.AsyncClient(headers=headers) as client_http,
                Client(streamable_http_client(f"{base}/mcp", http_client=client_http)) as client,
            ):
                assert {tool.name for tool in (await client.list_tools()).tools} == ALL_TOOLS
        finally:
            proc.terminate()
    log = read_back(errlog)
    assert base.startswith("http://127.0.0.1:")
    assert not base.endswith(":0")
    assert f"at {base}/mcp" in log
    assert CANARY_TOKEN not in log
