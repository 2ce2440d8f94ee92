"""The framework floor: a minimal MCPServer with one tool, nothing of ours.

Every per-call and start-up figure divides by this server measured in the same run, so the ratio
shows what avala-mcp adds on top of the SDK. Run as a script so that spawning it imports only
the SDK, exactly as a bare server would:

    python benchmarks/floor_server.py [stdio | streamable-http PORT]
"""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer


def build_floor() -> MCPServer:
    # WARNING, like avala-mcp's default: the SDK's INFO default would log every request.
    server = MCPServer("floor", log_level="WARNING")

    # async, like avala-mcp's tools: a sync tool would add a worker-thread hop to the floor.
    @server.tool()
    async def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    return server


def main(argv: list[str]) -> None:
    server = build_floor()
    if not argv or argv[0] == "stdio":
        server.run()
    else:
        import uvicorn

        # The same uvicorn settings as ``avala-mcp serve`` (no access log), so the two differ
        # only in the app; the SDK's own run() would log every request at INFO.
        app = server.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1")
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=int(argv[1]),
            log_config=None,
            log_level=None,
            access_log=False,
            lifespan="on",
        )
        uvicorn.Server(config).run()


if __name__ == "__main__":
    main(sys.argv[1:])
