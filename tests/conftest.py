"""Fixtures shared by the whole suite.

Async tests use anyio's pytest plugin (``pytestmark = pytest.mark.anyio``): unlike
pytest-asyncio's fixtures, its yield-fixtures may hold an MCP ``Client`` open across a test.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
