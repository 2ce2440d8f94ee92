"""The one redactor behind the client's errors, the server's results and the log handler."""

from __future__ import annotations

from avala_mcp.redaction import REDACTED, Redactor


def test_a_secret_containing_another_is_replaced_whole() -> None:
    redactor = Redactor(["abc", "abcdef", None, ""])
    assert redactor.text("key abcdef, token abc") == f"key {REDACTED}, token {REDACTED}"


def test_json_escaped_forms_are_always_found() -> None:
    secret = 'k"ey\\1'
    escaped = 'k\\"ey\\\\1'  # as the secret shows inside a JSON string
    assert Redactor([secret]).found_in(escaped)
    assert Redactor([secret]).text(f'{{"a":"{escaped}"}}') == f'{{"a":"{REDACTED}"}}'


def test_nested_values_are_redacted_and_other_types_kept() -> None:
    redactor = Redactor(["s3"])
    value = {"a": ["x s3 y", 3, None, {"b": "s3"}], "s3": True}
    # Keys are names the code chose, not data; only values are searched.
    assert redactor.value(value) == {
        "a": [f"x {REDACTED} y", 3, None, {"b": REDACTED}],
        "s3": True,
    }


def test_no_secrets_means_nothing_to_do() -> None:
    redactor = Redactor([None, ""])
    assert not redactor
    assert redactor.text("anything") == "anything"
