"""Where the embedded API keeps its database by default."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DB_ENV = "AVALA_MCP_DB"
DB_FILENAME = "slices.sqlite3"


def default_db_path() -> Path:
    """``AVALA_MCP_DB`` if set, else a file in the user's data directory."""
    configured = os.environ.get(DB_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("avala-mcp", appauthor=False)) / DB_FILENAME
