"""Reading what a request sends: its JSON body, and the fields in it, with the seed's errors.

Field readers put their problems into an ``errors`` dict (field name -> messages), so a handler
reports every bad field at once with ``errors.field_errors``.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request

from avala_mcp.embedded import naming, strict_json
from avala_mcp.embedded.errors import ApiError
from avala_mcp.filters import FilterError, parse_filter

MAX_BODY_BYTES = 1024 * 1024
MAX_DESCRIPTION_LENGTH = 10_000
_REQUIRED = "This field is required."


async def json_body(request: Request) -> dict[str, Any]:
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
