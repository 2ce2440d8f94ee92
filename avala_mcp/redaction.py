"""Cutting known secrets (the API key, the bearer token) out of text and JSON-like values.

The client, the server's results and the log handler all use this one redactor, so a secret is
recognised the same way wherever it might surface.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

REDACTED = "[redacted]"

_Value = TypeVar("_Value")


class Redactor:
    """Replaces every known secret with ``REDACTED``."""

    def __init__(self, secrets: Iterable[str | None], *, json_escaped: bool = False) -> None:
        forms = {secret for secret in secrets if secret}
        if json_escaped:
            # Inside a JSON string a secret with quotes or backslashes shows escaped.
            forms |= {json.dumps(secret, ensure_ascii=False)[1:-1] for secret in forms}
        # Longest first, so a secret (or escaped form) that contains another goes whole.
        self._secrets = sorted(forms, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def found_in(self, text: str) -> bool:
        """Whether any secret appears in ``text``."""
        return any(secret in text for secret in self._secrets)

    def text(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

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
