"""Error responses in the seed's shapes, and the app's exception handlers that render them."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from avala_mcp.embedded.paging import ParameterError

log = logging.getLogger(__name__)

INVALID_KEY = {"detail": "Invalid API key."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}


class ApiError(Exception):
    """An error response: its status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers


def field_errors(errors: dict[str, list[str]]) -> ApiError:
    """A 400 naming each bad field of a request body and what is wrong with it."""
    return ApiError(400, dict(errors))


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return JSONResponse(error.body, error.status, headers=error.headers)


async def _parameter_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ParameterError)
    return JSONResponse({error.name: [error.message]}, 400)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return JSONResponse(NOT_FOUND, 404)
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


def exception_handlers() -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """Starlette's ``exception_handlers``: every failure becomes a JSON body, none a traceback."""
    return {
        ApiError: _api_error,
        ParameterError: _parameter_error,
        HTTPException: _http_error,
        sqlite3.OperationalError: _database_error,
        Exception: _server_error,
    }
