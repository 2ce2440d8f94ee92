"""Strict JSON decoding: ``NaN`` and ``Infinity``, which Python accepts by default, are refused."""

from __future__ import annotations

import json
from typing import Any


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


# Built once: json.loads with options would build a new decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def loads(text: str | bytes) -> Any:
    """Decode JSON text (bytes are read as UTF-8); ValueError when it is not strict JSON or
    is nested too deeply to decode."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        return _DECODER.decode(text)
    except RecursionError:
        # Arrays or objects nested past Python's recursion limit: bad input, not a crash.
        raise ValueError("nested too deeply") from None
