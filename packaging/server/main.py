"""The MCP Bundle's entry point: the host's user settings, passed as arguments, start
``avala-mcp serve`` (see avala_mcp/commands/bundle.py and manifest.json)."""

import sys

from avala_mcp.cli import main
from avala_mcp.commands.bundle import serve_argv

if __name__ == "__main__":
    raise SystemExit(main(serve_argv(sys.argv[1:])))
