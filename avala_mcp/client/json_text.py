"""Decoding the API's JSON bodies, answers and error bodies alike, with a bound on nesting.

A body nested past Python's recursion limit would raise a bare ``RecursionError`` in the
decoder; one nested just under it would decode, then break whatever walks it next (validation,
redaction, the tool result's serialization). So a body nested deeper than
:data:`~avala_mcp.contract.ANSWER_MAX_DEPTH` levels is refused here, once, for every reader.
"""

from __future__ import annotations

import json
from typing import Any

from avala_mcp.contract import ANSWER_MAX_DEPTH


class NestedTooDeeply(ValueError):
    """The body's arrays or objects nest deeper than ``ANSWER_MAX_DEPTH`` levels."""


def decode(content: bytes) -> Any:
    """``content`` as JSON; ``ValueError`` (or ``UnicodeDecodeError``) when it is not JSON,
    :class:`NestedTooDeeply` when it nests too deeply."""
    try:
        value = json.loads(content)
    except RecursionError:
        raise NestedTooDeeply(f"nested deeper than {ANSWER_MAX_DEPTH} levels") from None
    if _deeper_than(value, ANSWER_MAX_DEPTH):
        raise NestedTooDeeply(f"nested deeper than {ANSWER_MAX_DEPTH} levels")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels in ``value`` (an object of
    scalars is one level). Iterative: the decoder may have gone almost as deep as the stack."""
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
