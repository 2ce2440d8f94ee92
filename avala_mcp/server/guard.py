"""The call guard: the rules every tool call passes, whichever tool it names.

:meth:`AvalaServer.call_tool <avala_mcp.server.app.AvalaServer.call_tool>` runs each call
through one :class:`CallGuard`: read-only mode, the arguments checked by the tool's input model
before any request (the SDK itself ignores unknown arguments), every failure turned into the
structured payload of ``docs/contracts.md``, and known secrets scrubbed from what goes back.
"""

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pydantic
from mcp.types import CallToolResult, TextContent

from avala_mcp.client.errors import (
    AvalaError,
    InvalidInputError,
    NotFoundError,
    ReadOnlyError,
    ServerError,
    failure_payload,
    one_line,
)
from avala_mcp.contract import SEGMENT_RE
from avala_mcp.redaction import Redactor
from avala_mcp.server.catalog import ToolSpec
from avala_mcp.server.outputs import ToolOutput, compact_json

logger = logging.getLogger(__name__)

# Bounds on what an invalid_input failure repeats of the caller's (possibly hostile) input.
_MAX_BAD_FIELDS = 10
_MAX_NAME_CHARS = 64
_MAX_FIELD_MESSAGE_CHARS = 200
# An unknown argument is named back only if it looks like a name, not like an attack.
_ARGUMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

_UNEXPECTED = "unexpected error in the server; the details are in its log"


class CallGuard:
    """Admits a call to one of ``tools``, and shapes what any call sends back."""

    def __init__(self, tools: Iterable[ToolSpec], *, read_only: bool, redactor: Redactor) -> None:
        self._tools = {spec.name: spec for spec in tools}
        self._read_only = read_only
        self._redactor = redactor

    def admit(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments to hand the SDK's tool, or the :class:`AvalaError` refusing the call.

        A write tool is refused in read-only mode before its arguments are looked at; then the
        tool's input model (which forbids unknown arguments) judges them.
        """
        spec = self._tools.get(name)
        if spec is None:
            raise InvalidInputError(
                f"no tool named '{clip(name)}'",
                hint="call tools/list to see the tools; this server has " + ", ".join(self._tools),
            )
        if spec.writes and self._read_only:
            reads = ", ".join(tool.name for tool in self._tools.values() if not tool.writes)
            raise ReadOnlyError(
                f"the server runs read-only, so {name} is disabled",
                hint=f"only the read tools ({reads}) are available; the user can restart the "
                "server without --read-only",
            )
        decoded = _decode_json_text(spec.input_model, arguments)
        try:
            spec.input_model.model_validate(decoded)
        except pydantic.ValidationError as exc:
            error = InvalidInputError.for_fields(bad_fields(exc))
            if "slug" in (error.fields or {}):
                error.hint = _slug_hint(decoded.get("owner"))
            raise error from None
        return decoded

    def failure(self, name: str, arguments: Mapping[str, Any], exc: Exception) -> CallToolResult:
        """The structured failure a call to ``name`` that raised ``exc`` returns."""
        error = _explain(_as_avala_error(name, exc), name, arguments)
        return tool_result(failure_payload(error), is_error=True)

    def scrub(self, result: CallToolResult) -> CallToolResult:
        """``result`` without any known secret: a last line of defence, should one slip in."""
        if not self._redactor or not self._redactor.found_in(_searchable_text(result)):
            return result
        logger.warning("a secret was scrubbed from a tool result")
        return CallToolResult.model_validate(self._redactor.value(result.model_dump(by_alias=True)))


def _decode_json_text(
    model: type[pydantic.BaseModel], arguments: Mapping[str, Any]
) -> dict[str, Any]:
    """``arguments`` with JSON text decoded where the argument does not take text.

    Some clients send object arguments (a filter) as JSON text. The rule is the SDK's own for
    tool arguments: text for an argument that is not plain text is decoded, unless it decodes to
    a string or a number (which validation converts, if the argument takes one, as it is).
    Applied here, and the decoded arguments handed on, so the guard judges exactly what the tool
    is given.
    """
    fields = model.model_fields
    decoded = dict(arguments)
    for key, value in arguments.items():
        field = fields.get(key)
        if field is None or field.annotation is str or not isinstance(value, str):
            continue
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            continue  # not JSON: validation judges the text
        if not isinstance(parsed, str | int | float):
            decoded[key] = parsed
    return decoded


def tool_result(payload: dict[str, Any], *, is_error: bool = False) -> CallToolResult:
    """Structured content plus the same JSON, compact, as text for clients that read only text."""
    return CallToolResult(
        content=[TextContent(type="text", text=compact_json(payload))],
        structured_content=payload,
        is_error=is_error,
    )


def success(output: ToolOutput) -> CallToolResult:
    """A tool's successful result: its own content blocks, if it has them, or the JSON text."""
    payload = output.payload()
    blocks = output.blocks()
    if blocks is None:
        return tool_result(payload)
    return CallToolResult(content=blocks, structured_content=payload)


def _searchable_text(result: CallToolResult) -> str:
    """Text holding everything in ``result`` a secret could hide in.

    Every tool result but show_items' is built by tool_result: one text block, the compact JSON
    of the structured content. That text, already built, is all there is to search: JSON escapes
    a string character by character, so a secret anywhere in the structured content shows in it
    as its escaped form (which the redactor searches for as well). A result of any other shape
    (show_items' lines and images) is searched whole.
    """
    match result.content:
        case [TextContent(text=text)]:
            return text
    return result.model_dump_json()


def _as_avala_error(tool: str, exc: Exception) -> AvalaError:
    """The failure an exception from a tool call stands for.

    The SDK wraps what a tool (or a resolver) raises in a ToolError whose cause is the original.
    The guard has checked the arguments before the SDK sees them, so anything else is a bug.
    """
    for candidate in (exc, exc.__cause__):
        if isinstance(candidate, AvalaError):
            return candidate
    # Only the log sees the detail: it may describe internals the client has no business with.
    logger.error("tool %r failed unexpectedly", tool, exc_info=exc)
    return ServerError(_UNEXPECTED, hint="try again; if it keeps failing, tell the user")


def bad_fields(error: pydantic.ValidationError) -> dict[str, list[str]]:
    """Each bad argument with what is wrong, never repeating the rejected values."""
    fields: dict[str, list[str]] = {}
    for problem in error.errors(include_input=False, include_url=False):
        loc = [str(part) for part in problem["loc"]]
        name = loc[0] if loc and _ARGUMENT_NAME.fullmatch(loc[0]) else "(unknown argument)"
        path = _filter_path(loc[1:])
        message = problem["msg"] if not path else f"at {path}: {problem['msg']}"
        if name in fields or len(fields) < _MAX_BAD_FIELDS:
            fields.setdefault(name, []).append(one_line(message, _MAX_FIELD_MESSAGE_CHARS))
    return fields


def _filter_path(loc: list[str]) -> str:
    """A location inside a filter without the union's tags: and.0.op rather than and.and.0..."""
    path: list[str] = []
    for part in loc:
        if part == "condition" or (path and path[-1] == part):
            continue
        path.append(part)
    return clip(".".join(path))


_HINTS: dict[str, str] = {
    "invalid_input": "fix the arguments named in 'fields' (see the tool's input schema) and "
    "call again",
    "validation": "fix what 'fields' names and call again; the filter language is in "
    "create_slice's description",
    "unauthorized": "the server's API key (AVALA_API_KEY) is missing, invalid or revoked; "
    "retrying will not help: the user must fix the server's configuration",
    "forbidden": "the API key's user may not act for this owner; use an owner the user belongs "
    "to, or ask the user for access",
    "conflict": "a slice of that dataset already has this name: call validate_slice_name and "
    "pick another name, or use the existing slice (list_slices)",
    "rate_limited": "too many requests: wait retry_after seconds (about a minute if null), then "
    "call again",
    "server_error": "the API failed; try again in a moment, and tell the user if it persists",
    "network": "the API could not be reached; try again later, and tell the user if it persists "
    "(their network or AVALA_BASE_URL may be wrong)",
}


def _slug_hint(owner: Any) -> str:
    """What to pass as ``slug`` when a name (say "Bay Area") was passed instead."""
    listing = (
        f"list_slices(owner='{owner}')"
        if isinstance(owner, str) and SEGMENT_RE.match(owner)
        else "list_slices(owner)"
    )
    return (
        "slug takes the slice's slug, not its name: lowercase words joined by hyphens, such as "
        f"'night-driving-scenes'; call {listing} to see each slice's slug"
    )


# What the client's NotFoundError says when the API has no dataset endpoints at all (Avala's
# cloud may not), as against a dataset it does not know.
_NO_DATASETS = "does not offer datasets"
_NO_DATASETS_HINT = (
    "this API cannot list or describe datasets: ask the user for the dataset's uid, or take the "
    "dataset of one of its slices (list_slices(owner) shows each one's), and pass it as dataset"
)


def _explain(error: AvalaError, tool: str, arguments: Mapping[str, Any]) -> AvalaError:
    """``error`` with a message and a hint that tell a model what to call next."""
    if error.hint is None and isinstance(error, NotFoundError):
        if _NO_DATASETS in error.message:
            error.hint = _NO_DATASETS_HINT
        else:
            error.message, error.hint = _missing(tool, arguments)
    if error.hint is None:
        error.hint = _HINTS.get(error.type)
    return error


def _missing(tool: str, arguments: Mapping[str, Any]) -> tuple[str, str]:
    """What a 404 means for this tool's (already validated) arguments, and what to call next."""
    owner, slug, dataset = (arguments.get(key) for key in ("owner", "slug", "dataset"))
    if owner and slug:
        return (
            f"no slice '{slug}' for owner '{owner}'",
            f"call list_slices(owner='{owner}') to see its slugs",
        )
    if dataset:
        return (f"no dataset '{dataset}'", "call list_datasets to find the dataset's uid")
    if owner:
        return (
            f"no owner '{owner}'",
            "owners are organization slugs or usernames, such as 'acme-ai'; check the spelling",
        )
    return ("not found", "check the arguments against list_datasets and list_slices")


def clip(text: str) -> str:
    """A name from the caller, short and on one line, to quote in a message."""
    return one_line(text, _MAX_NAME_CHARS)
