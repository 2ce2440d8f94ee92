"""Fixtures of the embedded API's tests (the suite-wide ones are in ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture(params=["in-process", "real-http"])
async def api(
    request: pytest.FixtureRequest, local_http: httpx.AsyncClient, local_api_key: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process and over real HTTP (uvicorn on 127.0.0.1), so each test runs both ways."""
    if request.param == "in-process":
        yield local_http
        return
    url: str = request.getfixturevalue("local_api_url")
    async with httpx.AsyncClient(base_url=url, headers={"X-Avala-Api-Key": local_api_key}) as c:
        yield c
