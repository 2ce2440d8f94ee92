"""The database file holds API key hashes and every dataset: a new one is its owner's alone."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from avala_mcp.embedded.store import Store


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common umask 022, under which a file made without care is world-readable (0644)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_files_are_0600(tmp_path: Path, usual_umask: None) -> None:
    db = tmp_path / "new.sqlite3"
    store = Store(db)
    try:
        store.slug_for(1, "A read, so that a reader has the WAL index open too")
        sidecars = [Path(f"{db}-wal"), Path(f"{db}-shm")]
        assert all(path.exists() for path in sidecars)
        assert {str(path): _mode(path) for path in [db, *sidecars]} == {
            str(path): 0o600 for path in [db, *sidecars]
        }
    finally:
        store.close()
    assert _mode(db) == 0o600


def test_an_existing_database_keeps_the_mode_its_owner_gave_it(
    tmp_path: Path, usual_umask: None
) -> None:
    db = tmp_path / "shared.sqlite3"
    Store(db).close()
    db.chmod(0o640)
    Store(db).close()
    assert _mode(db) == 0o640
