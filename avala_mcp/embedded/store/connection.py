"""The store's connections: one writer, a pool of readers, and the write transaction.

WAL mode, so readers never wait for the writer. Every write is one ``BEGIN IMMEDIATE`` transaction
on the single writer connection (guarded by a lock within the process, by SQLite's own lock across
processes), so concurrent writes serialize: a check made inside the transaction always sees the
latest commit. Readers borrow a connection from a small pool. Connections are opened with
``check_same_thread=False`` because the web app runs the store's blocking calls in worker
threads, never on the event loop; the lock and the pool keep each connection to one thread at
a time.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator

from avala_mcp.embedded.store.records import StoreError

_BUSY_TIMEOUT_MS = 30_000
#: A new database file is the owner's alone: it holds API key hashes and every dataset.
_NEW_FILE_MODE = 0o600


def _create_private(path: str) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (SQLite takes an empty file as
    a new database, and gives its ``-wal`` and ``-shm`` files the database file's mode).

    An existing file keeps its mode: whoever made it chose it.
    """
    if path in ("", ":memory:"):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _NEW_FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -65536")
    return conn


class Database:
    """An SQLite file in WAL mode, with ``_read`` and ``_write`` for the queries built on it.

    ``initialize(conn, path)`` runs in the first write transaction, to create or check the
    schema; whatever it raises closes the database again.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        initialize: Callable[[sqlite3.Connection, str], None],
    ) -> None:
        self.path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        self._write_lock = threading.Lock()
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._closed = False
        try:
            _create_private(self.path)
            self._writer = _connect(self.path)
        except (sqlite3.Error, OSError) as error:
            raise StoreError(f"{self.path}: cannot open the database ({error})") from None
        try:
            mode = self._writer.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(f"{self.path}: could not switch the database to WAL mode")
            with self._write() as conn:
                initialize(conn, self.path)
        except sqlite3.DatabaseError as error:
            self._writer.close()
            raise StoreError(f"{self.path}: cannot use the database ({error})") from None
        except BaseException:
            self._writer.close()
            raise

    def close(self) -> None:
        """Close every connection; the store is unusable afterwards."""
        if self._closed:
            return
        self._closed = True
        with self._write_lock:
            self._writer.close()
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A reader connection from the pool (a new one if none is idle)."""
        if self._closed:
            raise StoreError("the store is closed")
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = _connect(self.path)
        try:
            yield conn
        finally:
            if self._closed:
                conn.close()
            else:
                self._idle.put(conn)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """The writer connection inside ``BEGIN IMMEDIATE``: committed, or rolled back on error."""
        with self._write_lock:
            if self._closed:
                raise StoreError("the store is closed")
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
