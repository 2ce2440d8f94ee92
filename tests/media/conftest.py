"""The media tests: image fetching, demo frames, and show_items through real MCP clients.

``test_show_items.py`` holds show_items to the checks every tool result passes, so it imports
the helpers of ``tests/server/mcp_checks.py`` rather than copying them.
"""

import sys
from pathlib import Path

# tests/server has no __init__.py: pytest puts it on sys.path only once one of its modules is
# collected, and these tests must also run on their own (pytest tests/media).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
