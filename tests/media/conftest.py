"""The media tests: image fetching, demo frames, and show_items through real MCP clients.

``test_show_items.py`` holds show_items to the checks every tool result passes, so it imports
the helpers of ``tests/server/mcp_checks.py`` rather than copying them.

``forbidden``: counting listeners on loopback (127.0.0.1, and ::1 where it exists) that no
fetch may connect to; ``media_servers.forbidden_urls`` names them.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from media_servers import CountingListener, ipv6_loopback

# tests/server has no __init__.py: pytest puts it on sys.path only once one of its modules is
# collected, and these tests must also run on their own (pytest tests/media).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))


@pytest.fixture
def forbidden() -> Iterator[list[CountingListener]]:
    hosts = ["127.0.0.1", *(["::1"] if ipv6_loopback() else [])]
    opened = [CountingListener(host) for host in hosts]
    try:
        yield opened
    finally:
        for listener in opened:
            listener.close()
