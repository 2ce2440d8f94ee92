"""The typed async client for the Avala Slices API: part one of three.

It imports nothing of MCP and nothing of the embedded API: a program that only wants to read or
build slices can use :class:`AvalaClient` on its own. See ``docs/architecture.md``.
"""

from avala_mcp.client.api import ITER_PAGE_SIZE, PREVIEW_MAX_ITEMS, AvalaClient
from avala_mcp.client.models import (
    Dataset,
    FieldProfile,
    NameValidation,
    Page,
    Profile,
    Slice,
    SliceItem,
    ValueCount,
)
from avala_mcp.client.transport import MAX_RESPONSE_BYTES

__all__ = [
    "ITER_PAGE_SIZE",
    "MAX_RESPONSE_BYTES",
    "PREVIEW_MAX_ITEMS",
    "AvalaClient",
    "Dataset",
    "FieldProfile",
    "NameValidation",
    "Page",
    "Profile",
    "Slice",
    "SliceItem",
    "ValueCount",
]
