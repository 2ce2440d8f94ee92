#!/bin/sh
# The server side of streamable_http_client.json: avala-mcp over streamable HTTP on loopback,
# every MCP request checked against a bearer token (GET /healthz stays public).
set -eu
AVALA_MCP_AUTH_TOKEN="${AVALA_MCP_AUTH_TOKEN:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')}"
export AVALA_MCP_AUTH_TOKEN
echo "bearer token for your client: $AVALA_MCP_AUTH_TOKEN" >&2
# Against Avala's cloud: export AVALA_API_KEY first and drop --local.
exec avala-mcp serve --local --transport streamable-http --host 127.0.0.1 --port 8000
