"""The MCP server over :class:`~avala_mcp.client.AvalaClient`: part two of three.

It reaches the Slices API only through the client (it never builds a URL) and imports nothing of
the embedded API. See ``docs/architecture.md``.
"""

from avala_mcp.server.app import INSTRUCTIONS, AvalaServer, ServerState, build_server

__all__ = ["INSTRUCTIONS", "AvalaServer", "ServerState", "build_server"]
