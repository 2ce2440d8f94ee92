"""What leaves the server, scrubbed of secrets: results, and the errors that repeat a request.

A caller may send a secret itself (a resource URI with the API key as its slug, a prompt goal
quoting it), which a not-found message, an error's data or a prompt's text would repeat. The
server runs every tool result (the call guard), resource and prompt, and their errors, through
these, with the one :class:`~avala_mcp.redaction.Redactor`.
"""

from __future__ import annotations

import logging
from typing import TypeVar

import pydantic
from mcp import MCPError
from mcp.server.mcpserver.exceptions import (
    ResourceError,
    ResourceNotFoundError,
    UnexpectedResourceError,
)
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS

from avala_mcp.redaction import Redactor

logger = logging.getLogger(__name__)

_Model = TypeVar("_Model", bound=pydantic.BaseModel)


def scrubbed(redactor: Redactor, model: _Model, what: str) -> _Model:
    """``model`` (a result on its way to the client) with every known secret replaced."""
    if not redactor or not redactor.found_in(model.model_dump_json(by_alias=True)):
        return model
    logger.warning("a secret was scrubbed from %s", what)
    return type(model).model_validate(redactor.value(model.model_dump(by_alias=True)))


def scrubbed_error(redactor: Redactor, exc: Exception) -> Exception:
    """``exc`` (an error on its way to the client) with every known secret replaced.

    The message, and an MCP error's data, are redacted; ``exc`` itself if it shows no secret.
    """
    text = f"{exc} {exc.error.model_dump_json()}" if isinstance(exc, MCPError) else str(exc)
    if not redactor.found_in(text):
        return exc
    logger.warning("a secret was scrubbed from an error")
    if isinstance(exc, MCPError):
        return MCPError(exc.code, redactor.text(exc.message), redactor.value(exc.data))
    return type(exc)(redactor.text(str(exc)))


def resource_failure(redactor: Redactor, uri: str, exc: ResourceError) -> MCPError:
    """The protocol error the SDK would make of ``exc``, with the URI and message scrubbed.

    The SDK would put the URI as asked into the error's data and its log line; made here, the
    error passes the SDK unchanged, and both show the URI redacted.
    """
    shown, message = redactor.text(uri), redactor.text(str(exc))
    if isinstance(exc, UnexpectedResourceError):
        logger.error("resource %r failed unexpectedly", shown, exc_info=exc.__cause__)
    else:
        logger.info("resource %r failed: %s", shown, message)
    code = INVALID_PARAMS if isinstance(exc, ResourceNotFoundError) else INTERNAL_ERROR
    return MCPError(code=code, message=message, data={"uri": shown})
