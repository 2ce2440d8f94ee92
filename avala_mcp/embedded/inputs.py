"""Reading what a request sends: its JSON body, and the fields in it, with the seed's errors.

Field readers put their problems into an ``errors`` dict (field name -> messages), so a handler
reports every bad field at once with ``errors.field_errors``.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request

from avala_mcp.contract import PROFILE_DEFAULT_TOP, PROFILE_MAX_FIELDS, PROFILE_MAX_TOP
from avala_mcp.embedded import naming, strict_json
from avala_mcp.embedded.errors import ApiError
from avala_mcp.embedded.paging import MAX_DIGITS, ascii_digits
from avala_mcp.embedded.store.field_paths import path_error
from avala_mcp.filters import FilterError, parse_filter

MAX_BODY_BYTES = 1024 * 1024
MAX_DESCRIPTION_LENGTH = 10_000
_REQUIRED = "This field is required."


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or the seed's error for a body too large, not JSON, or bad."""
    declared = request.headers.get("content-length")
    if declared is not None:
        # HTTP servers such as uvicorn refuse a malformed length first, but the app may be
        # served by any ASGI server.
        if not ascii_digits(declared):
            raise ApiError(400, {"detail": "Content-Length header is not a number."})
        # Judged by its length past MAX_DIGITS: int() refuses text of more than 4,300 digits.
        if len(declared) > MAX_DIGITS or int(declared) > MAX_BODY_BYTES:
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


def uuid_field(raw: object) -> tuple[str | None, list[str]]:
    """A UUID in canonical form, or None and what is wrong with ``raw``."""
    if raw is None:
        return None, ["This field may not be null."]
    if not isinstance(raw, str):
        return None, ["Must be a valid UUID."]
    try:
        return str(uuid.UUID(raw)), []
    except ValueError:
        return None, ["Must be a valid UUID."]


def name_and_dataset(
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
        uid, messages = uuid_field(body["dataset"])
        if messages:
            errors["dataset"] = messages
    elif dataset_required:
        errors["dataset"] = [_REQUIRED]
    return name, uid


def description_field(body: dict[str, Any], errors: dict[str, list[str]]) -> str:
    """The body's description ("" if absent or null); its problems go into ``errors``."""
    description = body.get("description")
    if description is None:
        return ""
    if not isinstance(description, str):
        errors["description"] = ["Not a valid string."]
        return ""
    if len(description) > MAX_DESCRIPTION_LENGTH:
        errors["description"] = [
            f"Ensure this field has no more than {MAX_DESCRIPTION_LENGTH} characters."
        ]
    return description


def filter_field(body: dict[str, Any], errors: dict[str, list[str]]) -> object | None:
    """The body's filter as sent (None if absent or null), checked; problems go into ``errors``."""
    raw_filter = body.get("filter")
    if raw_filter is not None:
        try:
            parse_filter(raw_filter)
        except FilterError as error:
            errors["filter"] = [str(error)]
    return raw_filter


def fields_field(body: dict[str, Any], errors: dict[str, list[str]]) -> list[str] | None:
    """The body's ``fields`` (None if absent or null): at most ``PROFILE_MAX_FIELDS`` distinct
    filter paths; problems go into ``errors``, each naming the entry."""
    raw = body.get("fields")
    if raw is None:
        return None
    if not isinstance(raw, list):
        errors["fields"] = ["Expected a list of field paths."]
        return None
    if len(raw) > PROFILE_MAX_FIELDS:
        errors["fields"] = [f"Ensure this field has no more than {PROFILE_MAX_FIELDS} elements."]
        return None
    problems: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        where = f"fields[{index}]"
        if not isinstance(entry, str):
            problems.append(f"{where}: expected a field path (a string)")
        elif (error := path_error(entry)) is not None:
            problems.append(f"{where}: {error}")
        elif entry in seen:
            problems.append(f"{where}: {entry!r} is listed twice")
        else:
            seen.add(entry)
    if problems:
        errors["fields"] = problems
    return raw


def top_field(body: dict[str, Any], errors: dict[str, list[str]]) -> int:
    """The body's ``top`` (``PROFILE_DEFAULT_TOP`` if absent or null); problems go into
    ``errors``."""
    raw = body.get("top")
    if raw is None:
        return PROFILE_DEFAULT_TOP
    if isinstance(raw, bool) or not isinstance(raw, int):
        errors["top"] = ["A valid integer is required."]
        return PROFILE_DEFAULT_TOP
    if not 1 <= raw <= PROFILE_MAX_TOP:
        errors["top"] = [f"Ensure this value is between 1 and {PROFILE_MAX_TOP}."]
    return raw
