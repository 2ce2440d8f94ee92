"""``avala-mcp demo``: the scripted session passes, and a broken step is named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from avala_mcp.commands.demo import NEW_SLICE_NAME
from avala_mcp.embedded import create_app
from avala_mcp.embedded.seed import DEMO_DATASET_UID

pytestmark = pytest.mark.anyio

SCRIPT = str(Path(sys.executable).with_name("avala-mcp"))
STEPS = [
    "1. List the slices of the organization 'acme-ai'",
    "2. Check that the new slice's name is free",
    "3. Create 'Rainy night pedestrians'",
    "4. Read its items",
    "5. Try to create a second slice with the same name",
    "6. Delete the slice, with the user's confirmation",
    "7. Ask for the deleted slice",
]


def run_demo(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    return subprocess.run(
        [SCRIPT, "demo", *argv], env=env, capture_output=True, text=True, timeout=120
    )


def test_demo_runs_every_step(tmp_path: Path) -> None:
    done = run_demo(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    positions = [out.index(step) for step in STEPS]
    assert positions == sorted(positions)
    assert "the server asks the user" in out
    assert "failure conflict" in out
    assert "failure not_found" in out
    assert out.count("hint: ") == 2
    assert "All 7 steps behaved as expected." in out
    assert "\x1b[" not in out, "no colours when stdout is not a terminal"


async def test_demo_names_the_step_that_failed(tmp_path: Path) -> None:
    """With the demo's slice already in the database, the name check fails, and says so."""
    db_path = tmp_path / "avala.db"
    key = "demo-test-key"
    transport = httpx.ASGITransport(app=create_app(db_path, api_key=key))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1/api/v1", headers={"X-Avala-Api-Key": key}
    ) as http:
        created = await http.post(
            "/slices/", json={"name": NEW_SLICE_NAME, "dataset": DEMO_DATASET_UID}
        )
        assert created.status_code == 201

    done = run_demo(tmp_path, "--db", str(db_path))
    assert done.returncode == 1
    assert 'demo failed at step "Check that the new slice\'s name is free"' in done.stdout
    assert "Check that the new slice's name is free" in done.stderr
