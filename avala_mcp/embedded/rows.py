"""Reading items out of JSONL and CSV, every part of the input bounded (README, "Import").

Only a regular file is read; a line, or a CSV record, is at most 1 MiB, a CSV header at most 1024
columns; an item is at most what the embedded API can always serve back: a key of 1024
characters, a URL of 2048 (neither with control characters), metadata of 16 KiB as compact JSON
nested at most 32 deep. So a page of the largest size the client asks for (1000 items) stays
under its 32 MiB cap, and every filter and listing can read every item.
"""

from __future__ import annotations

import csv
import math
import os
import re
import stat
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from avala_mcp.embedded import strict_json
from avala_mcp.embedded.store import NewItem, StoreError, metadata_json

MAX_KEY_LENGTH = 1024
MAX_URL_LENGTH = 2048
MAX_LINE_BYTES = 2**20
MAX_METADATA_BYTES = 16 * 2**10
MAX_METADATA_DEPTH = 32
MAX_CSV_COLUMNS = 1024
_JSONL_FIELDS = frozenset({"key", "url", "metadata"})
_INT_RE = re.compile(r"^-?(0|[1-9][0-9]*)$")
_FLOAT_RE = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
_INT64 = 2**63


class RowError(ValueError):
    """One bad row; the message says what is wrong."""


class ByteLines:
    """The lines of a binary file, decoded, counting the bytes read (for the progress bar).

    No line, and no record that spans lines (a quoted CSV cell with newlines), is read past
    MAX_LINE_BYTES: the reader stops there with the line the record starts on.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.bytes_read = 0
        self.line = 0
        self.record_line = 1
        self._record_start = 0

    def start_record(self) -> None:
        """The next line starts a new record."""
        self.record_line = self.line + 1
        self._record_start = self.bytes_read

    def __iter__(self) -> Iterator[str]:
        while raw := self.stream.readline(MAX_LINE_BYTES + 1):
            self.bytes_read += len(raw)
            self.line += 1
            if self.bytes_read - self._record_start > MAX_LINE_BYTES:
                raise RowError(
                    f"line {self.record_line}: longer than {MAX_LINE_BYTES // 2**20} MiB; "
                    "stopped reading there"
                )
            if self.line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte-order mark
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise RowError(f"line {self.line}: not valid UTF-8 ({error.reason})") from None


def open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading, if it is a regular file; StoreError at once otherwise.

    A device (``/dev/zero``), a FIFO or a directory, even behind a symbolic link, would never end
    or never start; opening without blocking and checking the opened file leaves no window for
    a swap in between.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise StoreError(f"{path}: cannot open it ({error.strerror})") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise StoreError(f"{path}: not a regular file ({_file_kind(mode)}); nothing was imported")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def _file_kind(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "a directory",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISSOCK: "a socket",
    }
    return next((kind for test, kind in kinds.items() if test(mode)), "not a file")


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise RowError("'key' must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise RowError(f"'key' is longer than {MAX_KEY_LENGTH} characters")
    _refuse_control_characters("key", key)
    return key


def _check_url(url: object) -> str | None:
    if url is not None and not isinstance(url, str):
        raise RowError("'url' must be a string")
    if url and len(url) > MAX_URL_LENGTH:
        raise RowError(f"'url' is longer than {MAX_URL_LENGTH} characters")
    if url:
        _refuse_control_characters("url", url)
    return url or None


def _refuse_control_characters(field: str, text: str) -> None:
    if not text.isprintable() and any(unicodedata.category(char) == "Cc" for char in text):
        raise RowError(f"{field!r} must not contain control characters (such as a newline)")


def _checked_metadata(metadata: dict[str, Any]) -> str:
    """``metadata`` as stored, once it is within MAX_METADATA_BYTES and MAX_METADATA_DEPTH."""
    text = metadata_json(metadata)
    # Characters first: at most four bytes each, so only a long text needs encoding.
    if len(text) > MAX_METADATA_BYTES // 4 and len(text.encode()) > MAX_METADATA_BYTES:
        raise RowError(
            f"'metadata' is {len(text.encode()):,} bytes as JSON, over "
            f"{MAX_METADATA_BYTES // 2**10} KiB"
        )
    if _depth(metadata) > MAX_METADATA_DEPTH:
        raise RowError(f"'metadata' is nested deeper than {MAX_METADATA_DEPTH} levels")
    return text


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest in ``value`` (an object of scalars is 1); iterative,
    as the value can be nested as deep as the JSON decoder went."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


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
        metadata_json=_checked_metadata(metadata),
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


def jsonl_rows(lines: ByteLines, errors: list[str]) -> Iterator[NewItem]:
    for text in lines:
        lines.start_record()
        if not text.strip():
            continue
        try:
            yield parse_jsonl_row(text, lines.line)
        except RowError as error:
            errors.append(f"line {lines.line}: {error}")


def _next_record(reader: Any, lines: ByteLines, errors: list[str]) -> tuple[int, list[str]] | None:
    """The next CSV record and the line it starts on; None at the end or on broken quoting."""
    start = int(reader.line_num) + 1
    lines.start_record()
    try:
        return start, next(reader)
    except StopIteration:
        return None
    except csv.Error as error:
        errors.append(f"line {start}: {error}")
        return None


def csv_rows(lines: ByteLines, errors: list[str]) -> Iterator[NewItem]:
    reader = csv.reader(lines)
    first = _next_record(reader, lines, errors)
    if first is None:
        return
    columns = [name.strip() for name in first[1]]
    problem = _header_problem(columns)
    if problem is not None:
        errors.append(f"line 1: the header has {problem}; it needs 'key', optionally 'url'")
        return
    while (record := _next_record(reader, lines, errors)) is not None:
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
        try:
            stored = _checked_metadata(metadata)
        except RowError as error:
            errors.append(f"line {start}: {error}")
            continue
        yield NewItem(key=key, url=url, metadata_json=stored, line=start)


def _header_problem(columns: list[str]) -> str | None:
    """What is wrong with a CSV header, in one pass; None if nothing."""
    if len(columns) > MAX_CSV_COLUMNS:
        return f"{len(columns):,} columns, over {MAX_CSV_COLUMNS:,}"
    repeated = [name for name, count in Counter(columns).items() if count > 1]
    if repeated:
        return f"repeated column {min(repeated)!r}"
    if "" in columns:
        return "an empty column name"
    if "key" not in columns:
        return "no 'key' column"
    return None
