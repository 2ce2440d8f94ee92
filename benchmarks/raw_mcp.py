"""MCP spoken by hand, for tests and benchmarks that speak to the HTTP transports below the
client: a bare handshake, a ping, a 2026 ``subscriptions/listen`` (a stream that stays open), and
an SSE stream that is never read."""

from __future__ import annotations

import re
import socket
from typing import Any

import httpx

ACCEPT = {"Accept": "application/json, text/event-stream"}
#: Headers of a request inside a 2025-11-25 session (add its ``Mcp-Session-Id``).
LEGACY = {**ACCEPT, "MCP-Protocol-Version": "2025-11-25"}
HELLO = {"name": "raw", "version": "0"}
INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": HELLO},
}
PING: dict[str, Any] = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
LISTEN: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "subscriptions/listen",
    "params": {
        "notifications": {"toolsListChanged": True},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": HELLO,
            "io.modelcontextprotocol/clientCapabilities": {},
        },
    },
}
LISTEN_HEADERS = {
    **ACCEPT,
    "MCP-Protocol-Version": "2026-07-28",
    "Mcp-Method": "subscriptions/listen",
}

_SSE_SESSION_ID = re.compile(rb"session_id=([0-9a-f]{32})\r\n")


def unread_sse_stream(url: str, timeout: float = 30) -> tuple[socket.socket, str]:
    """An SSE stream (at ``url``) whose client reads as far as its endpoint event and never
    again; returns the socket, for the caller to close, and the session id."""
    parsed = httpx.URL(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills after a few answers
    sock.settimeout(timeout)
    sock.connect((parsed.host, parsed.port or 80))
    request = f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc.decode()}\r\n"
    sock.sendall(f"{request}Accept: text/event-stream\r\n\r\n".encode())
    seen = b""
    while not (found := _SSE_SESSION_ID.search(seen)):
        chunk = sock.recv(4096)
        if not chunk:
            sock.close()
            raise RuntimeError(f"the SSE stream ended before its endpoint event: {seen!r}")
        seen += chunk
    return sock, found[1].decode()
