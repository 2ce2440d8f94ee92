"""What the HTTP contract fixes, shared by the client, the MCP server and the embedded API.

Name patterns, length and size bounds, the API key header and the default base URL: the client
checks arguments against them before sending, the tools advertise them in their schemas, and the
embedded API enforces them, so all three accept and refuse the same things. See
``docs/contracts.md``.
"""

from __future__ import annotations

import re
import unicodedata

#: Where Avala's cloud API lives; ``AVALA_BASE_URL`` overrides it.
DEFAULT_BASE_URL = "https://api.avala.ai/api/v1"
#: The header that carries the API key.
API_KEY_HEADER = "X-Avala-Api-Key"
#: The largest page the client asks for.
MAX_LIMIT = 1000

#: An owner (organization or user) or a slice slug: the shape the client and the tools accept.
#: The ``^...$`` form is for pydantic's ``pattern=``; Python code should use :data:`SEGMENT_RE`,
#: because Python's ``$`` also matches before a trailing newline.
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
SEGMENT_PATTERN = f"^{_SEGMENT}$"
SEGMENT_RE = re.compile(rf"{_SEGMENT}\Z")

#: A dataset uid: a canonical, hyphenated UUID.
_UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
UUID_PATTERN = f"^{_UUID}$"
UUID_RE = re.compile(rf"{_UUID}\Z")

#: Path segments that would route to another endpoint (``/slices/dataset/{uid}/`` and
#: ``/slices/{owner}/list/``), so no owner, or slug, can be named so.
RESERVED_SEGMENTS = {"owner": "dataset", "slug": "list"}

#: Length bounds of a slice name (seed: 1-255 characters).
NAME_MIN_LENGTH = 1
NAME_MAX_LENGTH = 255
#: Unicode categories no name may hold: controls (Cc), format characters (Cf: bidi overrides
#: such as U+202E, zero-width ones), line and paragraph separators (Zl, Zp), which can make two
#: names look alike or rewrite the text around a name on screen, and lone surrogates (Cs), which
#: are not text. Private-use (Co) and unassigned (Cn) characters show as a visible glyph or box
#: and move nothing, and refusing Cn would tie validity to the Unicode version: both allowed.
NAME_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def name_problem(name: str) -> str | None:
    """What is wrong with the characters of ``name`` (as ``U+XXXX``, never raw), None if nothing."""
    refused = sorted({c for c in name if unicodedata.category(c) in NAME_REFUSED_CATEGORIES})
    if not refused:
        return None
    shown = ", ".join(f"U+{ord(c):04X}" for c in refused[:5]) + ", ..." * (len(refused) > 5)
    return f"may not contain control, format or separator characters (found {shown})"


# Bounds of a slice filter (docs/contracts.md, the filter language): the parser in
# avala_mcp.filters enforces them for the tools and the embedded API alike.
FILTER_MAX_DEPTH = 8
FILTER_MAX_CONDITIONS = 64
#: ``contains`` searches lists (SQLite's json_each), many times the cost of any other test.
FILTER_MAX_CONTAINS = 8
FILTER_MAX_VALUE_BYTES = 1024
#: A condition's field path, in characters (the tools' schema advertises it as maxLength).
FILTER_MAX_PATH_LENGTH = 200
#: The whole filter as compact UTF-8 JSON: small enough that a page of slices stays small and
#: the costliest filter stays fast (``benchmarks/worst_filter.py``).
FILTER_MAX_BYTES = 16 * 1024

# The dataset endpoints and the embedded API's profile extension (``docs/contracts.md``).
DATASET_DEFAULT_LIMIT = 20
PROFILE_MAX_FIELDS = 100
PROFILE_DEFAULT_TOP = 10
PROFILE_MAX_TOP = 50

# What the client reads of an answer and repeats of an error body (docs/contracts.md, "Failures"):
# an answer nested deeper is malformed; a failure payload's fields are cut to these bounds, so a
# hostile or broken API cannot make a tool result large.
ANSWER_MAX_DEPTH = 64
ERROR_MAX_MESSAGE_CHARS = 300
ERROR_MAX_FIELDS = 50
ERROR_MAX_FIELD_NAME_CHARS = 100
ERROR_MAX_FIELD_MESSAGES = 5
ERROR_MAX_FIELDS_CHARS = 8000
