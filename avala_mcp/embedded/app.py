"""The embedded Slices API as a Starlette app (DESIGN §2, §6).

Every request passes a gate (rate limit, then API key) before routing; handlers check the request,
then ask the store, whose blocking calls run in worker threads. Errors take the seed's shapes.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import anyio.to_thread
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from avala_mcp.embedded import naming, strict_json
from avala_mcp.embedded.paging import (
    Cursor,
    Key,
    Page,
    ParameterError,
    assemble_page,
    decode_cursor,
    encode_cursor,
    parse_limit,
    parse_ordering,
)
from avala_mcp.embedded.ratelimit import RateLimiter
from avala_mcp.embedded.seed import DEMO_USER
from avala_mcp.embedded.store import Dataset, DuplicateName, Item, Owner, Slice, Store, hash_key
from avala_mcp.filters import FilterError, parse_filter

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_DESCRIPTION_LENGTH = 10_000
API_KEY_HEADER = "x-avala-api-key"
_USER_SCOPE_KEY = "avala.user_id"
_INVALID_KEY = {"detail": "Invalid API key."}
_FORBIDDEN = {"detail": "You do not have permission to perform this action."}
_NOT_FOUND = {"detail": "Not found."}
_REQUIRED = "This field is required."

T = TypeVar("T")


class ApiError(Exception):
    """An error response: its status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers


def _field_errors(errors: dict[str, list[str]]) -> ApiError:
    return ApiError(400, dict(errors))


async def _run(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking store call in a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args))


# --- the gate: rate limit and API key ----------------------------------------------------------


class Gate:
    """ASGI middleware: authenticates, rate-limits, and stamps rate-limit headers.

    A valid key has its own bucket; a request without one (a missing, mistyped or guessed key)
    is charged to its client address, so neither a flood of made-up keys nor the unauthenticated
    get a fresh allowance per request.
    """

    def __init__(
        self,
        app: ASGIApp,
        store: Store,
        limiter: RateLimiter | None,
        session_keys: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.limiter = limiter
        # Keys are never revoked, so a key once found stays valid: skip the database next time.
        # Session keys (key -> user id) are known only here, in memory, and never stored.
        self._known: dict[str, int] = dict(session_keys or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = Headers(scope=scope).get(API_KEY_HEADER)
        user_id = await self._authenticate(key) if key else None
        extra: dict[str, str] = {}
        if self.limiter is not None:
            if key and user_id is not None:
                identity = f"key:{hash_key(key)}"
            else:
                client = scope.get("client")
                identity = f"client:{client[0] if client else '?'}"
            decision = self.limiter.take(identity)
            extra = decision.headers()
            if not decision.allowed:
                detail = (
                    "Request was throttled. Expected available in "
                    f"{decision.retry_after} second{'s' if decision.retry_after != 1 else ''}."
                )
                await JSONResponse({"detail": detail}, 429, headers=extra)(scope, receive, send)
                return
        if user_id is None:
            await JSONResponse(_INVALID_KEY, 401, headers=extra)(scope, receive, send)
            return
        scope[_USER_SCOPE_KEY] = user_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _authenticate(self, key: str) -> int | None:
        known = self._known.get(key)
        if known is not None:
            return known
        user_id = await _run(self.store.user_for_key, key)
        if user_id is not None:
            self._known[key] = user_id
        return user_id


# --- request helpers ---------------------------------------------------------------------------


async def _json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or the seed's error for a body too large, not JSON, or bad."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, {"detail": "Request body is larger than 1 MiB."})
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, {"detail": "Request body is larger than 1 MiB."})
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        return {}
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise ApiError(415, {"detail": f'Unsupported media type "{content_type}" in request.'})
    try:
        data = strict_json.loads(body)
    except ValueError as error:
        raise ApiError(400, {"detail": f"JSON parse error - {error}"}) from None
    if not isinstance(data, dict):
        kind = "list" if isinstance(data, list) else type(data).__name__
        raise ApiError(
            400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
        )
    return data


def _uuid_field(raw: object) -> tuple[str | None, list[str]]:
    if raw is None:
        return None, ["This field may not be null."]
    if not isinstance(raw, str):
        return None, ["Must be a valid UUID."]
    try:
        return str(uuid.UUID(raw)), []
    except ValueError:
        return None, ["Must be a valid UUID."]


def _name_and_dataset(
    body: dict[str, Any], errors: dict[str, list[str]], *, dataset_required: bool
) -> tuple[str | None, str | None]:
    """The body's trimmed name and dataset uid; their problems go into ``errors``."""
    name: str | None = None
    if "name" in body:
        name, messages = naming.check_name(body["name"])
    else:
        messages = [_REQUIRED]
    if messages:
        errors["name"] = messages
    uid: str | None = None
    if body.get("dataset") is not None or (dataset_required and "dataset" in body):
        uid, messages = _uuid_field(body["dataset"])
        if messages:
            errors["dataset"] = messages
    elif dataset_required:
        errors["dataset"] = [_REQUIRED]
    return name, uid


def _user(request: Request) -> int:
    user_id: int = request.scope[_USER_SCOPE_KEY]
    return user_id


async def _permitted_owner(request: Request, store: Store) -> Owner:
    """The path's owner, after 404 (no such owner) and 403 (not the caller's) checks."""
    owner = await _run(store.owner, request.path_params["owner"])
    if owner is None:
        raise ApiError(404, _NOT_FOUND)
    if not await _run(store.can_act_for, _user(request), owner):
        raise ApiError(403, _FORBIDDEN)
    return owner


async def _permitted_dataset(request: Request, store: Store, uid: str) -> Dataset:
    dataset = await _run(store.dataset, uid)
    if dataset is None:
        raise ApiError(404, _NOT_FOUND)
    if not await _run(store.can_act_for, _user(request), dataset.owner):
        raise ApiError(403, _FORBIDDEN)
    return dataset


async def _permitted_slice(request: Request, store: Store) -> Slice:
    owner = await _permitted_owner(request, store)
    found = await _run(store.get_slice, owner.id, request.path_params["slug"])
    if found is None:
        raise ApiError(404, _NOT_FOUND)
    return found


def slice_json(piece: Slice) -> dict[str, Any]:
    """A slice as the API shows it: the seed's fields, then owner, dataset and filter."""
    return {
        "uid": piece.uid,
        "name": piece.name,
        "slug": piece.slug,
        "description": piece.description,
        "item_count": piece.item_count,
        "created_at": piece.created_at,
        "updated_at": piece.updated_at,
        "owner": piece.owner,
        "dataset": piece.dataset,
        "filter": None if piece.filter_json is None else json.loads(piece.filter_json),
    }


def item_json(item: Item, dataset_uid: str) -> dict[str, Any]:
    """An item as the API shows it."""
    return {
        "uid": item.uid,
        "key": item.key,
        "dataset": dataset_uid,
        "url": item.url,
        "metadata": item.metadata,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def _page_json(
    request: Request, page: Page[T], count: int, render: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    def link(cursor: Cursor | None) -> str | None:
        if cursor is None:
            return None
        return str(request.url.include_query_params(cursor=encode_cursor(cursor)))

    return {
        "count": count,
        "next": link(page.next),
        "previous": link(page.previous),
        "results": [render(row) for row in page.results],
    }


# --- endpoints ---------------------------------------------------------------------------------


class SlicesApi:
    """The endpoints of DESIGN §2 over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def _slice_page(self, request: Request, scope: str, scope_id: int) -> Response:
        params = request.query_params
        ordering = parse_ordering(params.get("ordering"))
        limit = parse_limit(params.get("limit"))
        key_types = (int if ordering.field == "item_count" else str, int)
        cursor = decode_cursor(params.get("cursor"), ordering.spelled, key_types)
        rows = await _run(self.store.list_slices, scope, scope_id, ordering, cursor, limit)
        count = await _run(self.store.count_slices, scope, scope_id)

        def key_of(piece: Slice) -> Key:
            return piece.key_for(ordering)

        page = assemble_page(rows, limit, cursor, ordering.spelled, key_of)
        return JSONResponse(_page_json(request, page, count, slice_json))

    async def list_owner_slices(self, request: Request) -> Response:
        owner = await _permitted_owner(request, self.store)
        return await self._slice_page(request, "owner", owner.id)

    async def list_dataset_slices(self, request: Request) -> Response:
        uid, _ = _uuid_field(request.path_params["dataset_uid"])
        if uid is None:
            raise ApiError(404, _NOT_FOUND)
        dataset = await _permitted_dataset(request, self.store, uid)
        return await self._slice_page(request, "dataset", dataset.id)

    async def create_slice(self, request: Request) -> Response:
        body = await _json_body(request)
        errors: dict[str, list[str]] = {}
        name, uid = _name_and_dataset(body, errors, dataset_required=True)
        description = body.get("description")
        if description is None:
            description = ""
        elif not isinstance(description, str):
            errors["description"] = ["Not a valid string."]
        elif len(description) > MAX_DESCRIPTION_LENGTH:
            errors["description"] = [
                f"Ensure this field has no more than {MAX_DESCRIPTION_LENGTH} characters."
            ]
        raw_filter = body.get("filter")
        if raw_filter is not None:
            try:
                parse_filter(raw_filter)
            except FilterError as error:
                errors["filter"] = [str(error)]
        if errors:
            raise _field_errors(errors)
        assert name is not None
        assert uid is not None
        assert isinstance(description, str)
        dataset = await _permitted_dataset(request, self.store, uid)
        try:
            created = await _run(self.store.create_slice, dataset, name, description, raw_filter)
        except DuplicateName:
            raise ApiError(
                409, {"detail": f"A slice named {name!r} already exists in this dataset."}
            ) from None
        return JSONResponse(slice_json(created), 201)

    async def get_slice(self, request: Request) -> Response:
        return JSONResponse(slice_json(await _permitted_slice(request, self.store)))

    async def delete_slice(self, request: Request) -> Response:
        piece = await _permitted_slice(request, self.store)
        if not await _run(self.store.delete_slice, piece.id):
            raise ApiError(404, _NOT_FOUND)
        return Response(status_code=204)

    async def list_slice_items(self, request: Request) -> Response:
        piece = await _permitted_slice(request, self.store)
        limit = parse_limit(request.query_params.get("limit"))
        cursor = decode_cursor(request.query_params.get("cursor"), "id", (int,))
        rows = await _run(self.store.slice_items, piece, cursor, limit)

        def key_of(item: Item) -> Key:
            return (item.id,)

        def render(item: Item) -> dict[str, Any]:
            return item_json(item, piece.dataset)

        page = assemble_page(rows, limit, cursor, "id", key_of)
        return JSONResponse(_page_json(request, page, piece.item_count, render))

    async def validate_name(self, request: Request) -> Response:
        body = await _json_body(request)
        errors: dict[str, list[str]] = {}
        name, uid = _name_and_dataset(body, errors, dataset_required=False)
        if errors:
            raise _field_errors(errors)
        assert name is not None
        slug = naming.slugify(name)
        if uid is not None:
            dataset = await _permitted_dataset(request, self.store, uid)
            if await _run(self.store.name_taken, dataset.id, name):
                raise _field_errors(
                    {"name": [f"A slice named {name!r} already exists in this dataset."]}
                )
            slug = await _run(self.store.slug_for, dataset.owner.id, name)
        return JSONResponse({"name": name, "slug": slug, "valid": True})


# --- error rendering ---------------------------------------------------------------------------


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return JSONResponse(error.body, error.status, headers=error.headers)


async def _parameter_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ParameterError)
    return JSONResponse({error.name: [error.message]}, 400)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return JSONResponse(_NOT_FOUND, 404)
    if error.status_code == 405:
        body = {"detail": f'Method "{request.method}" not allowed.'}
        return JSONResponse(body, 405, headers=error.headers)
    return JSONResponse({"detail": error.detail}, error.status_code, headers=error.headers)


async def _database_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, sqlite3.OperationalError)
    message = str(error)
    if "locked" in message or "busy" in message:
        # Another process (an import, most likely) holds the write lock longer than we wait.
        detail = "The database is busy (an import may be running); try again shortly."
        return JSONResponse({"detail": detail}, 503, headers={"Retry-After": "5"})
    return await _server_error(request, error)


async def _server_error(request: Request, error: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse({"detail": "A server error occurred."}, 500)


# --- the app -----------------------------------------------------------------------------------


def _routes(api: SlicesApi) -> list[Route]:
    return [
        Route("/slices/", api.create_slice, methods=["POST"]),
        Route("/slices/dataset/{dataset_uid}/", api.list_dataset_slices, methods=["GET"]),
        Route("/slices/{owner}/list/", api.list_owner_slices, methods=["GET"]),
        Route("/slices/{owner}/{slug}/items/list/", api.list_slice_items, methods=["GET"]),
        Route("/slices/{owner}/{slug}/", api.get_slice, methods=["GET"]),
        Route("/slices/{owner}/{slug}/", api.delete_slice, methods=["DELETE"]),
        Route("/slice/validate/name", api.validate_name, methods=["POST"]),
    ]


def create_app(
    db_path: str | os.PathLike[str],
    *,
    api_key: str | None = None,
    session_key: str | None = None,
    rate_limit: int | None = None,
) -> Starlette:
    """The embedded Slices API on the SQLite database at ``db_path`` (created with demo data).

    ``api_key`` becomes a key of the demo user stored (hashed) in the database, so it stays valid
    for later apps on the same file (``avala-mcp api --api-key``). ``session_key`` is a key of
    the demo user valid only for this app: held in memory, never stored, gone when the app is
    (``avala-mcp serve --local``). ``rate_limit`` switches on rate limiting (requests per minute
    per key). Works with or without lifespan events; call ``close_app`` when done in-process
    (the lifespan's shutdown does the same under a server).
    """
    store = Store(db_path)
    try:
        if api_key is not None:
            store.add_api_key(DEMO_USER, api_key)
        session_keys: dict[str, int] = {}
        if session_key is not None:
            session_keys[session_key] = store.user_id(DEMO_USER)
        limiter = None if rate_limit is None else RateLimiter(rate_limit)
    except BaseException:
        store.close()
        raise
    api = SlicesApi(store)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        ApiError: _api_error,
        ParameterError: _parameter_error,
        HTTPException: _http_error,
        sqlite3.OperationalError: _database_error,
        Exception: _server_error,
    }
    app = Starlette(
        routes=[Mount("/api/v1", routes=_routes(api))],
        middleware=[Middleware(Gate, store=store, limiter=limiter, session_keys=session_keys)],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.limiter = limiter
    return app


def app_store(app: Starlette) -> Store:
    """The store behind an app made by ``create_app``."""
    store: Store = app.state.store
    return store


def close_app(app: Starlette) -> None:
    """Close the database of an app made by ``create_app`` (safe to call twice)."""
    app_store(app).close()
