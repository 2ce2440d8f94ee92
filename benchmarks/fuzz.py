"""Fuzz every MCP tool on demand, through a real MCP client; prints one JSON document.

    python benchmarks/fuzz.py --calls 5000

Runs the strategies and checks of ``tests/hostile/fuzzing.py`` (the CI test runs a few hundred
calls) against the embedded API on a fresh temporary database, split evenly between the two
protocol eras (in-memory ``mode="auto"`` and ``mode="legacy"``). Exits 1, with hypothesis's
minimal failing example on stderr, at the first call that breaks the contract: a protocol error,
a crash, a failure without the seven-key failure payload, an echoed hostile value.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

TESTS = Path(__file__).resolve().parent.parent / "tests"
# The fuzzing code is the test suite's own; its helpers import each other by module name.
sys.path[:0] = [str(TESTS), str(TESTS / "server"), str(TESTS / "hostile")]

import canaries  # noqa: E402
from fuzzing import fuzz  # noqa: E402
from mcp import Client  # noqa: E402
from mcp_checks import local_server, success  # noqa: E402

from avala_mcp.embedded import close_app, create_app  # noqa: E402
from avala_mcp.embedded.seed import DEMO_ORG  # noqa: E402

MODES = ("auto", "legacy")


async def run(calls: int) -> dict[str, Any]:
    report: dict[str, Any] = {"calls": 0, "protocol_errors": 0, "crashes": 0, "modes": {}}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        app = create_app(Path(workdir) / "fuzz.sqlite3", api_key=canaries.API_KEY)
        try:
            for mode in MODES:
                async with Client(local_server(app, canaries.API_KEY), mode=mode) as client:
                    tally = await fuzz(client, calls // len(MODES))
                    # Still answering after all of it.
                    await success(client, "list_slices", {"owner": DEMO_ORG})
                report["modes"][mode] = tally.report()
                report["calls"] += tally.calls
        finally:
            close_app(app)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=5000, help="calls in all (default 5000)")
    args = parser.parse_args()
    report = anyio.run(run, args.calls)
    print(json.dumps(report, indent=2, ensure_ascii=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
