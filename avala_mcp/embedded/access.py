"""Who may act on what: the caller the gate authenticated, and the 404 and 403 checks.

Also ``run``, by which every handler (and the gate) calls the store: its methods block, so they
run in a worker thread and the event loop never waits on a query.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from starlette.requests import Request

from avala_mcp.embedded.errors import FORBIDDEN, NOT_FOUND, ApiError
from avala_mcp.embedded.inputs import uuid_field
from avala_mcp.embedded.store import Dataset, Owner, Slice, Store

#: Where the gate leaves the authenticated user's id in the ASGI scope.
USER_SCOPE_KEY = "avala.user_id"

T = TypeVar("T")


async def run(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking store call in a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args))


def caller(request: Request) -> int:
    """The id of the user whose API key the request carries (the gate let it through)."""
    user_id: int = request.scope[USER_SCOPE_KEY]
    return user_id


async def permitted_owner(request: Request, store: Store) -> Owner:
    """The path's owner, after 404 (no such owner) and 403 (not the caller's) checks."""
    owner = await run(store.owner, request.path_params["owner"])
    if owner is None:
        raise ApiError(404, NOT_FOUND)
    if not await run(store.can_act_for, caller(request), owner):
        raise ApiError(403, FORBIDDEN)
    return owner


async def permitted_dataset(request: Request, store: Store, uid: str) -> Dataset:
    """The dataset ``uid``, after 404 (no such dataset) and 403 (not the caller's) checks."""
    dataset = await run(store.dataset, uid)
    if dataset is None:
        raise ApiError(404, NOT_FOUND)
    if not await run(store.can_act_for, caller(request), dataset.owner):
        raise ApiError(403, FORBIDDEN)
    return dataset


async def path_dataset(request: Request, store: Store) -> Dataset:
    """The path's dataset (``dataset_uid``), checked as ``permitted_dataset`` checks; a malformed
    uid is a 404, as an unknown one is."""
    uid, _ = uuid_field(request.path_params["dataset_uid"])
    if uid is None:
        raise ApiError(404, NOT_FOUND)
    return await permitted_dataset(request, store, uid)


async def permitted_slice(request: Request, store: Store) -> Slice:
    """The path's slice (``owner`` and ``slug``), after the owner's checks and a 404."""
    owner = await permitted_owner(request, store)
    found = await run(store.get_slice, owner.id, request.path_params["slug"])
    if found is None:
        raise ApiError(404, NOT_FOUND)
    return found
