"""Memory under hostile input (issue 11): three bounds, measured on 127.0.0.1. Prints one JSON
document.

    python -m benchmarks.hostile_memory [--posts 6000] [--initializes 10000] [--quick]

- ``import_non_regular_file``: ``avala-mcp import`` of a symlink to ``/dev/zero``, under a time
  and a 2 GiB address-space limit; it must be refused at once, with a nonzero exit, writing no
  database, and its peak RSS stays that of a process that read nothing.
- ``sse_unread_client``: ``serve --local --transport sse``; a client opens the event stream, reads
  only its endpoint event, then posts ``tools/list`` requests without ever reading an answer. The
  server closes the session once it holds ``MAX_SSE_BACKLOG`` unread messages (a 503, then 404).
- ``session_flood``: ``serve --local --transport streamable-http``; ``initialize`` after
  ``initialize``, each opening a session, then a real 2025-11-25 client must still connect and
  list its tools.

Server RSS is read from ``/proc/PID/status`` before and after; the figures are for a note, not a
target, so the run exits 0 unless an invariant above fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client

from avala_mcp.server.bounds import MAX_SSE_BACKLOG
from avala_mcp.server.http import MCP_PATHS, SSE_MESSAGE_PATH
from avala_mcp.settings import HttpLimits
from benchmarks.common import (
    CHILD_TIMEOUT,
    avala_command,
    child_env,
    child_server,
    free_port,
    memory_bytes,
)
from benchmarks.raw_mcp import ACCEPT, INITIALIZE, PING, unread_sse_stream

#: Address space of the import process: room for Python and SQLite, not for an unbounded read.
ADDRESS_SPACE = 2 * 2**30
MB = 2**20


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def import_non_regular_file(workdir: Path) -> dict[str, Any]:
    """``import`` of ``z.jsonl -> /dev/zero``: wall time, the child's own peak RSS (from
    ``wait4``, so nothing else this process ran counts), exit code and first line of stderr."""
    source = workdir / "z.jsonl"
    source.symlink_to("/dev/zero")
    db = workdir / "import.sqlite3"
    argv = avala_command("import", str(source), "--owner", "x", "--dataset", "y", "--db", str(db))
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            env=child_env(), preexec_fn=_limit_memory,
        )  # fmt: skip
        # A regression that reads forever is killed rather than left to hold the machine.
        killer = threading.Timer(CHILD_TIMEOUT, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        lines = stderr.read().decode(errors="replace").splitlines()
    return {
        "command": " ".join(["avala-mcp", *argv[1:]]),
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(usage.ru_maxrss * 1024 / MB, 1),  # ru_maxrss is in KiB on Linux
        "address_space_limit_mb": ADDRESS_SPACE // MB,
        "exit_code": process.returncode,
        "stderr_first_line": lines[0] if lines else "",
        "database_written": db.exists(),
    }


@contextlib.contextmanager
def serving(db: Path, transport: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``avala-mcp serve --local --transport TRANSPORT`` in a child process on an ephemeral port;
    yields the process and the URL of its MCP endpoint."""
    port = free_port()
    command = avala_command(
        "serve", "--local", "--db", str(db), "--transport", transport, "--port", str(port)
    )
    with child_server(command, port, child_env(AVALA_MCP_LOG_LEVEL="ERROR")) as process:
        yield process, f"http://127.0.0.1:{port}{MCP_PATHS[transport]}"


def sse_unread_client(workdir: Path, posts: int) -> dict[str, Any]:
    with serving(workdir / "sse.sqlite3", "sse") as (server, url):
        rss_before = memory_bytes(server.pid)
        sock, session = unread_sse_stream(url, CHILD_TIMEOUT)
        messages = url.removesuffix(MCP_PATHS["sse"]) + f"{SSE_MESSAGE_PATH}?session_id={session}"
        statuses: Counter[int] = Counter()
        refused_at = None
        try:
            with httpx.Client(timeout=CHILD_TIMEOUT) as http:
                http.post(messages, json=INITIALIZE).raise_for_status()
                for number in range(1, posts + 1):
                    listing = {"jsonrpc": "2.0", "id": 10 + number, "method": "tools/list"}
                    status = http.post(messages, json=listing).status_code
                    statuses[status] += 1
                    if status != 202 and refused_at is None:
                        refused_at = number
                after_close = http.post(messages, json=PING).status_code
            rss_after = memory_bytes(server.pid)
            peak = memory_bytes(server.pid, "VmHWM")
        finally:
            sock.close()
    return {
        "posts": posts,
        "documented_bound_messages": MAX_SSE_BACKLOG,
        "refused_at_post": refused_at,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "status_after_close": after_close,
        "server_rss_before_mb": round(rss_before / MB, 1),
        "server_rss_after_mb": round(rss_after / MB, 1),
        "server_rss_growth_mb": round((rss_after - rss_before) / MB, 1),
        "server_peak_rss_mb": round(peak / MB, 1),
    }


async def _legacy_tools(url: str) -> int:
    async with Client(url, mode="legacy") as client:
        return len((await client.list_tools()).tools)


def session_flood(workdir: Path, initializes: int) -> dict[str, Any]:
    limits = HttpLimits()
    with serving(workdir / "flood.sqlite3", "streamable-http") as (server, url):
        rss_before = memory_bytes(server.pid)
        statuses: Counter[int] = Counter()
        started = time.perf_counter()
        with httpx.Client(timeout=CHILD_TIMEOUT) as http:  # one keep-alive connection
            for _ in range(initializes):
                statuses[http.post(url, json=INITIALIZE, headers=ACCEPT).status_code] += 1
        seconds = time.perf_counter() - started
        rss_after = memory_bytes(server.pid)
        tools = anyio.run(_legacy_tools, url)
        peak = memory_bytes(server.pid, "VmHWM")
    return {
        "initializes": initializes,
        "seconds": round(seconds, 1),
        "session_bounds": {
            "max_sessions": limits.max_sessions,
            "max_per_client": limits.max_per_client,
        },
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "server_rss_before_mb": round(rss_before / MB, 1),
        "server_rss_after_mb": round(rss_after / MB, 1),
        "server_rss_growth_mb": round((rss_after - rss_before) / MB, 1),
        "server_peak_rss_mb": round(peak / MB, 1),
        "legacy_client_tools": tools,
    }


def run(posts: int, initializes: int, quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hostile-memory-") as directory:
        workdir = Path(directory)
        return {
            "quick": quick,
            "import_non_regular_file": import_non_regular_file(workdir),
            "sse_unread_client": sse_unread_client(workdir, posts),
            "session_flood": session_flood(workdir, initializes),
        }


def held(report: dict[str, Any]) -> bool:
    """Whether every bound held: the import refused, the SSE session closed, clients served."""
    imported, sse, flood = (
        report["import_non_regular_file"], report["sse_unread_client"], report["session_flood"]
    )  # fmt: skip
    return (
        imported["exit_code"] != 0
        and not imported["database_written"]
        and sse["refused_at_post"] is not None
        and flood["legacy_client_tools"] > 0
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=6000, help="SSE posts never read (6000)")
    parser.add_argument("--initializes", type=int, default=10_000, help="flood size (10000)")
    parser.add_argument("--quick", action="store_true", help="400 posts, 300 initializes")
    args = parser.parse_args()
    posts, initializes = (400, 300) if args.quick else (args.posts, args.initializes)
    report = run(posts, initializes, args.quick)
    print(json.dumps(report, indent=2))
    return 0 if held(report) else 1


if __name__ == "__main__":
    sys.exit(main())
