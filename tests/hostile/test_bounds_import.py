"""Every reader of outside input has a bound (issue 11), the import part: only a regular file is
read, a line or CSV record is at most 1 MiB, a CSV header is checked in one pass and capped, and
an item is at most what the embedded API can always serve back; a refusal names the line and
imports nothing.

``import`` runs as a subprocess under a time limit and an address-space limit, so that a reader
without a bound fails the test instead of exhausting the machine.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from avala_mcp.client import AvalaClient
from avala_mcp.contract import MAX_LIMIT
from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.rows import (
    MAX_CSV_COLUMNS,
    MAX_KEY_LENGTH,
    MAX_LINE_BYTES,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    MAX_URL_LENGTH,
)

pytestmark = pytest.mark.anyio

OWNER = "bounds-lab"
DATASET = "Bounded"
#: Seconds an import may take here; far more than any refusal needs.
SECONDS = 60
#: Address space of the import process: room for Python and SQLite, not for an unbounded read.
ADDRESS_SPACE = 2 * 2**30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_import(path: Path, db: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "avala_mcp", "import", str(path), "--owner", OWNER,
            "--dataset", DATASET, "--db", str(db)]  # fmt: skip
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=SECONDS, check=False,
        stdin=subprocess.DEVNULL, preexec_fn=_limit_memory,
    )  # fmt: skip


def imported_nothing(db: Path) -> bool:
    """No dataset of the test's name, or no database at all."""
    if not db.exists():
        return True
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM datasets WHERE name = ?", (DATASET,)).fetchone()
    conn.close()
    return bool(rows == (0,))


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return path


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("zero.jsonl", "a character device"),
        ("zero.csv", "a character device"),
        ("pipe.jsonl", "a FIFO"),
        ("folder.jsonl", "a directory"),
    ],
)
def test_what_is_not_a_regular_file_is_refused_at_once(
    tmp_path: Path, name: str, kind: str
) -> None:
    path = tmp_path / name
    if kind == "a character device":
        path.symlink_to("/dev/zero")
    elif kind == "a FIFO":
        os.mkfifo(path)
    else:
        path.mkdir()
    db = tmp_path / "db.sqlite3"
    done = run_import(path, db)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.splitlines() == [
        f"avala-mcp import: {path}: not a regular file ({kind}); nothing was imported"
    ]
    assert not db.exists()  # refused before the database was even opened


def test_a_line_over_1_mib_is_refused_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    huge = {"key": "big", "metadata": {"pad": "x" * (MAX_LINE_BYTES + 10)}}
    _jsonl(path, [{"key": "a"}, {"key": "b"}, huge, {"key": "c"}])
    db = tmp_path / "db.sqlite3"
    done = run_import(path, db)
    assert done.returncode == 1
    assert f"{path}: line 3: longer than 1 MiB; stopped reading there" in done.stderr
    assert done.stderr.rstrip().endswith("nothing was imported")
    assert imported_nothing(db)


def test_a_line_without_an_end_is_read_no_further_than_the_bound(tmp_path: Path) -> None:
    # 64 MiB without a newline: a reader without a bound holds all of it (and more) at once.
    path = tmp_path / "endless.jsonl"
    with path.open("wb") as out:
        out.write(b'{"key": "a"}\n')
        for _ in range(64):
            out.write(b"0" * 2**20)
    db = tmp_path / "db.sqlite3"
    done = run_import(path, db)
    assert done.returncode == 1
    assert f"{path}: line 2: longer than 1 MiB" in done.stderr
    assert imported_nothing(db)


def test_a_csv_record_spanning_lines_is_bounded_as_a_whole(tmp_path: Path) -> None:
    # Every cell under the csv module's own field limit, every line short; the record is not.
    cell = '"' + "\n".join(["y" * 1000] * 100) + '"'
    path = tmp_path / "tall.csv"
    path.write_text("key," + ",".join(f"c{n}" for n in range(12)) + "\n" + "k1," + ",".join(
        [cell] * 12
    ) + "\nk2," + ",".join(["1"] * 12) + "\n")  # fmt: skip
    db = tmp_path / "db.sqlite3"
    done = run_import(path, db)
    assert done.returncode == 1
    assert f"{path}: line 2: longer than 1 MiB; stopped reading there" in done.stderr
    assert imported_nothing(db)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            {"key": "k", "metadata": {"pad": "x" * MAX_METADATA_BYTES}},
            "'metadata' is 16,394 bytes as JSON, over 16 KiB",
        ),
        (
            {"key": "k", "metadata": {"pad": "é" * (MAX_METADATA_BYTES // 2)}},
            "'metadata' is 16,394 bytes as JSON, over 16 KiB",
        ),
        (
            {
                "key": "k",
                "metadata": json.loads('{"a":' * (MAX_METADATA_DEPTH + 1) + "1" + "}" * 33),
            },
            f"'metadata' is nested deeper than {MAX_METADATA_DEPTH} levels",
        ),
        ({"key": "k" * (MAX_KEY_LENGTH + 1)}, "'key' is longer than 1024 characters"),
        ({"key": "line\nbreak"}, "'key' must not contain control characters (such as a newline)"),
        (
            {"key": "k", "url": "https://x/" + "u" * MAX_URL_LENGTH},
            "'url' is longer than 2048 characters",
        ),
        (
            {"key": "k", "url": "https://x/\x00"},
            "'url' must not contain control characters (such as a newline)",
        ),
    ],
)
def test_an_item_past_a_bound_is_refused_with_its_line(
    tmp_path: Path, row: dict[str, object], problem: str
) -> None:
    path = _jsonl(tmp_path / "rows.jsonl", [{"key": "fine"}, row])
    db = tmp_path / "db.sqlite3"
    done = run_import(path, db)
    assert done.returncode == 1
    assert f"{path}: line 2: {problem}" in done.stderr
    assert imported_nothing(db)


def test_csv_metadata_is_bounded_the_same_way(tmp_path: Path) -> None:
    columns = [f"c{n}" for n in range(20)]
    path = tmp_path / "wide.csv"
    path.write_text(f"key,{','.join(columns)}\nk1,{','.join(['z' * 1000] * 20)}\n")
    db = tmp_path / "db.sqlite3"
    done = run_import(path, db)
    assert done.returncode == 1
    assert "line 2: 'metadata' is 20,171 bytes as JSON, over 16 KiB" in done.stderr
    assert imported_nothing(db)


def test_a_csv_header_is_checked_in_one_pass_and_capped(tmp_path: Path) -> None:
    # 100,000 columns: one count per column over all of them did not finish in 60 s.
    wide = tmp_path / "wide.csv"
    wide.write_text("key," + ",".join(f"c{n}" for n in range(100_000)) + "\n")
    db = tmp_path / "db.sqlite3"
    done = run_import(wide, db)
    assert done.returncode == 1
    assert "line 1: the header has 100,001 columns, over 1,024" in done.stderr
    repeated = tmp_path / "repeated.csv"
    names = [f"c{n}" for n in range(MAX_CSV_COLUMNS - 2)]
    repeated.write_text("key," + ",".join(names) + ",c7\nk,1\n")
    done = run_import(repeated, db)
    assert "line 1: the header has repeated column 'c7'" in done.stderr
    assert imported_nothing(db)


async def test_the_largest_items_import_accepts_are_served_back(tmp_path: Path) -> None:
    """A full page of the biggest items (4-byte characters in key and URL, escaped quotes in
    metadata) fits the client's cap, and a filter reads metadata nested as deep as allowed."""
    nested: object = 1
    for _ in range(MAX_METADATA_DEPTH - 1):
        nested = {"n": nested}
    quote_pad = '"' * ((MAX_METADATA_BYTES - 400) // 2)  # each shows as \" in JSON
    rows = [
        {
            "key": f"{n:04d}" + "𝄞" * (MAX_KEY_LENGTH - 4),
            "url": "https://x/" + "𝄞" * (MAX_URL_LENGTH - 10),
            "metadata": {"n": n, "deep": nested, "pad": quote_pad},
        }
        for n in range(MAX_LIMIT)
    ]
    path = _jsonl(tmp_path / "largest.jsonl", rows)
    db = tmp_path / "db.sqlite3"
    done = run_import(path, db)
    assert done.returncode == 0, done.stderr[-2000:]
    uid = done.stdout.strip()
    app = create_app(db, api_key="bounds-key-0123456789")
    try:
        async with AvalaClient(
            "bounds-key-0123456789",
            "http://127.0.0.1/api/v1",
            transport=httpx.ASGITransport(app=app),
        ) as client:
            whole = (await client.list_slices(OWNER)).results[0]
            page = await client.list_slice_items(OWNER, whole.slug, limit=MAX_LIMIT)
            assert len(page.results) == MAX_LIMIT
            deep = {
                "field": "metadata.deep" + ".n" * (MAX_METADATA_DEPTH - 1),
                "op": "eq",
                "value": 1,
            }
            made = await client.create_slice(name="Deepest", dataset=uid, filter=deep)
            assert made.item_count == MAX_LIMIT
    finally:
        close_app(app)
