"""Error mapping (every error body shape), Retry-After, the failure payload, and models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from seed_examples import SEED_SLICE

from avala_mcp.client.errors import (
    MAX_MESSAGE_LENGTH,
    AuthenticationError,
    AvalaError,
    ConfirmationRequiredError,
    ConflictError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReadOnlyError,
    ServerError,
    ValidationError,
    error_from_response,
    failure_payload,
    parse_retry_after,
)
from avala_mcp.client.models import NameValidation, Page, Slice, SliceItem
from avala_mcp.contract import (
    ANSWER_MAX_DEPTH,
    ERROR_MAX_FIELD_MESSAGES,
    ERROR_MAX_FIELD_NAME_CHARS,
    ERROR_MAX_FIELDS,
    ERROR_MAX_FIELDS_CHARS,
    SEGMENT_RE,
    UUID_RE,
)
from avala_mcp.redaction import Redactor

NOW = datetime(2026, 11, 30, 14, 0, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@pytest.mark.parametrize(
    ("status", "error_class", "error_type", "retryable"),
    [
        (400, ValidationError, "validation", False),
        (401, AuthenticationError, "unauthorized", False),
        (403, PermissionDeniedError, "forbidden", False),
        (404, NotFoundError, "not_found", False),
        (405, ServerError, "server_error", False),
        (409, ConflictError, "conflict", False),
        (413, ValidationError, "validation", False),
        (422, ValidationError, "validation", False),
        (429, RateLimitError, "rate_limited", True),
        (500, ServerError, "server_error", False),
        (502, ServerError, "server_error", True),
        (503, ServerError, "server_error", True),
        (504, ServerError, "server_error", True),
        (302, ServerError, "server_error", False),
    ],
)
def test_each_status_maps_to_its_error(
    status: int, error_class: type[AvalaError], error_type: str, retryable: bool
) -> None:
    error = error_from_response(httpx.Response(status, json={"detail": "Nope."}))
    assert type(error) is error_class
    assert error.type == error_type
    assert error.status == status
    assert error.message.startswith("Nope.")
    assert error.retryable is retryable


def test_too_large_a_request_says_what_to_shrink() -> None:
    error = error_from_response(httpx.Response(413, json={"detail": "Too large."}))
    assert error.type == "validation"
    assert error.hint is not None
    assert "smaller filter" in error.hint


def test_a_redirect_says_to_check_the_base_url() -> None:
    response = httpx.Response(301, headers={"Location": "https://api.avala.ai/api/v1/x/"})
    assert error_from_response(response).message == (
        "the API answered 301 Moved Permanently (redirects are not followed; check AVALA_BASE_URL)"
    )


def test_detail_string_with_code() -> None:
    response = httpx.Response(404, json={"detail": "Not found.", "code": "slice_not_found"})
    error = error_from_response(response)
    assert (error.message, error.code, error.fields) == ("Not found.", "slice_not_found", None)


def test_field_errors_at_top_level() -> None:
    body = {"name": ["This field is required."], "dataset": ["This field is required."]}
    error = error_from_response(httpx.Response(400, json=body))
    assert error.fields == body
    assert error.message == (
        "invalid name: This field is required.; invalid dataset: This field is required."
    )


def test_field_errors_under_detail_and_nested_paths() -> None:
    body = {"detail": {"filter": {"and": ["unknown operator 'like' at and[0]"]}, "name": "bad"}}
    error = error_from_response(httpx.Response(400, json=body))
    assert error.fields == {"filter": ["and: unknown operator 'like' at and[0]"], "name": ["bad"]}
    assert error.message.startswith("invalid filter: and: unknown operator")


def test_non_field_errors_and_list_bodies() -> None:
    error = error_from_response(httpx.Response(400, json={"non_field_errors": ["Clash."]}))
    assert error.message == "invalid request: Clash."
    assert error.fields == {"non_field_errors": ["Clash."]}
    listed = error_from_response(httpx.Response(400, json=["First.", "Second."]))
    assert listed.message == "First.; Second."


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><head><title>502</title></head><body><h1>Bad Gateway</h1></body></html>", "html"),
        (b"upstream connect error or disconnect/reset before headers", "text/plain"),
        (b"\xff\xfe\x00garbage", "application/octet-stream"),
    ],
)
def test_non_json_body_gives_a_short_clean_message(body: bytes, content_type: str) -> None:
    response = httpx.Response(502, content=body, headers={"Content-Type": content_type})
    error = error_from_response(response)
    assert error.message == "the API answered 502 Bad Gateway (non-JSON response)"
    assert "<" not in str(error)
    assert error.retryable is True


def test_empty_and_shapeless_bodies_fall_back_to_the_status() -> None:
    assert error_from_response(httpx.Response(503)).message == (
        "the API answered 503 Service Unavailable"
    )
    assert error_from_response(httpx.Response(500, json={})).message == (
        "the API answered 500 Internal Server Error"
    )
    assert error_from_response(httpx.Response(500, json=42)).message == (
        "the API answered 500 Internal Server Error"
    )


def test_a_long_or_multiline_detail_is_one_clipped_line() -> None:
    error = error_from_response(httpx.Response(500, json={"detail": "trace\n" * 500}))
    assert len(error.message) == MAX_MESSAGE_LENGTH
    assert "\n" not in error.message
    assert error.message.endswith("…")


def assert_bounded(payload: dict[str, Any]) -> None:
    """Every part of a failure payload within its bound (docs/contracts.md, "Failures")."""
    error = payload["error"]
    assert len(error["message"]) <= MAX_MESSAGE_LENGTH
    fields = error["fields"] or {}
    assert len(fields) <= ERROR_MAX_FIELDS
    assert sum(len(name) + sum(map(len, messages)) for name, messages in fields.items()) <= (
        ERROR_MAX_FIELDS_CHARS
    )
    for name, messages in fields.items():
        assert len(name) <= ERROR_MAX_FIELD_NAME_CHARS
        assert 1 <= len(messages) <= ERROR_MAX_FIELD_MESSAGES
        assert all(len(message) <= MAX_MESSAGE_LENGTH for message in messages)
        assert all("\n" not in message for message in messages)


HUGE = 5 * 2**20


@pytest.mark.parametrize(
    "body",
    [
        # The reported case: an upstream 400 with 5 MB field messages gave a 15 MB tool result.
        {f"field_{n}": ["x" * HUGE] for n in range(3)},
        {"detail": {"filter": {"and": ["y" * HUGE]}}, "name": ["n " * (HUGE // 2)]},
        {"k" * HUGE: ["a name of megabytes"]},
        {f"f{n}": [f"bad {n}"] for n in range(100_000)},
        {"name": [f"reason {n}" for n in range(100_000)]},
        {f"f{n}": ["m" * 290] * 5 for n in range(40)},  # each field small, all together large
        [f"a list body's message {n} " * 100 for n in range(1000)],
    ],
    ids=["5MB-messages", "nested-5MB", "5MB-name", "many-fields", "many-messages", "wide", "list"],
)
def test_every_part_of_an_error_body_is_bounded(body: Any) -> None:
    response = httpx.Response(400, content=json.dumps(body).encode())
    error = error_from_response(response)
    payload = failure_payload(error)
    assert_bounded(payload)
    assert len(json.dumps(payload)) < 2 * ERROR_MAX_FIELDS_CHARS
    # Bounding is stable: the payload of a bounded error is the same.
    assert failure_payload(error) == payload
    assert payload["error"]["type"] == "validation"


def test_what_is_left_out_is_counted() -> None:
    many_fields = {f"f{n}": ["bad"] for n in range(ERROR_MAX_FIELDS + 12)}
    error = error_from_response(httpx.Response(400, json=many_fields))
    assert list(error.fields or {}) == [f"f{n}" for n in range(ERROR_MAX_FIELDS)]
    assert error.message.endswith("(and 12 more fields)")
    many_messages = {"name": [f"reason {n}" for n in range(100)]}
    error = error_from_response(httpx.Response(400, json=many_messages))
    kept = ERROR_MAX_FIELD_MESSAGES - 1
    assert error.fields == {
        "name": [f"reason {n}" for n in range(kept)] + [f"(and {100 - kept} more)"]
    }


def test_the_failure_payload_bounds_fields_from_anywhere() -> None:
    """Not only an API's error body: any error the payload is made of."""
    error = InvalidInputError.for_fields({f"arg{n}": ["z" * 10_000] for n in range(200)})
    assert_bounded(failure_payload(error))
    raw = ServerError("x" * 100_000, fields={"a" * 1000: ["b" * 100_000] * 100})
    payload = failure_payload(raw)
    assert_bounded(payload)
    assert payload["error"]["fields"] == {
        "a" * (ERROR_MAX_FIELD_NAME_CHARS - 1) + "…": ["b" * (MAX_MESSAGE_LENGTH - 1) + "…"]
        * (ERROR_MAX_FIELD_MESSAGES - 1)
        + [f"(and {100 - ERROR_MAX_FIELD_MESSAGES + 1} more)"]
    }


def test_a_secret_is_redacted_before_a_message_is_cut() -> None:
    """Cut first, a secret across the cut would survive in part, no longer recognisable."""
    secret = "sk-live-0123456789abcdef"
    for pad in range(MAX_MESSAGE_LENGTH - 30, MAX_MESSAGE_LENGTH + 5):
        body = {"name": ["x" * pad + secret], "detail_text": "y" * pad + secret}
        response = httpx.Response(400, json=body)
        error = error_from_response(response, redactor=Redactor([secret]))
        said = json.dumps(failure_payload(error))
        assert secret[:6] not in said, pad
        detail = httpx.Response(401, json={"detail": "z" * pad + " " + secret})
        assert secret[:6] not in error_from_response(detail, redactor=Redactor([secret])).message


@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize("depth", [ANSWER_MAX_DEPTH + 1, 900, 100_000])
def test_a_deeply_nested_error_body_is_described_not_raised(status: int, depth: int) -> None:
    body = b'{"name": ' + b"[" * depth + b'"deep"' + b"]" * depth + b"}"
    error = error_from_response(httpx.Response(status, content=body))
    assert "malformed error body, nested deeper than 64 levels" in error.message
    assert error.fields is None
    assert error.status == status


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        ("Mon, 30 Nov 2026 14:00:12 GMT", 12.0),
        ("Mon, 30 Nov 2026 13:00:00 GMT", 0.0),  # in the past: go now
        ("-5", None),
        ("soon", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_in_seconds_or_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=clock) == seconds


def test_rate_limit_error_carries_retry_after() -> None:
    response = httpx.Response(
        429,
        json={"detail": "Request was throttled."},
        headers={"Retry-After": "Mon, 30 Nov 2026 14:00:30 GMT"},
    )
    error = error_from_response(response, now=clock)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 30.0
    assert error.message == "Request was throttled. (retry after 30 s)"


ALL_ERRORS: list[tuple[type[AvalaError], str]] = [
    (InvalidInputError, "invalid_input"),
    (ValidationError, "validation"),
    (AuthenticationError, "unauthorized"),
    (PermissionDeniedError, "forbidden"),
    (NotFoundError, "not_found"),
    (ConflictError, "conflict"),
    (RateLimitError, "rate_limited"),
    (ServerError, "server_error"),
    (NetworkError, "network"),
    (ReadOnlyError, "read_only"),
    (ConfirmationRequiredError, "confirmation_required"),
]


@pytest.mark.parametrize(("error_class", "error_type"), ALL_ERRORS)
def test_failure_payload_always_has_all_seven_keys(
    error_class: type[AvalaError], error_type: str
) -> None:
    payload = failure_payload(error_class("Something went wrong."))
    assert payload == {
        "error": {
            "type": error_type,
            "status": None,
            "message": "Something went wrong.",
            "fields": None,
            "retryable": error_class in (RateLimitError, NetworkError),
            "retry_after": None,
            "hint": None,
        }
    }
    assert json.loads(json.dumps(payload)) == payload


def test_failure_payload_carries_everything_set() -> None:
    error = error_from_response(
        httpx.Response(429, json={"detail": "Slow down."}, headers={"Retry-After": "3"})
    )
    error.hint = "wait 3 s, then call list_slices again"
    assert failure_payload(error)["error"] == {
        "type": "rate_limited",
        "status": 429,
        "message": "Slow down. (retry after 3 s)",
        "fields": None,
        "retryable": True,
        "retry_after": 3.0,
        "hint": "wait 3 s, then call list_slices again",
    }


def test_invalid_input_names_each_argument() -> None:
    error = InvalidInputError.for_fields({"owner": ["bad"], "limit": ["too big"]})
    assert error.fields == {"owner": ["bad"], "limit": ["too big"]}
    assert str(error) == "invalid owner: bad; invalid limit: too big"
    assert (
        repr(error)
        == "InvalidInputError(status=None, message='invalid owner: bad; invalid limit: too big')"
    )


def test_slice_keeps_unknown_fields_and_round_trips_to_json() -> None:
    wire = {**SEED_SLICE, "owner_name": "acme-ai", "visibility": "private", "sub_slices": []}
    parsed = Slice.model_validate(wire)
    assert parsed.created_at == datetime(2025, 3, 15, 8, 30, tzinfo=UTC)
    dumped = parsed.model_dump(mode="json", exclude_none=True)
    assert dumped == wire
    assert Slice.model_validate_json(parsed.model_dump_json()) == parsed


@pytest.mark.parametrize("description", [None, ""])
def test_slice_tolerates_empty_description_and_missing_optionals(description: str | None) -> None:
    parsed = Slice.model_validate(
        {"uid": "u", "name": "n", "slug": "s", "description": description}
    )
    assert parsed.description == description
    assert (parsed.item_count, parsed.owner, parsed.dataset, parsed.filter) == (0, None, None, None)


def test_slice_item_tolerates_missing_optionals_and_keeps_extras() -> None:
    item = SliceItem.model_validate({"uid": "i-1", "annotations": 3})
    assert (item.key, item.url, item.metadata, item.created_at) == (None, None, {}, None)
    assert item.model_dump()["annotations"] == 3


def test_page_and_name_validation_serialise() -> None:
    page = Page[SliceItem](count=1, results=[SliceItem(uid="i-1", metadata={"weather": "rain"})])
    dumped = json.loads(page.model_dump_json())
    assert dumped["count"] == 1
    assert dumped["next_cursor"] is None
    assert dumped["results"][0]["metadata"] == {"weather": "rain"}
    verdict = NameValidation.model_validate({"name": "A", "slug": "a", "valid": True})
    assert (verdict.valid, verdict.slug, verdict.reasons) == (True, "a", [])


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("acme-ai", True),
        ("night.driving_scenes-2", True),
        ("A" * 100, True),
        ("A" * 101, False),
        ("", False),
        ("..", False),
        ("-x", False),
        ("a/b", False),
        ("acme\n", False),
        ("café", False),
    ],
)
def test_segment_pattern(value: str, ok: bool) -> None:
    assert bool(SEGMENT_RE.match(value)) is ok


def test_uuid_pattern() -> None:
    assert UUID_RE.match("550e8400-e29b-41d4-a716-446655440000")
    assert not UUID_RE.match("550e8400e29b41d4a716446655440000")
    assert not UUID_RE.match("550e8400-e29b-41d4-a716-446655440000\n")
