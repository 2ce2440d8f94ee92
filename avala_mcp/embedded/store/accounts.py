"""Accounts (users and organizations), memberships, and API keys, stored only as hashes."""

from __future__ import annotations

import hashlib
import sqlite3

from avala_mcp.embedded import seed
from avala_mcp.embedded.store.connection import Database
from avala_mcp.embedded.store.records import Owner, StoreError, now_stamp


def hash_key(key: str) -> str:
    """How API keys are stored: never in the clear."""
    return hashlib.sha256(key.encode()).hexdigest()


class AccountQueries(Database):
    """Who is who, and who may act for whom."""

    def add_api_key(self, username: str, key: str) -> None:
        """Make ``key`` a valid API key of ``username`` (an existing user), for good."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO api_keys (key_hash, user_id, created_at) VALUES (?, ?, ?)",
                (hash_key(key), require_user(conn, username), now_stamp()),
            )

    def user_id(self, username: str) -> int:
        """The id of an existing user; StoreError if there is none."""
        with self._read() as conn:
            return require_user(conn, username)

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


# --- within a transaction ----------------------------------------------------------------------


def require_user(conn: sqlite3.Connection, username: str) -> int:
    """The id of an existing user; StoreError if there is none."""
    row = conn.execute(
        "SELECT id FROM accounts WHERE slug = ? AND kind = 'user'", (username,)
    ).fetchone()
    if row is None:
        raise StoreError(f"no user {username!r}")
    return int(row[0])


def new_account(conn: sqlite3.Connection, slug: str, kind: str, stamp: str) -> int:
    """Add a user or an organization; returns its id."""
    account_id = conn.execute(
        "INSERT INTO accounts (slug, kind, created_at) VALUES (?, ?, ?)", (slug, kind, stamp)
    ).lastrowid
    assert account_id is not None
    return account_id


def add_members(conn: sqlite3.Connection, organization_id: int, user_ids: list[int]) -> None:
    """Make these users members of the organization."""
    conn.executemany(
        "INSERT INTO memberships (organization_id, user_id) VALUES (?, ?)",
        [(organization_id, member) for member in user_ids],
    )


def ensure_organization(conn: sqlite3.Connection, slug: str) -> int:
    """The id of the account ``slug``; made an organization with the demo user in it if new."""
    row = conn.execute("SELECT id FROM accounts WHERE slug = ?", (slug,)).fetchone()
    if row is not None:
        return int(row[0])
    org_id = new_account(conn, slug, "organization", now_stamp())
    conn.execute(
        "INSERT INTO memberships (organization_id, user_id) "
        "SELECT ?, id FROM accounts WHERE slug = ? AND kind = 'user'",
        (org_id, seed.DEMO_USER),
    )
    return org_id
