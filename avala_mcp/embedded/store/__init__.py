"""SQLite storage of the embedded Slices API.

``Store`` is one object over one database file, assembled from a module per responsibility:
``connection`` (WAL, the pool of readers, the ``BEGIN IMMEDIATE`` write transaction), ``schema``
(tables, schema version, demo data), ``accounts`` (users, organizations, API keys), ``datasets``,
``slices``, ``items``, ``importing``, and ``profile`` (with ``field_paths``: the paths a dataset's
metadata has). Its methods are synchronous; the web app runs them in worker threads so the event
loop never waits on a query.
"""

from __future__ import annotations

import os

from avala_mcp.embedded.store.accounts import AccountQueries, hash_key
from avala_mcp.embedded.store.datasets import DatasetQueries
from avala_mcp.embedded.store.importing import DatasetImport
from avala_mcp.embedded.store.items import ItemQueries, metadata_json, new_uid
from avala_mcp.embedded.store.profile import FieldProfile, Profile, ProfileQueries, Value
from avala_mcp.embedded.store.records import (
    Dataset,
    DatasetInfo,
    DuplicateName,
    ImportFailed,
    Item,
    NewItem,
    Owner,
    Slice,
    StoreError,
    now_stamp,
)
from avala_mcp.embedded.store.schema import SCHEMA_VERSION, initialize
from avala_mcp.embedded.store.slices import SliceQueries

__all__ = [
    "SCHEMA_VERSION",
    "Dataset",
    "DatasetInfo",
    "DuplicateName",
    "FieldProfile",
    "ImportFailed",
    "Item",
    "NewItem",
    "Owner",
    "Profile",
    "Slice",
    "Store",
    "StoreError",
    "Value",
    "hash_key",
    "metadata_json",
    "new_uid",
    "now_stamp",
]


class Store(
    AccountQueries, DatasetQueries, SliceQueries, ItemQueries, ProfileQueries, DatasetImport
):
    """The embedded API's database, created with demo data if new. Thread-safe; close it when done.

    Raises StoreError if the file cannot be opened or is not an avala-mcp database of a schema
    version this code understands.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path, initialize)
