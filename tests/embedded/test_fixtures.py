"""The shared embedded-API fixtures work as documented in ``tests/conftest.py``."""

from __future__ import annotations

import httpx
import pytest

from avala_mcp.embedded.seed import DEMO_ORG, DEMO_SLICE_SLUG

pytestmark = pytest.mark.anyio


async def test_in_process_client_reads_the_demo_slice(local_http: httpx.AsyncClient) -> None:
    response = await local_http.get(f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/")
    assert response.status_code == 200
    assert response.json()["slug"] == DEMO_SLICE_SLUG


async def test_real_server_answers_over_http(local_api_url: str, local_api_key: str) -> None:
    assert local_api_url.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient(headers={"X-Avala-Api-Key": local_api_key}) as client:
        response = await client.get(f"{local_api_url}/slices/{DEMO_ORG}/list/")
        unauthorized = await client.get(
            f"{local_api_url}/slices/{DEMO_ORG}/list/", headers={"X-Avala-Api-Key": "wrong"}
        )
    assert response.status_code == 200
    assert response.json()["count"] >= 1
    assert unauthorized.status_code == 401


def test_real_server_in_a_sync_test(local_api_url: str, local_api_key: str) -> None:
    response = httpx.get(
        f"{local_api_url}/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/",
        headers={"X-Avala-Api-Key": local_api_key},
    )
    assert response.status_code == 200
