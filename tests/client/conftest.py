"""Fixtures of the client's tests: ``served``, the embedded API (demo data) to put behind the
stand-ins of ``standins.py``, reached in-process (ASGI) or over uvicorn as its parameter says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from standins import Served

from avala_mcp.embedded import close_app, create_app


@pytest.fixture(params=["in_process", "over_http"])
def served(
    request: pytest.FixtureRequest, local_db_path: Path, local_api_key: str
) -> Iterator[Served]:
    app = create_app(local_db_path, api_key=local_api_key)
    served = Served(app, local_api_key, over_http=request.param == "over_http")
    try:
        with served.servers:
            yield served
    finally:
        close_app(app)


@pytest.fixture
def served_in_process(local_db_path: Path, local_api_key: str) -> Iterator[Served]:
    """``served``, in-process only: for property tests that call it many times."""
    app = create_app(local_db_path, api_key=local_api_key)
    try:
        yield Served(app, local_api_key, over_http=False)
    finally:
        close_app(app)
