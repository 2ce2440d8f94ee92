"""Reading the API's answers: the JSON body, then the wire model it must fit.

An answer that is not what the API promises is a :class:`ServerError` whose message names what
is wrong, never the values: they may be anything a broken server or a proxy sent.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
import pydantic

from avala_mcp.client.errors import ServerError
from avala_mcp.client.json_text import NestedTooDeeply, decode

M = TypeVar("M", bound=pydantic.BaseModel)


def json_body(response: httpx.Response) -> Any:
    """The response's body as JSON, or a ServerError saying it is not JSON or is malformed."""
    try:
        return decode(response.content)
    except NestedTooDeeply as deep:
        raise ServerError(
            f"the API's answer was malformed: {deep}", status=response.status_code
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise ServerError(
            f"the API answered {response.status_code} with a body that is not JSON",
            status=response.status_code,
        ) from None


def parse(model: type[M], data: Any) -> M:
    """``data`` as ``model``, or a ServerError naming what is wrong (never the values)."""
    try:
        return model.model_validate(data)
    except RecursionError:
        # Only data that did not come through json_body can nest this deep.
        raise ServerError(
            f"the API's answer was malformed: a {model.__name__} nested too deeply"
        ) from None
    except pydantic.ValidationError as invalid:
        problems = invalid.errors(include_input=False, include_url=False)
        first = problems[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ServerError(
            f"the API's answer is not a valid {model.__name__}: {where}: {first['msg']}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        ) from None
