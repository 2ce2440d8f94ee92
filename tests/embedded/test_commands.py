"""``avala-mcp import`` and ``avala-mcp api``: good and bad files, all or nothing, serving."""

from __future__ import annotations

import json
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
import httpx
import pytest

from avala_mcp.cli import main
from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.importer import csv_value
from avala_mcp.embedded.paths import DB_ENV, default_db_path
from avala_mcp.embedded.seed import DEMO_ORG

UUID_LINE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
WAIT_SECONDS = 60.0


def snapshot(db: Path) -> list[str]:
    """Every row of the database, as SQL text."""
    with sqlite3.connect(db) as conn:
        dump = list(conn.iterdump())
    conn.close()
    return dump


def run_import(
    db: Path, file: Path, capsys: pytest.CaptureFixture[str], owner: str = "lab", name: str = "Set"
) -> tuple[int, str, str]:
    code = main(["import", str(file), "--owner", owner, "--dataset", name, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def items_of(db: Path, uid: str) -> list[tuple[str, str | None, dict[str, object]]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT i.key, i.url, i.metadata FROM items i JOIN datasets d ON d.id = i.dataset_id "
            "WHERE d.uid = ? ORDER BY i.id",
            (uid,),
        ).fetchall()
    conn.close()
    return [(key, url, json.loads(metadata)) for key, url, metadata in rows]


def test_jsonl_import(
    local_db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "items.jsonl"
    file.write_text(
        '{"key": "a.jpg", "url": "https://x/a.jpg", "metadata": {"weather": "rain", "n": 2}}\n'
        "\n"
        '{"key": "b.jpg"}\n'
        '{"key": "c.jpg", "url": null, "metadata": {"tags": ["x", 1], "deep": {"k": true}}}\n',
        encoding="utf-8",
    )
    code, out, err = run_import(local_db_path, file, capsys)
    assert code == 0, err
    uid = out.strip()
    assert UUID_LINE.match(uid)
    assert "3 items" in err
    assert "\r" not in err  # no progress bar when stderr is not a terminal
    assert items_of(local_db_path, uid) == [
        ("a.jpg", "https://x/a.jpg", {"weather": "rain", "n": 2}),
        ("b.jpg", None, {}),
        ("c.jpg", None, {"tags": ["x", 1], "deep": {"k": True}}),
    ]


def test_csv_import_types_numbers(
    local_db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "items.csv"
    file.write_bytes(
        b"\xef\xbb\xbfkey,url,weather,count,speed,zip,note\r\n"
        b"a.jpg,https://x/a.jpg,rain,3,2.5,007,\r\n"
        b'b.jpg,,sun,-1,1e3,10,"two\r\nlines"\r\n'
    )
    code, out, err = run_import(local_db_path, file, capsys)
    assert code == 0, err
    assert items_of(local_db_path, out.strip()) == [
        ("a.jpg", "https://x/a.jpg", {"weather": "rain", "count": 3, "speed": 2.5, "zip": "007"}),
        (
            "b.jpg",
            None,
            {"weather": "sun", "count": -1, "speed": 1000.0, "zip": 10, "note": "two\r\nlines"},
        ),
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), ("-0", 0), ("0", 0), ("01", "01"), ("1.50", 1.5), ("1e400", "1e400"),
     ("nan", "nan"), (str(2**64), str(2**64)), ("x1", "x1"), (" 1", " 1")],
)  # fmt: skip
def test_csv_cells(text: str, value: object) -> None:
    assert csv_value(text) == value
    assert type(csv_value(text)) is type(value)


@pytest.mark.parametrize(
    ("name", "content", "messages"),
    [
        (
            "bad.jsonl",
            b'{"key": "a"}\n{"key": ""}\nnot json\n[1]\n{"key": "b", "colour": 1}\n'
            b'{"key": "a"}\n{"key": "c", "metadata": 3}\n{"key": "d", "url": 5}\n',
            [
                "line 2: 'key' must be a non-empty string",
                "line 3: not valid JSON",
                "line 4: expected a JSON object",
                "line 5: unexpected field 'colour'",
                "line 6: duplicate key 'a'",
                "line 7: 'metadata' must be a JSON object",
                "line 8: 'url' must be a string",
            ],
        ),
        ("nan.jsonl", b'{"key": "a", "metadata": {"x": NaN}}\n', ["line 1: not valid JSON"]),
        ("bytes.jsonl", b'{"key": "a"}\n{"key": "\xff"}\n', ["line 2: not valid UTF-8"]),
        (
            "deep.jsonl",
            b'{"key": "a"}\n{"key": "b", "metadata": {"x": '
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}}\n",
            ["line 2: not valid JSON (nested too deeply)"],
        ),
        ("short.csv", b"key,url,w\na,u,1\nb,u\n", ["line 3: expected 3 fields, got 2"]),
        ("nokey.csv", b"name,url\na,u\n", ["line 1: the header has no 'key' column"]),
        ("twice.csv", b"key,w,w\na,1,2\n", ["line 1: the header has repeated column 'w'"]),
        ("empty.jsonl", b"", ["no items to import"]),
    ],
)
def test_bad_files_change_nothing(
    local_db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes,
    messages: list[str],
) -> None:
    before = snapshot(local_db_path)
    file = tmp_path / name
    file.write_bytes(content)
    code, out, err = run_import(local_db_path, file, capsys, owner="fresh-owner")
    assert code == 1
    assert out == ""
    for message in messages:
        assert f"{file}: {message}" in err or message in err
    assert "nothing was imported" in err
    assert snapshot(local_db_path) == before


def test_bad_rows_are_reported_in_file_order_and_counted(
    local_db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "bad.jsonl"
    # The duplicate on line 3 is found only when the rows are stored, after lines 4 and 5.
    file.write_text('{"key": "a"}\nnope\n{"key": "a"}\n{"x": 1}\nnope\n')
    code, _, err = run_import(local_db_path, file, capsys)
    reported = [line.split(": ")[1] for line in err.splitlines() if line.startswith(str(file))]
    assert code == 1
    assert reported == ["line 2", "line 3", "line 4", "line 5"]
    assert err.splitlines()[-1] == "avala-mcp import: 4 bad rows; nothing was imported"


def test_an_empty_file_is_not_called_a_bad_row(
    local_db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "empty.jsonl"
    file.write_bytes(b"")
    code, _, err = run_import(local_db_path, file, capsys)
    assert code == 1
    assert err.splitlines() == [
        f"{file}: no items to import",
        "avala-mcp import: nothing was imported",
    ]


@pytest.mark.parametrize(
    ("argv_tail", "message"),
    [
        (["--owner", "bad owner!", "--dataset", "x"], "--owner 'bad owner!'"),
        (["--owner", "dataset", "--dataset", "x"], "'dataset' is reserved"),
        # An owner the tools could never name (Python's "$" would let the newline through).
        (["--owner", "lab\n", "--dataset", "x"], "--owner 'lab\\n'"),
        (["--owner", "lab", "--dataset", "  "], "--dataset: This field may not be blank."),
    ],
)
def test_bad_arguments(
    local_db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv_tail: list[str],
    message: str,
) -> None:
    file = tmp_path / "items.jsonl"
    file.write_text('{"key": "a"}\n')
    assert main(["import", str(file), *argv_tail, "--db", str(local_db_path)]) == 2
    assert message in capsys.readouterr().err


def test_unknown_format_missing_file_and_existing_dataset(
    local_db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "items.txt"
    text.write_text("key\na\n")
    assert run_import(local_db_path, text, capsys)[0] == 1
    assert run_import(local_db_path, tmp_path / "absent.jsonl", capsys)[2].endswith(
        "no such file\n"
    )
    good = tmp_path / "items.jsonl"
    good.write_text('{"key": "a"}\n')
    assert run_import(local_db_path, good, capsys, owner=DEMO_ORG, name="Driving Scenes")[
        2
    ].endswith("'acme-ai' already has a dataset named 'Driving Scenes'; nothing was imported\n")


def _read_until(fd: int, pattern: re.Pattern[str], seen: list[str]) -> re.Match[str]:
    """Read a file descriptor until ``pattern`` shows up (or fail after WAIT_SECONDS of silence)."""
    while True:
        match = pattern.search("".join(seen))
        if match:
            return match
        ready, _, _ = select.select([fd], [], [], WAIT_SECONDS)
        assert ready, f"waited {WAIT_SECONDS}s for {pattern.pattern!r}; got {''.join(seen)!r}"
        chunk = os.read(fd, 4096)
        assert chunk, f"stream closed before {pattern.pattern!r}; got {''.join(seen)!r}"
        seen.append(chunk.decode(errors="replace"))


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_import_stopped_midway_leaves_no_trace(
    local_db_path: Path, tmp_path: Path, how: signal.Signals
) -> None:
    before = snapshot(local_db_path)
    # Only a regular file is imported; a million rows take seconds, the first batch milliseconds.
    rows = tmp_path / "many.jsonl"
    rows.write_bytes(b"".join(b'{"key": "k%d"}\n' % n for n in range(1_000_000)))
    master, terminal = pty.openpty()  # stderr on a terminal: the progress bar shows each batch
    process = subprocess.Popen(
        [sys.executable, "-m", "avala_mcp", "import", str(rows), "--owner", "half",
         "--dataset", "Half", "--db", str(local_db_path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal,
    )  # fmt: skip
    os.close(terminal)
    seen: list[str] = []
    try:
        # The bar counts items already inserted in the open transaction.
        _read_until(master, re.compile(r"[1-9][0-9,]* items"), seen)
        process.send_signal(how)
        code = process.wait(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()
        with_rest = seen
        try:
            while select.select([master], [], [], 0)[0]:
                chunk = os.read(master, 4096)
                if not chunk:
                    break
                with_rest.append(chunk.decode(errors="replace"))
        except OSError:
            pass
        os.close(master)
    if how == signal.SIGINT:
        assert code == 130
        assert "interrupted; nothing was imported" in "".join(with_rest)
    else:
        assert code == -signal.SIGKILL
    assert snapshot(local_db_path) == before


def test_default_db_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DB_ENV, str(tmp_path / "custom.sqlite3"))
    assert default_db_path() == tmp_path / "custom.sqlite3"
    monkeypatch.delenv(DB_ENV)
    assert default_db_path().name == "slices.sqlite3"
    assert "avala-mcp" in str(default_db_path())


def _start_api(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "avala_mcp", "api", "--port", "0", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    lines: list[str] = []
    assert process.stderr is not None
    # Raw reads: select() sees the pipe, not what a text wrapper has already buffered, so a
    # readline() loop would wait for output that was already read.
    fd, pending = process.stderr.fileno(), ""
    while True:
        ready, _, _ = select.select([fd], [], [], WAIT_SECONDS)
        assert ready, f"no output from avala-mcp api: {lines}"
        chunk = os.read(fd, 65536).decode()
        assert chunk, f"avala-mcp api exited: {lines}"
        *complete, pending = (pending + chunk).split("\n")
        for line in complete:
            lines.append(f"{line}\n")
            if "serving http" in line:  # the last line the callers read
                return process, lines


@pytest.fixture
def api_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AVALA_API_KEY", DB_ENV)}
    env[DB_ENV] = str(tmp_path / "api.sqlite3")
    return env


def _stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Interrupt the server; its exit code, stdout and the rest of its stderr."""
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=WAIT_SECONDS)
    return process.returncode, out, err


KEY_HEADER = "X-Avala-Api-Key"


def _list_through_api(
    args: list[str], env: dict[str, str], key: str
) -> tuple[httpx.Response, list[str], int, str, str]:
    """Start ``avala-mcp api``, list the demo owner's slices with ``key``, stop it.

    The response, the start-up lines, and the exit code, stdout and rest of stderr.
    """
    process, lines = _start_api(args, env)
    try:
        url = re.search(r"serving (\S+)", lines[-1])
        assert url is not None
        response = httpx.get(f"{url.group(1)}/slices/{DEMO_ORG}/list/", headers={KEY_HEADER: key})
    finally:
        code, out, err = _stop(process)
    return response, lines, code, out, err


def test_api_command_serves_with_the_given_key(api_env: dict[str, str], local_api_key: str) -> None:
    response, lines, code, out, err = _list_through_api(
        ["--api-key", local_api_key, "--rate-limit", "100"], api_env, local_api_key
    )
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit"] == "100"
    assert code == 0
    assert out == ""  # logs, access lines included, go to stderr only
    assert f"GET /api/v1/slices/{DEMO_ORG}/list/" in err
    assert not any(local_api_key in line for line in [*lines, err])
    assert any(api_env[DB_ENV] in line for line in lines)


def test_api_command_says_it_adopts_the_environment_key_and_honours_the_log_level(
    api_env: dict[str, str], local_api_key: str
) -> None:
    env = {**api_env, "AVALA_API_KEY": local_api_key, "AVALA_MCP_LOG_LEVEL": "WARNING"}
    response, lines, code, _, err = _list_through_api([], env, local_api_key)
    assert response.status_code == 200
    assert code == 0
    assert any("the key in AVALA_API_KEY is now a key of user 'demo'" in line for line in lines)
    assert "GET /api/v1" not in err  # no access lines at WARNING
    assert "Started server process" not in "".join(lines) + err


def test_api_command_refuses_an_unknown_log_level(api_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "avala_mcp", "api", "--port", "0"],
        env={**api_env, "AVALA_MCP_LOG_LEVEL": "LOUD"},
        capture_output=True, text=True, check=False, timeout=WAIT_SECONDS,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "avala-mcp api: AVALA_MCP_LOG_LEVEL must be one of "
        "DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"
    ]


def test_api_command_generates_a_key_and_warns_off_loopback(api_env: dict[str, str]) -> None:
    process, lines = _start_api(["--host", "0.0.0.0"], api_env)
    try:
        key_line = next(line for line in lines if "API key of user 'demo'" in line)
        key = key_line.rsplit(" ", 1)[1].strip()
        port = re.search(r":(\d+)/api/v1", lines[-1])
        assert port is not None
        base = f"http://127.0.0.1:{port.group(1)}/api/v1"
        good = httpx.get(f"{base}/slices/{DEMO_ORG}/list/", headers={KEY_HEADER: key})
        bad = httpx.get(f"{base}/slices/{DEMO_ORG}/list/")
    finally:
        _stop(process)
    assert any("warning: binding 0.0.0.0" in line for line in lines)
    assert good.status_code == 200
    assert bad.status_code == 401


def test_api_command_reports_a_foreign_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    assert main(["api", "--db", str(foreign), "--api-key", "k"]) == 1
    assert "not an avala-mcp database" in capsys.readouterr().err


def test_app_reuses_an_imported_dataset(
    local_db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "items.jsonl"
    file.write_text("".join(f'{{"key": "k{n}", "metadata": {{"n": {n}}}}}\n' for n in range(50)))
    code, out, _ = run_import(local_db_path, file, capsys, owner="lab", name="Numbers")
    assert code == 0
    app = create_app(local_db_path, api_key="k")
    try:
        transport = httpx.ASGITransport(app=app)

        async def create_and_list() -> tuple[httpx.Response, httpx.Response]:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://t/api/v1", headers={KEY_HEADER: "k"}
            ) as client:
                created = await client.post(
                    "/slices/",
                    json={
                        "name": "Big",
                        "dataset": out.strip(),
                        "filter": {"field": "metadata.n", "op": "gte", "value": 40},
                    },
                )
                return created, await client.get("/slices/lab/list/")

        response, listing = anyio.run(create_and_list)
        slices = listing.json()["results"]
    finally:
        close_app(app)
    assert response.status_code == 201
    assert response.json()["item_count"] == 10
    assert response.json()["owner"] == "lab"
    # The import's own slice, holding the whole dataset, is how list_slices finds the dataset.
    whole = next(entry for entry in slices if entry["name"] == "All Numbers")
    assert (whole["slug"], whole["dataset"], whole["item_count"]) == (
        "all-numbers",
        out.strip(),
        50,
    )
    assert "filter" not in whole  # a listing shows none; the slice itself says null


def test_import_streams_in_flat_memory(local_db_path: Path, tmp_path: Path) -> None:
    import tracemalloc

    from avala_mcp.embedded.importer import import_file
    from avala_mcp.embedded.store import Store

    file = tmp_path / "many.jsonl"
    with file.open("w") as out:
        for n in range(15_000):
            out.write(json.dumps({"key": f"k{n:06d}", "metadata": {"pad": "x" * 600, "n": n}}))
            out.write("\n")
    store = Store(local_db_path)
    tracemalloc.start()
    try:
        _, count = import_file(store, file, "lab", "Many")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        store.close()
    assert count == 15_000
    # Python holds about one batch at a time, never the whole file (about 9 MB).
    assert peak < file.stat().st_size / 2
