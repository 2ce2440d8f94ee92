"""Cutting known secrets (the API key, the bearer token) out of text and JSON-like values.

The client, the server's results and the log handler all use this one redactor, so a secret is
recognised the same way wherever it might surface: as itself, and in every escaped form it takes
on the way out (inside a JSON string, in a Python ``repr``, percent-encoded in a URL in any way),
up to two escapings deep (a JSON document quoted inside another, a URL inside a JSON string).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast
from urllib.parse import quote, quote_plus, unquote_plus

REDACTED = "[redacted]"

_Value = TypeVar("_Value")

#: How a secret can show up escaped in text that leaves the process.
_ESCAPES: tuple[Callable[[str], str], ...] = (
    lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    lambda s: json.dumps(s)[1:-1],
    lambda s: repr(s)[1:-1],
    lambda s: s.replace("\\", "\\\\").replace("'", "\\'"),  # repr's quotes, either choice
    lambda s: s.replace("\\", "\\\\").replace('"', '\\"'),
    lambda s: quote(s, safe=""),
    lambda s: quote(s),  # a path keeps its "/"
    quote_plus,
)
_ESCAPE_DEPTH = 2


# A word (up to whitespace or a quote) holding a percent escape: a URL, or a part of one.
_ENCODED_TOKEN = re.compile(r"[^\s\"'<>]*%[0-9A-Fa-f]{2}[^\s\"'<>]*")


def _decodings(token: str) -> list[str]:
    """``token`` percent-decoded once, twice, ... as deep as escapes are followed (none if it
    holds no escape). Decoding is local to each escape, so decoding a whole text shows every
    secret that decoding its words one by one would."""
    decodings: list[str] = []
    if "%" not in token:
        return decodings
    for _ in range(_ESCAPE_DEPTH):
        token = unquote_plus(token)
        decodings.append(token)
    return decodings


def escaped_forms(secret: str) -> set[str]:
    """``secret`` and every form it takes once escaped (at most twice) on its way out."""
    forms = {secret}
    latest = forms
    for _ in range(_ESCAPE_DEPTH):
        latest = {escape(form) for form in latest for escape in _ESCAPES} - forms
        forms |= latest
    return forms


class Redactor:
    """Replaces every known secret, in every escaped form, with ``REDACTED``."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        forms = {form for secret in secrets if secret for form in escaped_forms(secret)}
        # Longest first, so a secret (or escaped form) that contains another goes whole.
        self._secrets = sorted(forms, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def found_in(self, text: str) -> bool:
        """Whether any secret appears in ``text``, percent-encoded in any way or not."""
        return self._found(text) or self._found_encoded(text)

    def text(self, text: str) -> str:
        """``text`` with every secret replaced.

        A URL may percent-encode any character of a secret, in either case of hex digits (a
        caller's query string reaches an access line as sent), more ways than can be listed:
        each word holding a percent escape is decoded, and if it hides a secret, it is shown
        decoded with the secret replaced.
        """
        text = self._replaced(text)
        if not self._found_encoded(text):
            return text
        return _ENCODED_TOKEN.sub(self._replaced_token, text)

    def _found(self, text: str) -> bool:
        return any(secret in text for secret in self._secrets)

    def _found_encoded(self, text: str) -> bool:
        return any(self._found(decoded) for decoded in _decodings(text))

    def _replaced(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _replaced_token(self, match: re.Match[str]) -> str:
        # The shallowest decoding that shows a secret: decoding further could mangle it (a
        # secret holding "%2F" or "+" is no longer itself once decoded again).
        for decoded in _decodings(match[0]):
            if self._found(decoded):
                return self._replaced(decoded)
        return match[0]

    def value(self, value: _Value) -> _Value:
        """``value`` (strings, mappings and lists, nested) with every secret replaced."""
        redacted: Any = value
        if isinstance(value, str):
            redacted = self.text(value)
        elif isinstance(value, Mapping):
            redacted = {key: self.value(item) for key, item in value.items()}
        elif isinstance(value, list):
            redacted = [self.value(item) for item in value]
        return cast(_Value, redacted)
