"""SQLite storage of the embedded Slices API.

WAL mode, so readers never wait for the writer. Every write is one ``BEGIN IMMEDIATE`` transaction
on the single writer connection (guarded by a lock within the process, by SQLite's own lock across
processes), so concurrent creates serialize: name and slug checks always see the latest commit.
Readers borrow a connection from a small pool. The methods are synchronous; the web app runs them
in worker threads so the event loop never waits on a query.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from avala_mcp.embedded import naming, seed
from avala_mcp.embedded.paging import Cursor, Key, Ordering
from avala_mcp.embedded.sql import compile_filter
from avala_mcp.filters import Node, parse_filter

SCHEMA_VERSION = 1
_BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'organization')),
    created_at TEXT NOT NULL
);
CREATE TABLE memberships (
    organization_id INTEGER NOT NULL REFERENCES accounts(id),
    user_id INTEGER NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (organization_id, user_id)
);
CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES accounts(id),
    created_at TEXT NOT NULL
);
CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    owner_id INTEGER NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner_id, name)
);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    -- Random (uuid4) and never looked up: an index on it would only slow imports down.
    uid TEXT NOT NULL,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    key TEXT NOT NULL,
    url TEXT,
    metadata TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (dataset_id, key)
);
CREATE INDEX items_by_dataset ON items (dataset_id, id);
CREATE TABLE slices (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    owner_id INTEGER NOT NULL REFERENCES accounts(id),
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    description TEXT NOT NULL,
    filter TEXT,
    item_count INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (dataset_id, name),
    UNIQUE (owner_id, slug)
);
"""
# One index per (scope, ordering field); the id tiebreak makes every keyset position unique.
_SCOPES = {"owner": "owner_id", "dataset": "dataset_id"}
_ORDER_COLUMNS = {
    "name": "s.name",
    "created_at": "s.created_at",
    "updated_at": "s.updated_at",
    "item_count": "s.item_count",
}
_INDEXES = "".join(
    f"CREATE INDEX slices_{scope}_{field} ON slices ({column}, {field}, id);\n"
    for scope, column in _SCOPES.items()
    for field in _ORDER_COLUMNS
)

_SLICE_COLUMNS = """
    s.id, s.uid, s.name, s.slug, s.description, s.item_count, s.created_at, s.updated_at,
    o.slug, d.uid, s.filter, s.dataset_id
"""
_SLICE_FROM = """
    FROM slices s JOIN accounts o ON o.id = s.owner_id JOIN datasets d ON d.id = s.dataset_id
"""
_ITEM_COLUMNS = "i.id, i.uid, i.key, i.url, i.metadata, i.created_at, i.updated_at"
_INSERT_ITEM = (
    "INSERT INTO items (uid, dataset_id, key, url, metadata, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


class StoreError(Exception):
    """A problem with the database itself (wrong file, newer schema)."""


class DuplicateName(Exception):
    """A slice of that name already exists in the dataset."""


class ImportFailed(Exception):
    """An import found bad rows; nothing was written. ``errors`` says which and why."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} bad row(s)")
        self.errors = errors


@dataclass(frozen=True)
class Owner:
    """An organization or a user, as an owner of datasets and slices."""

    id: int
    slug: str
    kind: str


@dataclass(frozen=True)
class Dataset:
    """A dataset and its owner."""

    id: int
    uid: str
    name: str
    owner: Owner


@dataclass(frozen=True)
class Slice:
    """A stored slice."""

    id: int
    uid: str
    name: str
    slug: str
    description: str
    item_count: int
    created_at: str
    updated_at: str
    owner: str
    dataset: str
    filter_json: str | None
    dataset_id: int

    def filter_node(self) -> Node | None:
        """The stored filter, validated again (it was valid when stored)."""
        return None if self.filter_json is None else parse_filter(json.loads(self.filter_json))

    def key_for(self, ordering: Ordering) -> Key:
        """This slice's keyset position under ``ordering``."""
        value: str | int = getattr(self, ordering.field)
        return (value, self.id)


@dataclass(frozen=True)
class Item:
    """A stored item."""

    id: int
    uid: str
    key: str
    url: str | None
    metadata: dict[str, Any]
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class NewItem:
    """An item to add; ``line`` is where an importer read it (for error messages)."""

    key: str
    url: str | None
    metadata_json: str
    line: int = 0


# Built once: json.dumps with options would build a new encoder on every call.
_METADATA_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def metadata_json(metadata: dict[str, Any]) -> str:
    """How item metadata is stored, by every writer: compact, and non-ASCII as itself.

    Never ``\\u`` escapes: SQLite's JSON path lookup compares object keys as stored, so a key
    written escaped would never be found by a filter on that name.
    """
    return _METADATA_ENCODER.encode(metadata)


def now_stamp() -> str:
    """The current time in the API's format."""
    return seed.stamp(datetime.now(UTC))


def hash_key(key: str) -> str:
    """How API keys are stored: never in the clear."""
    return hashlib.sha256(key.encode()).hexdigest()


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -65536")
    return conn


class Store:
    """The embedded API's database. Thread-safe; close it when done."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        self._write_lock = threading.Lock()
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._closed = False
        try:
            self._writer = _connect(self.path)
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot open the database ({error})") from None
        try:
            mode = self._writer.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(f"{self.path}: could not switch the database to WAL mode")
            self._initialize()
        except sqlite3.DatabaseError as error:
            self._writer.close()
            raise StoreError(f"{self.path}: cannot use the database ({error})") from None
        except BaseException:
            self._writer.close()
            raise

    # --- connections and transactions ------------------------------------------------------

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

    def _initialize(self) -> None:
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: schema version {version} is newer than this avala-mcp "
                    f"understands ({SCHEMA_VERSION}); upgrade avala-mcp"
                )
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise StoreError(f"{self.path}: not an avala-mcp database (unknown tables)")
            # Statement by statement: executescript() would commit the open transaction.
            for statement in (_SCHEMA + _INDEXES).split(";"):
                if statement.strip():
                    conn.execute(statement)
            _insert_demo(conn, seed.demo_data())
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # --- accounts and keys -----------------------------------------------------------------

    def add_api_key(self, username: str, key: str) -> None:
        """Make ``key`` a valid API key of ``username`` (an existing user), for good."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO api_keys (key_hash, user_id, created_at) VALUES (?, ?, ?)",
                (hash_key(key), _user_id(conn, username), now_stamp()),
            )

    def user_id(self, username: str) -> int:
        """The id of an existing user; StoreError if there is none."""
        with self._read() as conn:
            return _user_id(conn, username)

    def user_for_key(self, key: str) -> int | None:
        """The id of the user whose key this is, or None."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT user_id FROM api_keys WHERE key_hash = ?", (hash_key(key),)
            ).fetchone()
        return None if row is None else int(row[0])

    def owner(self, slug: str) -> Owner | None:
        """The account with this slug, or None."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT id, slug, kind FROM accounts WHERE slug = ?", (slug,)
            ).fetchone()
        return None if row is None else Owner(*row)

    def can_act_for(self, user_id: int, owner: Owner) -> bool:
        """Whether the user is the owner, or a member of the owning organization."""
        if owner.id == user_id:
            return True
        with self._read() as conn:
            row = conn.execute(
                "SELECT 1 FROM memberships WHERE organization_id = ? AND user_id = ?",
                (owner.id, user_id),
            ).fetchone()
        return row is not None

    def dataset(self, uid: str) -> Dataset | None:
        """The dataset with this uid, or None."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT d.id, d.uid, d.name, o.id, o.slug, o.kind FROM datasets d "
                "JOIN accounts o ON o.id = d.owner_id WHERE d.uid = ?",
                (uid,),
            ).fetchone()
        return None if row is None else Dataset(row[0], row[1], row[2], Owner(*row[3:]))

    # --- slices ----------------------------------------------------------------------------

    def count_slices(self, scope: str, scope_id: int) -> int:
        """How many slices an owner (scope ``owner``) or a dataset (``dataset``) has."""
        column = _SCOPES[scope]
        with self._read() as conn:
            row = conn.execute(f"SELECT count(*) FROM slices WHERE {column} = ?", (scope_id,))  # noqa: S608 - only compiled filter SQL and fixed names, values bound
            return int(row.fetchone()[0])

    def list_slices(
        self, scope: str, scope_id: int, ordering: Ordering, cursor: Cursor | None, limit: int
    ) -> list[Slice]:
        """Up to ``limit + 1`` slices from the cursor on, in the cursor's direction."""
        column = _ORDER_COLUMNS[ordering.field]
        descending = ordering.descending != (cursor is not None and not cursor.forward)
        direction = "DESC" if descending else "ASC"
        order = f"ORDER BY {column} {direction}, s.id {direction} LIMIT :n"
        scoped = f"s.{_SCOPES[scope]} = :scope"
        params: dict[str, Any] = {"scope": scope_id, "n": limit + 1}
        select = f"SELECT {_SLICE_COLUMNS} {_SLICE_FROM} WHERE {scoped}"
        with self._read() as conn:
            if cursor is None:
                return [Slice(*row) for row in conn.execute(f"{select} {order}", params)]
            # Two index seeks: the rest of the cursor's tie group, then what lies past it. A
            # row-value ``(column, id) > (?, ?)`` would seek on the column alone and scan the
            # whole tie group, so a page's cost would grow with its depth among equal values.
            after = "<" if descending else ">"
            params.update(value=cursor.key[0], id=cursor.key[1])
            ties = f"{select} AND {column} = :value AND s.id {after} :id ORDER BY s.id {direction}"
            rows = conn.execute(f"{ties} LIMIT :n", params).fetchall()
            if len(rows) <= limit:
                params["n"] = limit + 1 - len(rows)
                rows += conn.execute(f"{select} AND {column} {after} :value {order}", params)
        return [Slice(*row) for row in rows]

    def get_slice(self, owner_id: int, slug: str) -> Slice | None:
        """The owner's slice with this slug, or None."""
        with self._read() as conn:
            return _get_slice(conn, owner_id, slug)

    def slug_for(self, owner_id: int, name: str) -> str:
        """The slug a new slice of this name would get under this owner now."""
        with self._read() as conn:
            return _free_slug(conn, owner_id, naming.slugify(name))

    def name_taken(self, dataset_id: int, name: str) -> bool:
        """Whether the dataset already has a slice of this name."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT 1 FROM slices WHERE dataset_id = ? AND name = ?", (dataset_id, name)
            ).fetchone()
        return row is not None

    def create_slice(
        self, dataset: Dataset, name: str, description: str, raw_filter: object | None
    ) -> Slice:
        """Store a new slice with an exact item count; DuplicateName if the name is taken."""
        node = None if raw_filter is None else parse_filter(raw_filter)
        filter_json = None if raw_filter is None else json.dumps(raw_filter, separators=(",", ":"))
        with self._write() as conn:
            taken = conn.execute(
                "SELECT 1 FROM slices WHERE dataset_id = ? AND name = ?", (dataset.id, name)
            ).fetchone()
            if taken:
                raise DuplicateName(name)
            slug = _free_slug(conn, dataset.owner.id, naming.slugify(name))
            stamp = now_stamp()
            _insert_slice(
                conn,
                uid=str(uuid.uuid4()),
                owner_id=dataset.owner.id,
                dataset_id=dataset.id,
                name=name,
                slug=slug,
                description=description,
                filter_json=filter_json,
                item_count=_count_matching(conn, dataset.id, node),
                created_at=stamp,
                updated_at=stamp,
            )
            created = _get_slice(conn, dataset.owner.id, slug)
        assert created is not None
        return created

    def delete_slice(self, slice_id: int) -> bool:
        """Delete a slice (its dataset's items stay); False if it was already gone."""
        with self._write() as conn:
            return conn.execute("DELETE FROM slices WHERE id = ?", (slice_id,)).rowcount > 0

    # --- items -----------------------------------------------------------------------------

    def slice_items(self, piece: Slice, cursor: Cursor | None, limit: int) -> list[Item]:
        """Up to ``limit + 1`` of the slice's items from the cursor on, in its direction."""
        where, params = compile_filter(piece.filter_node())
        forward = cursor is None or cursor.forward
        position = ""
        if cursor is not None:
            position = f" AND i.id {'>' if forward else '<'} ?"
            params.insert(0, cursor.key[0])
        sql = (
            f"SELECT {_ITEM_COLUMNS} FROM items i WHERE i.dataset_id = ?{position} AND {where} "  # noqa: S608 - only compiled filter SQL and fixed names, values bound
            f"ORDER BY i.id {'ASC' if forward else 'DESC'} LIMIT ?"
        )
        with self._read() as conn:
            rows = conn.execute(sql, [piece.dataset_id, *params, limit + 1]).fetchall()
        return [
            Item(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6]) for row in rows
        ]

    def add_items(self, dataset: Dataset, items: Iterable[NewItem]) -> int:
        """Add items to a dataset, keeping every slice's item_count exact; returns how many."""
        with self._write() as conn:
            before = conn.execute("SELECT IFNULL(max(id), 0) FROM items").fetchone()[0]
            stamp = now_stamp()
            conn.executemany(_INSERT_ITEM, (_item_row(dataset.id, item, stamp) for item in items))
            added = conn.execute(
                "SELECT count(*) FROM items WHERE dataset_id = ? AND id > ?", (dataset.id, before)
            ).fetchone()[0]
            _adjust_counts(conn, dataset.id, "i.id > ?", [before], +1)
        return int(added)

    def remove_items(self, dataset: Dataset, keys: Sequence[str]) -> int:
        """Remove the dataset's items with these keys, keeping item counts exact."""
        with self._write() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (key TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM doomed")
            conn.executemany("INSERT OR IGNORE INTO doomed VALUES (?)", ((k,) for k in keys))
            selection = "i.key IN (SELECT key FROM doomed)"
            _adjust_counts(conn, dataset.id, selection, [], -1)
            removed = conn.execute(
                "DELETE FROM items WHERE dataset_id = ? AND key IN (SELECT key FROM doomed)",
                (dataset.id,),
            ).rowcount
            conn.execute("DELETE FROM doomed")
        return int(removed)

    # --- import ----------------------------------------------------------------------------

    def import_dataset(
        self,
        owner_slug: str,
        name: str,
        batches: Iterable[Sequence[NewItem]],
        errors: list[str],
    ) -> tuple[str, int]:
        """Create a dataset from batches of items in one transaction: all or nothing.

        ``errors`` collects bad rows (the caller's and duplicate keys found here); if it holds any
        once the batches are exhausted, or anything raises, nothing is written. Creates the owner
        as an organization, with the demo user as member, if it does not exist. Returns the new
        dataset's uid and its item count.
        """
        with self._write() as conn:
            owner_id = _ensure_organization(conn, owner_slug)
            if conn.execute(
                "SELECT 1 FROM datasets WHERE owner_id = ? AND name = ?", (owner_id, name)
            ).fetchone():
                raise StoreError(f"{owner_slug!r} already has a dataset named {name!r}")
            uid = str(uuid.uuid4())
            stamp = now_stamp()
            dataset_id = conn.execute(
                "INSERT INTO datasets (uid, owner_id, name, slug, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (uid, owner_id, name, naming.slugify(name), stamp, stamp),
            ).lastrowid
            assert dataset_id is not None
            count = 0
            for batch in batches:
                # Rows keep going in after a bad one (the transaction is rolled back in the end)
                # so that a repeated key further on is reported too.
                conn.execute("SAVEPOINT batch")
                try:
                    conn.executemany(_INSERT_ITEM, (_item_row(dataset_id, i, stamp) for i in batch))
                except sqlite3.IntegrityError:
                    conn.execute("ROLLBACK TO batch")
                    errors.extend(_insert_one_by_one(conn, batch, dataset_id, stamp))
                conn.execute("RELEASE batch")
                count += len(batch)
            if not errors and count == 0:
                errors.append("no items to import")
            if errors:
                raise ImportFailed(errors)
            # The Slices API lists slices, not datasets: a slice holding the whole dataset is
            # how an assistant (list_slices) finds the new dataset and its uid.
            whole = naming.whole_dataset_slice_name(name)
            _insert_slice(
                conn,
                uid=str(uuid.uuid4()),
                owner_id=owner_id,
                dataset_id=dataset_id,
                name=whole,
                slug=_free_slug(conn, owner_id, naming.slugify(whole)),
                description=f"Every item of the dataset '{name}', as imported",
                filter_json=None,
                item_count=count,
                created_at=stamp,
                updated_at=stamp,
            )
        return uid, count


# --- helpers that run inside a transaction ----------------------------------------------------


def new_uid() -> str:
    """A random (version 4) UUID as text; twice as fast as ``str(uuid.uuid4())``, for imports."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _item_row(dataset_id: int, item: NewItem, stamp: str) -> tuple[Any, ...]:
    """The parameters of ``_INSERT_ITEM`` for a new item."""
    return (new_uid(), dataset_id, item.key, item.url, item.metadata_json, stamp, stamp)


def _user_id(conn: sqlite3.Connection, username: str) -> int:
    row = conn.execute(
        "SELECT id FROM accounts WHERE slug = ? AND kind = 'user'", (username,)
    ).fetchone()
    if row is None:
        raise StoreError(f"no user {username!r}")
    return int(row[0])


def _get_slice(conn: sqlite3.Connection, owner_id: int, slug: str) -> Slice | None:
    row = conn.execute(
        f"SELECT {_SLICE_COLUMNS} {_SLICE_FROM} WHERE s.owner_id = ? AND s.slug = ?",
        (owner_id, slug),
    ).fetchone()
    return None if row is None else Slice(*row)


def _insert_slice(
    conn: sqlite3.Connection,
    *,
    uid: str,
    owner_id: int,
    dataset_id: int,
    name: str,
    slug: str,
    description: str,
    filter_json: str | None,
    item_count: int,
    created_at: str,
    updated_at: str,
) -> None:
    conn.execute(
        "INSERT INTO slices (uid, owner_id, dataset_id, name, slug, description, filter, "
        "item_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            uid,
            owner_id,
            dataset_id,
            name,
            slug,
            description,
            filter_json,
            item_count,
            created_at,
            updated_at,
        ),
    )


def _free_slug(conn: sqlite3.Connection, owner_id: int, base: str) -> str:
    # Every slug that starts like any ``base-N`` could (a superset, narrowed by first_free_slug),
    # found by an index range: slugs are ASCII, so nothing of the family sorts past prefix+DEL.
    prefix = naming.suffix_prefix(base)
    taken = {
        row[0]
        for row in conn.execute(
            "SELECT slug FROM slices WHERE owner_id = ? AND slug >= ? AND slug < ?",
            (owner_id, prefix, prefix + "\x7f"),
        )
    }
    return naming.first_free_slug(base, taken)


def _count_matching(conn: sqlite3.Connection, dataset_id: int, node: Node | None) -> int:
    where, params = compile_filter(node)
    sql = f"SELECT count(*) FROM items i WHERE i.dataset_id = ? AND {where}"  # noqa: S608 - only compiled filter SQL and fixed names, values bound
    return int(conn.execute(sql, [dataset_id, *params]).fetchone()[0])


def _adjust_counts(
    conn: sqlite3.Connection, dataset_id: int, selection: str, params: list[Any], sign: int
) -> None:
    """Add (or subtract) to each slice's item_count the selected items its filter matches."""
    stamp = now_stamp()
    slices = conn.execute(
        "SELECT id, filter FROM slices WHERE dataset_id = ?", (dataset_id,)
    ).fetchall()
    for slice_id, filter_json in slices:
        node = None if filter_json is None else parse_filter(json.loads(filter_json))
        where, filter_params = compile_filter(node)
        matched = conn.execute(
            f"SELECT count(*) FROM items i WHERE i.dataset_id = ? AND {selection} AND {where}",  # noqa: S608 - only compiled filter SQL and fixed names, values bound
            [dataset_id, *params, *filter_params],
        ).fetchone()[0]
        if matched:
            conn.execute(
                "UPDATE slices SET item_count = item_count + ?, updated_at = ? WHERE id = ?",
                (sign * matched, stamp, slice_id),
            )


def _insert_one_by_one(
    conn: sqlite3.Connection, batch: Sequence[NewItem], dataset_id: int, stamp: str
) -> list[str]:
    """Insert a batch that failed as a whole row by row, naming each row that repeats a key."""
    problems = []
    for item in batch:
        try:
            conn.execute(_INSERT_ITEM, _item_row(dataset_id, item, stamp))
        except sqlite3.IntegrityError:
            first = conn.execute(
                "SELECT 1 FROM items WHERE dataset_id = ? AND key = ?", (dataset_id, item.key)
            ).fetchone()
            if first is None:
                raise
            problems.append(f"line {item.line}: duplicate key {item.key!r}")
    return problems


def _ensure_organization(conn: sqlite3.Connection, slug: str) -> int:
    row = conn.execute("SELECT id FROM accounts WHERE slug = ?", (slug,)).fetchone()
    if row is not None:
        return int(row[0])
    stamp = now_stamp()
    org_id = conn.execute(
        "INSERT INTO accounts (slug, kind, created_at) VALUES (?, 'organization', ?)",
        (slug, stamp),
    ).lastrowid
    conn.execute(
        "INSERT INTO memberships (organization_id, user_id) "
        "SELECT ?, id FROM accounts WHERE slug = ? AND kind = 'user'",
        (org_id, seed.DEMO_USER),
    )
    assert org_id is not None
    return org_id


def _insert_demo(conn: sqlite3.Connection, data: seed.DemoData) -> None:
    stamp = "2025-01-01T00:00:00Z"
    ids: dict[str, int] = {}
    for username in data.users:
        ids[username] = _new_account(conn, username, "user", stamp)
    for org, members in data.organizations.items():
        ids[org] = _new_account(conn, org, "organization", stamp)
        conn.executemany(
            "INSERT INTO memberships (organization_id, user_id) VALUES (?, ?)",
            [(ids[org], ids[member]) for member in members],
        )
    for dataset in data.datasets:
        owner_id = ids[dataset.owner]
        dataset_id = conn.execute(
            "INSERT INTO datasets (uid, owner_id, name, slug, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (dataset.uid, owner_id, dataset.name, dataset.slug, dataset.created_at, stamp),
        ).lastrowid
        assert dataset_id is not None
        conn.executemany(
            _INSERT_ITEM,
            [
                (
                    item.uid,
                    dataset_id,
                    item.key,
                    item.url,
                    metadata_json(item.metadata),
                    item.created_at,
                    item.created_at,
                )
                for item in dataset.items
            ],
        )
        for piece in dataset.slices:
            node = None if piece.filter is None else parse_filter(piece.filter)
            _insert_slice(
                conn,
                uid=piece.uid,
                owner_id=owner_id,
                dataset_id=dataset_id,
                name=piece.name,
                slug=piece.slug,
                description=piece.description,
                filter_json=None if piece.filter is None else json.dumps(piece.filter),
                item_count=_count_matching(conn, dataset_id, node),
                created_at=piece.created_at,
                updated_at=piece.updated_at,
            )


def _new_account(conn: sqlite3.Connection, slug: str, kind: str, stamp: str) -> int:
    account_id = conn.execute(
        "INSERT INTO accounts (slug, kind, created_at) VALUES (?, ?, ?)", (slug, kind, stamp)
    ).lastrowid
    assert account_id is not None
    return account_id
