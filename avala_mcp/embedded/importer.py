"""``avala-mcp import``: load items from JSONL or CSV into a new dataset, all or nothing.

The file is read as a stream of bytes, line by line, in batches, so memory stays flat whatever its
size. The whole import is one transaction: a bad row, an interruption or a killed process leaves
the database exactly as it was.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from avala_mcp.contract import RESERVED_SEGMENTS, SEGMENT_RE
from avala_mcp.embedded import naming, strict_json
from avala_mcp.embedded.media.files import LocalMedia
from avala_mcp.embedded.paths import default_db_path
from avala_mcp.embedded.store import ImportFailed, NewItem, Store, StoreError, metadata_json

BATCH_SIZE = 2000
MAX_REPORTED_ERRORS = 50
MAX_KEY_LENGTH = 1024
_JSONL_FIELDS = frozenset({"key", "url", "metadata"})
_INT_RE = re.compile(r"^-?(0|[1-9][0-9]*)$")
_FLOAT_RE = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
_INT64 = 2**63


class RowError(ValueError):
    """One bad row; the message says what is wrong."""


class _ByteLines:
    """The lines of a binary file, decoded, counting the bytes read (for the progress bar)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.bytes_read = 0
        self.line = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.bytes_read += len(raw)
            self.line += 1
            if self.line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte-order mark
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise RowError(f"line {self.line}: not valid UTF-8 ({error.reason})") from None


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise RowError("'key' must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise RowError(f"'key' is longer than {MAX_KEY_LENGTH} characters")
    return key


def _check_url(url: object) -> str | None:
    if url is None or isinstance(url, str):
        return url or None
    raise RowError("'url' must be a string")


def parse_jsonl_row(text: str, line: int) -> NewItem:
    """One JSONL line as an item."""
    try:
        data = strict_json.loads(text)
    except ValueError as error:
        raise RowError(f"not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise RowError("expected a JSON object with 'key', 'url' and 'metadata'")
    unknown = sorted(set(data) - _JSONL_FIELDS)
    if unknown:
        raise RowError(
            f"unexpected field {unknown[0]!r}; an item has 'key', 'url' and 'metadata' "
            "(put other values inside 'metadata')"
        )
    metadata = data.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise RowError("'metadata' must be a JSON object")
    return NewItem(
        key=_check_key(data.get("key")),
        url=_check_url(data.get("url")),
        metadata_json=metadata_json(metadata),
        line=line,
    )


def csv_value(text: str) -> Any:
    """A CSV cell as metadata: numbers as numbers, everything else as the text itself."""
    if _INT_RE.match(text):
        value = int(text)
        return value if -_INT64 <= value < _INT64 else text
    if _FLOAT_RE.match(text):
        number = float(text)
        return number if math.isfinite(number) else text
    return text


def _jsonl_rows(lines: _ByteLines, errors: list[str]) -> Iterator[NewItem]:
    for text in lines:
        if not text.strip():
            continue
        try:
            yield parse_jsonl_row(text, lines.line)
        except RowError as error:
            errors.append(f"line {lines.line}: {error}")


def _next_record(reader: Any, errors: list[str]) -> tuple[int, list[str]] | None:
    """The next CSV record and the line it starts on; None at the end or on broken quoting."""
    start = int(reader.line_num) + 1
    try:
        return start, next(reader)
    except StopIteration:
        return None
    except csv.Error as error:
        errors.append(f"line {start}: {error}")
        return None


def _csv_rows(lines: _ByteLines, errors: list[str]) -> Iterator[NewItem]:
    reader = csv.reader(lines)
    first = _next_record(reader, errors)
    if first is None:
        return
    columns = [name.strip() for name in first[1]]
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if "key" not in columns or repeated or "" in columns:
        problem = (
            f"repeated column {repeated[0]!r}"
            if repeated
            else "an empty column name"
            if "" in columns
            else "no 'key' column"
        )
        errors.append(f"line 1: the header has {problem}; it needs 'key', optionally 'url'")
        return
    while (record := _next_record(reader, errors)) is not None:
        start, cells = record
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            errors.append(f"line {start}: expected {len(columns)} fields, got {len(cells)}")
            continue
        row = dict(zip(columns, cells, strict=True))
        try:
            key = _check_key(row.pop("key"))
            url = _check_url(row.pop("url", None))
        except RowError as error:
            errors.append(f"line {start}: {error}")
            continue
        metadata = {name: csv_value(cell) for name, cell in row.items() if cell != ""}
        yield NewItem(key=key, url=url, metadata_json=metadata_json(metadata), line=start)


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total_bytes: int, stream: IO[str], enabled: bool) -> None:
        self.total = total_bytes
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()
        self._drawn_at = 0.0

    def update(self, done_bytes: int, items: int, *, final: bool = False) -> None:
        """Redraw, at most ten times a second (and always for the final state)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and self._drawn_at and now - self._drawn_at < 0.1:
            return
        self._drawn_at = now
        rate = items / max(now - self.started, 1e-6)
        if self.total > 0:
            share = min(done_bytes / self.total, 1.0)
            filled = int(share * 30)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} "
        else:
            bar = ""
        self.stream.write(f"\r{bar}{items:,} items, {rate:,.0f}/s")
        if final:
            self.stream.write("\n")
        self.stream.flush()


def _batches(
    rows: Iterable[NewItem], lines: _ByteLines, errors: list[str], progress: Progress
) -> Iterator[list[NewItem]]:
    batch: list[NewItem] = []
    count = 0
    for row in rows:
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            count += len(batch)
            yield batch
            batch = []
            progress.update(lines.bytes_read, count)
    if batch:
        count += len(batch)
        yield batch
    progress.update(lines.bytes_read, count, final=True)


def import_file(
    store: Store,
    path: Path,
    owner: str,
    dataset: str,
    progress_stream: IO[str] | None = None,
    media_root: Path | None = None,
) -> tuple[str, int]:
    """Import a JSONL or CSV file into a new dataset; returns its uid and item count.

    A ``url`` that is a relative path names an image file under ``media_root`` (by default the
    file's directory); the API serves it from there.

    Raises ImportFailed (bad rows, with line numbers) or StoreError; either way nothing is written.
    """
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        raise StoreError(f"{path}: unknown format {suffix or '(none)'!r}; expected .jsonl or .csv")
    stream = progress_stream if progress_stream is not None else sys.stderr
    errors: list[str] = []
    with path.open("rb") as handle:
        lines = _ByteLines(handle)
        total = path.stat().st_size if path.is_file() else 0
        progress = Progress(total, stream, enabled=stream.isatty())
        rows = _csv_rows(lines, errors) if suffix == ".csv" else _jsonl_rows(lines, errors)
        media = LocalMedia(media_root or path.parent)
        rows = media.resolve(rows, errors)

        def guarded() -> Iterator[NewItem]:
            try:
                yield from rows
            except RowError as error:  # undecodable bytes: nothing after them can be trusted
                errors.append(str(error))

        return store.import_dataset(
            owner, dataset, _batches(guarded(), lines, errors, progress), errors, media.root
        )


def check_owner(owner: str) -> str | None:
    """Why ``owner`` cannot name an owner, or None if it can."""
    if not SEGMENT_RE.match(owner):
        return "must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
    if owner == RESERVED_SEGMENTS["owner"]:
        return f"{owner!r} is reserved"
    return None


def import_command(args: argparse.Namespace) -> int:
    """``avala-mcp import FILE --owner OWNER --dataset NAME [--db PATH]``."""
    problem = check_owner(args.owner)
    if problem:
        print(f"avala-mcp import: --owner {args.owner!r}: {problem}", file=sys.stderr)
        return 2
    name, messages = naming.check_name(args.dataset)
    if name is None:
        print(f"avala-mcp import: --dataset: {' '.join(messages)}", file=sys.stderr)
        return 2
    path: Path = args.file
    if not path.exists():
        print(f"avala-mcp import: {path}: no such file", file=sys.stderr)
        return 2
    if args.media_root is not None and not args.media_root.is_dir():
        print(
            f"avala-mcp import: --media-root {args.media_root}: no such directory", file=sys.stderr
        )
        return 2
    db_path = args.db or default_db_path()
    started = time.monotonic()
    try:
        store = Store(db_path)
    except (StoreError, OSError) as error:
        print(f"avala-mcp import: {error}", file=sys.stderr)
        return 1
    try:
        new_owner = store.owner(args.owner) is None
        uid, count = import_file(store, path, args.owner, name, media_root=args.media_root)
    except ImportFailed as failure:
        # In file order: some problems (a duplicate key) are found only after later rows.
        reported = sorted(failure.errors[:MAX_REPORTED_ERRORS], key=_line_number)
        for message in reported:
            print(f"{path}: {message}", file=sys.stderr)
        bad_rows = sum(1 for message in failure.errors if _line_number(message))
        more = "" if len(failure.errors) < MAX_REPORTED_ERRORS else " (stopped reading there)"
        summary = f"{_count(bad_rows, 'bad row')}{more}; " if bad_rows else ""
        print(f"avala-mcp import: {summary}nothing was imported", file=sys.stderr)
        return 1
    except (StoreError, OSError) as error:
        print(f"avala-mcp import: {error}; nothing was imported", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\navala-mcp import: interrupted; nothing was imported", file=sys.stderr)
        return 130
    finally:
        store.close()
    seconds = time.monotonic() - started
    if new_owner:
        print(f"avala-mcp import: created organization {args.owner!r}", file=sys.stderr)
    print(
        f"avala-mcp import: {_count(count, 'item')} into dataset {name!r} of {args.owner!r} "
        f"in {seconds:.1f}s",
        file=sys.stderr,
    )
    print(uid)
    return 0


_LINE_NUMBER = re.compile(r"line (\d+):")


def _line_number(message: str) -> int:
    """The line a problem is on; 0 for one about the whole file."""
    found = _LINE_NUMBER.match(message)
    return int(found[1]) if found else 0


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
