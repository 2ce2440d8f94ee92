"""``python -m avala_mcp``: the same as the ``avala-mcp`` console script."""

from avala_mcp.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
