#!/bin/sh
# Claude Code: register avala-mcp with `claude mcp add NAME [options] -- COMMAND...`: the
# server's name first (an option such as --env placed before it would take the name as one of
# its values), then the server's command line after `--`. Copy the one line you need; this file
# is not meant to be run as a whole.

# Against Avala's cloud, with your API key:
claude mcp add avala --env AVALA_API_KEY="$AVALA_API_KEY" -- avala-mcp serve

# Read-only (no tool that creates or deletes is offered):
claude mcp add avala-readonly --env AVALA_API_KEY="$AVALA_API_KEY" -- avala-mcp serve --read-only

# The embedded demo API, no key needed:
claude mcp add avala-demo -- avala-mcp serve --local

# Without installing anything first: uvx fetches avala-mcp from PyPI and runs it.
claude mcp add avala --env AVALA_API_KEY="$AVALA_API_KEY" -- uvx avala-mcp serve

# Or let avala-mcp write Claude Code's user config itself (see the README):
avala-mcp install claude-code --with-key

# A running streamable-HTTP server (see streamable_http_server.sh), with its bearer token:
claude mcp add --transport http avala-http http://127.0.0.1:8000/mcp --header "Authorization: Bearer $AVALA_MCP_AUTH_TOKEN"
