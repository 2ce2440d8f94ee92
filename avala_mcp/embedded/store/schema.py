"""The database's tables and indexes, its schema version, and the demo data a new one starts with.

``PRAGMA user_version`` holds the schema version: a new file gets the tables, the indexes and the
demo data in one transaction; a file of an older version is brought up to date, one migration
step per version, in one transaction; a file of this version is used as is; a newer one or a
file that is not ours is refused. A new file is made as version 1 and migrated like an old one,
so the two always end up alike.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from avala_mcp.embedded import seed
from avala_mcp.embedded.media import MEDIA_SCHEME
from avala_mcp.embedded.store.accounts import add_members, new_account
from avala_mcp.embedded.store.datasets import insert_dataset
from avala_mcp.embedded.store.items import INSERT_ITEM, metadata_json
from avala_mcp.embedded.store.records import StoreError
from avala_mcp.embedded.store.slices import ORDER_COLUMNS, SCOPES, count_matching, insert_slice
from avala_mcp.filters import parse_filter

# The tables of version 1; each later version is a step of _MIGRATIONS.
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
_INDEXES = "".join(
    f"CREATE INDEX slices_{scope}_{field} ON slices ({column}, {field}, id);\n"
    for scope, column in SCOPES.items()
    for field in ORDER_COLUMNS
)


def _media(conn: sqlite3.Connection) -> None:
    """Version 2: each dataset's media root (where its local images are), and the demo items'
    images served by the API itself (``media:<key>``), no longer on hosts that do not exist."""
    conn.execute("ALTER TABLE datasets ADD COLUMN media_root TEXT")
    # The demo URLs of version 1; an item whose url was changed since is left as it is.
    for uid, host in (
        (seed.DEMO_DATASET_UID, "https://storage.acme-ai.example/"),
        (seed.OTHER_DATASET_UID, "https://storage.globex.example/"),
    ):
        conn.execute(
            "UPDATE items SET url = ? || key "
            "WHERE dataset_id = (SELECT id FROM datasets WHERE uid = ?) AND url = ? || key",
            (MEDIA_SCHEME, uid, host),
        )


#: Step ``n`` (from 0) takes a database from version ``n + 1`` to ``n + 2``.
_MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_media,)
SCHEMA_VERSION = 1 + len(_MIGRATIONS)


def initialize(conn: sqlite3.Connection, path: str) -> None:
    """Create the schema and the demo data in a new database; check an existing one's version
    and migrate it to this one."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: schema version {version} is newer than this avala-mcp "
            f"understands ({SCHEMA_VERSION}); upgrade avala-mcp"
        )
    new = version == 0
    if new:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise StoreError(f"{path}: not an avala-mcp database (unknown tables)")
        # Statement by statement: executescript() would commit the open transaction.
        for statement in (_SCHEMA + _INDEXES).split(";"):
            if statement.strip():
                conn.execute(statement)
        version = 1
    for step in _MIGRATIONS[version - 1 :]:
        step(conn)
    if new:
        _insert_demo(conn, seed.demo_data())
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _insert_demo(conn: sqlite3.Connection, data: seed.DemoData) -> None:
    stamp = "2025-01-01T00:00:00Z"
    ids: dict[str, int] = {}
    for username in data.users:
        ids[username] = new_account(conn, username, "user", stamp)
    for org, members in data.organizations.items():
        ids[org] = new_account(conn, org, "organization", stamp)
        add_members(conn, ids[org], [ids[member] for member in members])
    for dataset in data.datasets:
        owner_id = ids[dataset.owner]
        dataset_id = insert_dataset(
            conn,
            uid=dataset.uid,
            owner_id=owner_id,
            name=dataset.name,
            slug=dataset.slug,
            created_at=dataset.created_at,
            updated_at=stamp,
        )
        conn.executemany(
            INSERT_ITEM,
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
            insert_slice(
                conn,
                uid=piece.uid,
                owner_id=owner_id,
                dataset_id=dataset_id,
                name=piece.name,
                slug=piece.slug,
                description=piece.description,
                filter_json=None if piece.filter is None else json.dumps(piece.filter),
                item_count=count_matching(conn, dataset_id, node),
                created_at=piece.created_at,
                updated_at=piece.updated_at,
            )
