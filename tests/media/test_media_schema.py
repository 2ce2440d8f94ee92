"""Schema version 2 (media): a database made by the code before it is migrated, in place.

The old database is made by the old code itself: the package as of the last commit whose
databases are version 1, taken out of this repository's history and run in a subprocess.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import httpx
import pytest

from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_SLICE_SLUG, OTHER_DATASET_UID
from avala_mcp.embedded.store import SCHEMA_VERSION, Store, StoreError

ROOT = Path(__file__).resolve().parents[2]
# The last commit of main whose databases are version 1 (no media root, demo urls on hosts
# that do not exist).
VERSION_1_COMMIT = "42f10d9b6ab73050bbe42061ae418065455437b7"
_MAKE = """
import sys
import avala_mcp
from avala_mcp.embedded.store import Store
print(avala_mcp.__file__)
Store(sys.argv[1]).close()
"""


def old_package(directory: Path) -> Path:
    """The package as of VERSION_1_COMMIT, unpacked under ``directory``; skips without git."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and this repository's history")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", VERSION_1_COMMIT, "avala_mcp"],
        capture_output=True, check=False,
    )  # fmt: skip
    if archive.returncode != 0:
        pytest.skip(f"commit {VERSION_1_COMMIT[:10]} is not in this clone's history")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(directory, filter="data")
    return directory


@pytest.fixture
def version_1_db(tmp_path: Path) -> Path:
    code = old_package(tmp_path / "old")
    db = tmp_path / "old.sqlite3"
    made = subprocess.run(
        [sys.executable, "-c", _MAKE, str(db)],
        cwd=code, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    # The old code made it, not this checkout's.
    assert made.stdout.strip().startswith(str(code))
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        # An item whose url someone changed: the migration must leave it alone.
        conn.execute("UPDATE items SET url = 'https://elsewhere.example/1.jpg' WHERE id = 1")
    conn.close()
    return db


def demo_urls(db: Path) -> dict[str, str | None]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT i.key, i.url FROM items i JOIN datasets d ON d.id = i.dataset_id "
            "WHERE d.uid IN (?, ?)",
            (DEMO_DATASET_UID, OTHER_DATASET_UID),
        ).fetchall()
    conn.close()
    return dict(rows)


def test_a_version_1_database_is_migrated(version_1_db: Path, tmp_path: Path) -> None:
    before = demo_urls(version_1_db)
    assert before["driving-scenes/frame_000002.jpg"] == (
        "https://storage.acme-ai.example/driving-scenes/frame_000002.jpg"
    )
    Store(version_1_db).close()
    with sqlite3.connect(version_1_db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        columns = [row[1] for row in conn.execute("PRAGMA table_info(datasets)")]
        assert columns[-1] == "media_root"
        assert (
            conn.execute("SELECT count(*) FROM datasets WHERE media_root IS NULL").fetchone()[0]
            == 2
        )
    conn.close()
    after = demo_urls(version_1_db)
    assert after["driving-scenes/frame_000001.jpg"] == "https://elsewhere.example/1.jpg"
    # Every other demo url is what a new database has.
    fresh = tmp_path / "fresh.sqlite3"
    Store(fresh).close()
    expected = demo_urls(fresh)
    assert expected["retail-shelves/shelf_00001.jpg"] == "media:retail-shelves/shelf_00001.jpg"
    del after["driving-scenes/frame_000001.jpg"], expected["driving-scenes/frame_000001.jpg"]
    assert after == expected
    # Opening it again changes nothing.
    Store(version_1_db).close()
    assert demo_urls(version_1_db) == {
        **after,
        "driving-scenes/frame_000001.jpg": "https://elsewhere.example/1.jpg",
    }


@pytest.mark.anyio
async def test_a_migrated_database_serves_frames(version_1_db: Path) -> None:
    app = create_app(version_1_db, api_key="migrated-key")
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://127.0.0.1/api/v1",
            headers={"X-Avala-Api-Key": "migrated-key"},
        ) as api:
            page = await api.get(f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/items/list/?limit=2")
            for item in page.json()["results"]:
                frame = await api.get(item["thumbnails"][1]["url"])
                assert frame.status_code == 200
                assert frame.headers["content-type"] == "image/jpeg"
    finally:
        close_app(app)


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "newer.sqlite3"
    Store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this avala-mcp understands"):
        Store(db)
