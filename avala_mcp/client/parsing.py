"""Reading the API's answers: the JSON body, then the wire model it must fit.

An answer that is not what the API promises is a :class:`ServerError` whose message names what
is wrong, never the values: they may be anything a broken server or a proxy sent.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
import pydantic

from avala_mcp.client.errors import ServerError

M = TypeVar("M", bound=pydantic.BaseModel)


def json_body(response: httpx.Response) -> Any:
    """The response's body as JSON, or a ServerError saying it is not JSON."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        raise ServerError(
            f"the API answered {response.status_code} with a body that is not JSON",
            status=response.status_code,
        ) from None


def parse(model: type[M], data: Any) -> M:
    """``data`` as ``model``, or a ServerError naming what is wrong (never the values)."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as invalid:
        problems = invalid.errors(include_input=False, include_url=False)
        first = problems[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ServerError(
            f"the API's answer is not a valid {model.__name__}: {where}: {first['msg']}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        ) from None
