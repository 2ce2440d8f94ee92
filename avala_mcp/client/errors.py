"""Error types, the mapping from an HTTP response to one, and the tool-failure payload.

Every failure the client raises is an :class:`AvalaError`. Its ``type`` is one of the failure
types of ``docs/contracts.md``, so the server layer turns any of them into the same structured
payload with :func:`failure_payload`. Messages are short, single-line and safe to show a model:
they never hold a response's raw HTML, nor the API key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx

from avala_mcp.client.json_text import NestedTooDeeply, decode
from avala_mcp.contract import (
    ERROR_MAX_FIELD_MESSAGES,
    ERROR_MAX_FIELD_NAME_CHARS,
    ERROR_MAX_FIELDS,
    ERROR_MAX_FIELDS_CHARS,
    ERROR_MAX_MESSAGE_CHARS,
)
from avala_mcp.redaction import Redactor

#: Longest message taken from a response body; a proxy or a bug may send a novel.
MAX_MESSAGE_LENGTH = ERROR_MAX_MESSAGE_CHARS


class AvalaError(Exception):
    """Base of every error the client (and the server layer) reports.

    ``fields`` maps an argument or body field to its problems; ``retry_after`` is in seconds;
    ``hint`` says what to do next and is usually set by the server layer, which knows the tools.
    """

    #: The failure type (see ``docs/contracts.md``).
    type: ClassVar[str] = "server_error"
    #: Whether trying the same call again later may succeed, unless told otherwise.
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.fields = fields
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.hint = hint
        #: The API's machine-readable ``code``, when its body carries one.
        self.code = code

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class InvalidInputError(AvalaError):
    """An argument was refused before any request was sent; ``fields`` names it."""

    type = "invalid_input"

    @classmethod
    def for_fields(cls, fields: dict[str, list[str]]) -> InvalidInputError:
        """The error for these bad arguments, with a one-line message naming each."""
        shown, left_out = bound_fields(fields)
        return cls(describe_fields(shown, left_out), fields=shown)


class ValidationError(AvalaError):
    """The API refused the request body or query (400)."""

    type = "validation"


class AuthenticationError(AvalaError):
    """The API key is missing or invalid (401)."""

    type = "unauthorized"


class PermissionDeniedError(AvalaError):
    """The key's user may not act on this owner, dataset or slice (403)."""

    type = "forbidden"


class NotFoundError(AvalaError):
    """The slice, owner or dataset does not exist (404)."""

    type = "not_found"


class ConflictError(AvalaError):
    """The request clashes with existing state, e.g. a duplicate slice name (409)."""

    type = "conflict"


class RateLimitError(AvalaError):
    """Too many requests (429); ``retry_after`` says when to try again."""

    type = "rate_limited"
    default_retryable = True


class ServerError(AvalaError):
    """The API failed (5xx) or answered something the client cannot use."""

    type = "server_error"


class NetworkError(AvalaError):
    """No usable answer: the connection failed, broke, or timed out."""

    type = "network"
    default_retryable = True


class ReadOnlyError(AvalaError):
    """A write was asked of a server running in read-only mode."""

    type = "read_only"


class ConfirmationRequiredError(AvalaError):
    """A destructive call needs the user's confirmation first."""

    type = "confirmation_required"


_ERROR_BY_STATUS: dict[int, type[AvalaError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    # Too large a body is the caller's to fix (a smaller filter or description), not the API's.
    413: ValidationError,
    422: ValidationError,
    429: RateLimitError,
}

#: Statuses after which the same request may well succeed later.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


def error_from_response(
    response: httpx.Response,
    *,
    now: Callable[[], datetime] | None = None,
    redactor: Redactor | None = None,
) -> AvalaError:
    """The error that an unsuccessful response means, with its body's message and field errors.

    ``now`` is the clock used to turn an HTTP-date ``Retry-After`` into seconds. ``redactor``
    cuts secrets out of the body's texts before they are shortened, so that no part of a
    secret survives at the place where one is cut.
    """
    status = response.status_code
    message, fields, code = _parse_body(response, redactor or Redactor([]))
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
    error_class = _ERROR_BY_STATUS.get(status, ServerError)
    if response.is_redirect:
        # Usually a base URL that is slightly off (http for https, a missing /api/v1).
        message = f"{message} (redirects are not followed; check AVALA_BASE_URL)"
    if error_class is RateLimitError and retry_after is not None:
        message = f"{message} (retry after {_format_seconds(retry_after)})"
    error = error_class(
        message,
        status=status,
        fields=fields,
        retryable=status in RETRYABLE_STATUSES,
        retry_after=retry_after,
        code=code,
    )
    if status == 413:
        error.hint = "the request is too large: send a shorter description or a smaller filter"
    return error


def parse_retry_after(
    value: str | None, *, now: Callable[[], datetime] | None = None
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP-date), or None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; an obsolete form may parse naive.
        when = when.replace(tzinfo=UTC)
    current = now() if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def failure_payload(error: AvalaError) -> dict[str, Any]:
    """The structured tool failure: always all seven keys, None where one does not apply.

    Every part is bounded here, whatever built the error: the message, and the fields by
    :func:`bound_fields`.
    """
    fields, left_out = bound_fields(error.fields) if error.fields else (None, 0)
    message = one_line(error.message, ERROR_MAX_MESSAGE_CHARS - len(_more_fields(left_out)))
    return {
        "error": {
            "type": error.type,
            "status": error.status,
            "message": message + _more_fields(left_out),
            "fields": fields,
            "retryable": error.retryable,
            "retry_after": error.retry_after,
            "hint": error.hint,
        }
    }


def bound_fields(fields: Mapping[str, Any]) -> tuple[dict[str, list[str]], int]:
    """``fields`` (each name's messages, or an error body's nested values) within the bounds of
    a failure payload, and how many fields were left out.

    At most ``ERROR_MAX_FIELDS`` fields, of at most ``ERROR_MAX_FIELDS_CHARS`` characters in
    all; a name of at most ``ERROR_MAX_FIELD_NAME_CHARS`` characters; at most
    ``ERROR_MAX_FIELD_MESSAGES`` messages each (the last saying how many more there were), each
    one line of at most ``ERROR_MAX_MESSAGE_CHARS``. Only what is kept is ever made into text,
    so a body of huge messages costs no huge strings. Bounding bounded fields changes nothing.
    """
    shown: dict[str, list[str]] = {}
    size = 0
    left_out = 0
    for name, value in fields.items():
        if left_out or len(shown) == ERROR_MAX_FIELDS:
            left_out += _has_messages(value)
            continue
        label = one_line(str(name), ERROR_MAX_FIELD_NAME_CHARS)
        messages = _bounded_messages(value)
        cost = len(label) + sum(len(message) for message in messages)
        if not messages:
            continue
        if shown and size + cost > ERROR_MAX_FIELDS_CHARS:
            left_out += 1
            continue
        shown.setdefault(label, []).extend(messages)
        size += cost
    return shown, left_out


def _bounded_messages(value: Any) -> list[str]:
    """The first messages in ``value``, the last of them saying how many more there were."""
    messages: list[str] = []
    more = 0
    for path, leaf in _leaves(value, ()):
        if len(messages) < ERROR_MAX_FIELD_MESSAGES:
            messages.append(_message(path, leaf))
        else:
            more += 1
    if more:
        # The last one kept makes room for the count, so the list stays within its bound.
        more += 1
        messages[-1] = f"(and {more} more)"
    return messages


def _message(path: tuple[Any, ...], leaf: Any) -> str:
    """One message: the path of keys to it (nested serializer errors) and its text, one line."""
    text = one_line(leaf if isinstance(leaf, str) else str(leaf), ERROR_MAX_MESSAGE_CHARS)
    if not path:
        return text
    keys = [one_line(str(key), ERROR_MAX_FIELD_NAME_CHARS) for key in path]
    return one_line(": ".join([*keys, text]), ERROR_MAX_MESSAGE_CHARS)


def _leaves(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, Any]]:
    """Each message in a field's value (a string, a list, nested errors), with the keys that
    lead to it; nothing is made into text here. Recursion is bounded by the body's depth."""
    if isinstance(value, str):
        if value and not value.isspace():
            yield path, value
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, path)
    elif isinstance(value, Mapping):
        # Nested serializer errors, e.g. {"filter": {"and": ["..."]}}: keep the path.
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif value is not None:
        yield path, value


def _has_messages(value: Any) -> bool:
    return next(_leaves(value, ()), None) is not None


def _more_fields(left_out: int) -> str:
    return f" (and {left_out} more fields)" if left_out else ""


def _parse_body(
    response: httpx.Response, redactor: Redactor
) -> tuple[str, dict[str, list[str]] | None, str | None]:
    """The message, field errors and code of an error body, in any shape the API uses."""
    fallback = _status_line(response)
    try:
        body: Any = decode(response.content)
    except NestedTooDeeply as deep:
        return f"{fallback} (a malformed error body, {deep})", None, None
    except (ValueError, UnicodeDecodeError):
        # Not JSON (an HTML page from a proxy, plain text...): say so, never repeat it.
        return (fallback if not response.content else f"{fallback} (non-JSON response)"), None, None
    if redactor:
        # Before anything is shortened: a secret cut in two would no longer be recognised.
        body = redactor.value(body)

    if isinstance(body, str) and body.strip():
        return one_line(body), None, None
    if isinstance(body, list):
        messages = _bounded_messages(body)
        return (one_line("; ".join(messages)) if messages else fallback), None, None
    if not isinstance(body, Mapping):
        return fallback, None, None

    code = body.get("code") if isinstance(body.get("code"), str) else None
    detail = body.get("detail")
    if isinstance(detail, str) and detail.strip():
        return one_line(detail), None, code
    source = detail if isinstance(detail, Mapping) else body
    fields, left_out = bound_fields(
        {name: value for name, value in source.items() if name not in ("code", "detail")}
    )
    if not fields:
        return fallback, None, code
    return describe_fields(fields, left_out), fields, code


def describe_fields(fields: Mapping[str, list[str]], left_out: int = 0) -> str:
    """One line naming each bad field or argument, e.g. ``invalid name: must be set``, and how
    many more fields there were (``left_out``), within ``ERROR_MAX_MESSAGE_CHARS``."""
    parts = []
    for name, messages in fields.items():
        label = "request" if name == "non_field_errors" else name
        parts.append(f"invalid {label}: {' '.join(messages)}")
    more = _more_fields(left_out)
    return one_line("; ".join(parts), ERROR_MAX_MESSAGE_CHARS - len(more)) + more


def _status_line(response: httpx.Response) -> str:
    reason = response.reason_phrase or "error"
    return f"the API answered {response.status_code} {reason}"


_WORD = re.compile(r"\S+")


def one_line(text: str, limit: int = MAX_MESSAGE_LENGTH) -> str:
    """``text`` as a single line of at most ``limit`` characters, fit for a message.

    Only the words that can show are read, and no more of each than can: shortening a
    message of megabytes costs no copy of it.
    """
    words: list[str] = []
    size = -1
    for word in _WORD.finditer(text):
        start, end = word.span()
        words.append(text[start : min(end, start + limit + 1)])
        size += 1 + len(words[-1])
        if size > limit:
            break
    line = " ".join(words)
    if len(line) <= limit:
        return line
    return line[: limit - 1].rstrip() + "…"


def printable(text: str, limit: int = MAX_MESSAGE_LENGTH) -> str:
    """``text`` (at most ``limit`` of its characters) safe to show in a message.

    Each character that is not plainly printable (a control, a format character such as the
    bidi override U+202E or a zero-width one, a line or paragraph separator, any space but
    ' ') shows as ``<U+XXXX>``, so it can neither hide nor reorder the text around it.
    """
    shown = "".join(c if c.isprintable() else f"<U+{ord(c):04X}>" for c in text[:limit])
    return shown + "…" * (len(text) > limit)


def quoted(text: str, limit: int = 64) -> str:
    """``text`` from a user, in single quotes for a message, shown as :func:`printable` does.

    A quote or backslash in it is escaped, so that it cannot close the quotes and pass its
    own words off as the message's (a fake target or item count in a question).
    """
    escaped = text[:limit].replace("\\", "\\\\").replace("'", "\\'")
    return f"'{printable(escaped, 2 * limit)}{'…' * (len(text) > limit)}'"


def _format_seconds(seconds: float) -> str:
    return f"{seconds:g} s"
