"""Crash safety: ``kill -9`` of ``avala-mcp import`` midway through a file, and of ``avala-mcp api``
during concurrent creates. Afterwards the database opens cleanly, passes SQLite's integrity and
foreign-key checks, holds no partial dataset, and keeps every slice it acknowledged.

The import runs on a file of ``AVALA_MCP_KILL_ROWS`` rows (default 100,000 here; the issue's full
size is ``AVALA_MCP_KILL_ROWS=200000 pytest tests/hostile/test_crash.py``) and is killed once its
progress bar shows the first batch inside the open transaction.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import canaries
import httpx
import pytest
from anyio.streams.text import TextReceiveStream

from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.runner import serve_in_thread
from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_SLICE_SLUG

pytestmark = pytest.mark.anyio

ROWS = int(os.environ.get("AVALA_MCP_KILL_ROWS", "100000"))
CREATES = 60
ACKNOWLEDGED_BEFORE_KILL = 10
WAIT = 60.0  # seconds any step may take before the test calls it a hang


def check_database(db: Path) -> sqlite3.Connection:
    """The database after a crash: it opens, and SQLite finds nothing wrong in it."""
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    return conn


def check_app_serves(db: Path) -> None:
    """The embedded API opens the database and serves from it."""
    app = create_app(db, api_key=canaries.API_KEY)
    try:
        with serve_in_thread(app) as base:
            response = httpx.get(
                f"{base}/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/",
                headers={"X-Avala-Api-Key": canaries.API_KEY},
                timeout=WAIT,
            )
        assert response.status_code == 200
    finally:
        close_app(app)


@pytest.mark.slow
def test_kill_9_midway_through_an_import_leaves_no_partial_dataset(
    local_db_path: Path, tmp_path: Path
) -> None:
    with sqlite3.connect(local_db_path) as conn:
        items_before = conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    conn.close()
    rows = tmp_path / "rows.jsonl"
    rows.write_bytes(
        b"".join(b'{"key": "k%d", "metadata": {"n": %d}}\n' % (n, n) for n in range(ROWS))
    )
    argv = [sys.executable, "-m", "avala_mcp", "import", str(rows), "--owner", "crash-lab",
            "--dataset", "Half", "--db", str(local_db_path)]  # fmt: skip
    master, terminal = pty.openpty()  # stderr on a terminal: the progress bar shows each batch
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=terminal)  # fmt: skip
    os.close(terminal)
    try:
        # The bar counts items already inserted in the open transaction: kill at the first.
        shown = ""
        while not re.search(r"[1-9][0-9,]* items", shown):
            assert select.select([master], [], [], WAIT)[0], f"no progress; got {shown!r}"
            shown += os.read(master, 4096).decode(errors="replace")
        process.kill()
        assert process.wait(timeout=WAIT) == -signal.SIGKILL, "the import ended before the kill"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    conn = check_database(local_db_path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM datasets WHERE name = 'Half'").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM items").fetchone() == (items_before,)
    finally:
        conn.close()
    check_app_serves(local_db_path)


@pytest.fixture
def api_process(local_db_path: Path) -> list[str]:
    """argv of ``avala-mcp api`` on the demo database, on an ephemeral port."""
    return [sys.executable, "-m", "avala_mcp", "api", "--db", str(local_db_path), "--port", "0",
            "--api-key", canaries.API_KEY]  # fmt: skip


async def _serving_url(process: anyio.abc.Process) -> str:
    """Reads the child's stderr until it says where it serves."""
    assert process.stderr is not None
    seen = ""
    async for text in TextReceiveStream(process.stderr):
        seen += text
        found = re.search(r"serving (http://\S+)", seen)
        if found:
            return found.group(1)
    raise AssertionError(f"avala-mcp api exited: {seen}")


@pytest.mark.slow
async def test_kill_9_of_the_api_during_concurrent_creates_keeps_every_acknowledged_slice(
    local_db_path: Path, api_process: list[str]
) -> None:
    acknowledged: list[str] = []
    enough = anyio.Event()
    filter_ = {"field": "metadata.pedestrians", "op": "gte", "value": 1}
    async with await anyio.open_process(api_process) as process:
        try:
            with anyio.fail_after(WAIT):
                base = await _serving_url(process)
            headers = {"X-Avala-Api-Key": canaries.API_KEY}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=WAIT) as http:

                async def create(n: int) -> None:
                    body = {"name": f"Crash {n}", "dataset": DEMO_DATASET_UID, "filter": filter_}
                    try:
                        response = await http.post("/slices/", json=body)
                    except httpx.TransportError:
                        return  # cut off by the kill: neither acknowledged nor refused
                    assert response.status_code == 201, response.text
                    acknowledged.append(response.json()["slug"])
                    if len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                        enough.set()

                with anyio.fail_after(WAIT):
                    async with anyio.create_task_group() as tg:
                        for n in range(CREATES):
                            tg.start_soon(create, n)
                        await enough.wait()
                        process.kill()  # SIGKILL, with creates still in flight
        finally:
            if process.returncode is None:
                process.kill()
        assert await process.wait() == -signal.SIGKILL
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL
    conn = check_database(local_db_path)
    try:
        stored = {
            slug
            for (slug,) in conn.execute(
                "SELECT s.slug FROM slices s JOIN datasets d ON d.id = s.dataset_id "
                "JOIN accounts o ON o.id = s.owner_id WHERE s.name LIKE 'Crash %'"
            )
        }
        orphans = conn.execute(
            "SELECT COUNT(*) FROM slices s LEFT JOIN datasets d ON d.id = s.dataset_id "
            "WHERE d.id IS NULL"
        ).fetchone()
    finally:
        conn.close()
    assert set(acknowledged) <= stored  # nothing the API said it created was lost
    print(f"{len(acknowledged)} creates acknowledged, {len(stored)} stored, of {CREATES}")
    assert orphans == (0,)
    check_app_serves(local_db_path)
