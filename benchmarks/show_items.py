"""``python -m benchmarks.show_items [--quick]``: what seeing 4 demo frames costs, as JSON.

``show_items`` of 4 items of the demo slice against ``list_slice_items`` of the same 4 items,
both warm, both through a real in-memory MCP client on the server over the embedded API
(``avala-mcp api``, a child process: uvicorn on loopback), samples alternating. Reported: the
median wall time of each and their ratio, the result bytes of each (the JSON a client receives),
and the images (bytes, sizes). The 150 ms for ``show_items`` is an orientation, not a gate: the
machine is shared, so the run reports and does not fail.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import anyio

from benchmarks.common import comparison, embedded_api, interleave_async, median

KEY = "benchmark-show-items-key"
TARGET_MS = 150.0
ROUNDS, QUICK_ROUNDS = 30, 3
WARM_UP = 2


def _result_bytes(result: Any) -> int:
    """The bytes of a tool result as it crosses the wire (compact JSON, UTF-8)."""
    return len(result.model_dump_json(by_alias=True, exclude_none=True).encode())


async def figures(base_url: str, rounds: int) -> dict[str, Any]:
    from mcp import Client
    from mcp.types import CallToolResult

    from avala_mcp.embedded.seed import DEMO_ORG, DEMO_SLICE_SLUG
    from avala_mcp.server import build_server
    from avala_mcp.settings import Settings

    arguments = {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "limit": 4}
    server = build_server(Settings(api_key=KEY, base_url=base_url, max_retries=0))
    last: dict[str, CallToolResult] = {}
    async with Client(server) as client:

        def timed_call(tool: str) -> Any:
            async def run() -> float:
                started = time.perf_counter()
                result = await client.call_tool(tool, arguments)
                seconds = time.perf_counter() - started
                if result.is_error:
                    raise RuntimeError(f"{tool} failed: {result.structured_content}")
                last[tool] = result
                return seconds

            return run

        actions = {tool: timed_call(tool) for tool in ("show_items", "list_slice_items")}
        for _ in range(WARM_UP):  # connections, Pillow's imports, the database, the frames
            for action in actions.values():
                await action()
        walls = await interleave_async(rounds, actions)
    shown, listed = last["show_items"], last["list_slice_items"]
    images = (shown.structured_content or {}).get("images", [])
    subject_ms, baseline_ms = (
        median(walls["show_items"]) * 1000,
        median(walls["list_slice_items"]) * 1000,
    )
    return {
        "wall": comparison(
            subject_ms,
            baseline_ms,
            None,
            "ms per call, median",
            samples=rounds,
            target_ms=TARGET_MS,
            target_met=subject_ms <= TARGET_MS,
        ),
        "result_bytes": comparison(
            _result_bytes(shown), _result_bytes(listed), None, "bytes of the result"
        ),
        "images": [
            {key: entry.get(key) for key in ("mime_type", "width", "height", "note")}
            | {"bytes": _image_bytes(shown, entry)}
            for entry in images
        ],
    }


def _image_bytes(result: Any, entry: dict[str, Any]) -> int | None:
    """The decoded size of an image of ``result`` (base64 is 4/3 of it on the wire)."""
    index = entry.get("content_index")
    if index is None:
        return None
    return len(result.content[index].data) * 3 // 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few rounds (a smoke run)")
    args = parser.parse_args(argv)
    rounds = QUICK_ROUNDS if args.quick else ROUNDS
    report: dict[str, Any] = {"quick": args.quick}
    with embedded_api("show-items", KEY) as base_url:
        report.update(anyio.run(figures, base_url, rounds))
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
