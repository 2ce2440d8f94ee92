"""Figure 5, response size: what a model reads, against how the official server would show it.

The official Avala MCP server returns the API's JSON pretty-printed with 2-space indentation;
the baseline is exactly that for the same page. The subject is the text block of our tool result
(UTF-8 bytes). Sizes do not depend on load, so one call each is enough.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client
from mcp.types import TextContent

from avala_mcp.commands.serve import LOCAL_BASE_URL
from avala_mcp.embedded import app_store, close_app, create_app
from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_SLICE_SLUG
from avala_mcp.server import build_server
from avala_mcp.settings import Settings
from benchmarks.common import comparison, seed_demo_db

TARGET = 0.6
PAGE = 20
API_KEY = "size-benchmark-key"
# Slices added to the demo organization's so that a page holds PAGE of them, with descriptions
# and filters like real ones.
_EXTRA_SLICES = [
    (
        f"{weather.title()} {time_of_day} scenes",
        f"{weather.title()} weather at {time_of_day}, for robustness checks of the detector",
        {
            "and": [
                {"field": "metadata.weather", "op": "eq", "value": weather},
                {"field": "metadata.time_of_day", "op": "eq", "value": time_of_day},
            ]
        },
    )
    for weather in ("rain", "fog", "snow", "clear")
    for time_of_day in ("dusk", "dawn")
]


def _text_bytes(result: Any) -> int:
    if result.is_error:
        raise RuntimeError(f"the tool failed: {result.structured_content}")
    block = result.content[0]
    assert isinstance(block, TextContent)
    return len(block.text.encode())


def _pretty_bytes(body: Any) -> int:
    # JSON.stringify(body, null, 2): two-space indent, non-ASCII kept as is.
    return len(json.dumps(body, indent=2, ensure_ascii=False).encode())


async def _measure(app: Any) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    settings = Settings(api_key=API_KEY, base_url=LOCAL_BASE_URL)
    calls = {
        "list_slices": (
            f"slices/{DEMO_ORG}/list/",
            {"owner": DEMO_ORG, "limit": PAGE},
        ),
        "list_slice_items": (
            f"slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/items/list/",
            {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "limit": PAGE, "detail": "concise"},
        ),
    }
    figures: dict[str, Any] = {}
    async with (
        httpx.AsyncClient(
            transport=transport,
            base_url=f"{LOCAL_BASE_URL}/",
            headers={"X-Avala-Api-Key": API_KEY},
        ) as api,
        Client(build_server(settings, transport=transport)) as client,
    ):
        for tool, (path, arguments) in calls.items():
            response = await api.get(path, params={"limit": PAGE})
            response.raise_for_status()
            body = response.json()
            if len(body["results"]) != PAGE:
                raise RuntimeError(f"{path}: {len(body['results'])} results, not {PAGE}")
            subject = _text_bytes(await client.call_tool(tool, arguments))
            figures[tool] = comparison(
                subject,
                _pretty_bytes(body),
                TARGET,
                "bytes",
                baseline_is="the API's page as 2-space-indented JSON",
                arguments=arguments,
            )
    return figures


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="avala-bench-size-") as workdir:
        app = create_app(seed_demo_db(Path(workdir) / "size.sqlite3"), api_key=API_KEY)
        try:
            store = app_store(app)
            dataset = store.dataset(DEMO_DATASET_UID)
            assert dataset is not None
            missing = PAGE - store.count_slices("owner", dataset.owner.id)
            for name, description, raw_filter in _EXTRA_SLICES[: max(0, missing)]:
                store.create_slice(dataset, name, description, raw_filter)
            figures = anyio.run(_measure, app)
        finally:
            close_app(app)
    return {"what": f"text bytes of one page of {PAGE}", **figures}
