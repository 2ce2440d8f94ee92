"""The typed async client for the Avala Slices API: part one of three.

It imports nothing of MCP and nothing of the embedded API: a program that only wants to read or
build slices can use :class:`AvalaClient` on its own. See ``docs/architecture.md``.
"""

from avala_mcp.client.api import ITER_PAGE_SIZE, AvalaClient
from avala_mcp.client.models import NameValidation, Page, Slice, SliceItem
from avala_mcp.client.transport import MAX_RESPONSE_BYTES

__all__ = [
    "ITER_PAGE_SIZE",
    "MAX_RESPONSE_BYTES",
    "AvalaClient",
    "NameValidation",
    "Page",
    "Slice",
    "SliceItem",
]
