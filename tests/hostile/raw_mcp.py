"""MCP messages written by hand, for tests that speak to the HTTP transports below the client:
a bare handshake, a ping, and a 2026 ``subscriptions/listen`` (a stream that stays open)."""

from __future__ import annotations

from typing import Any

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
