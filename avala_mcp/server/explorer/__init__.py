"""The explorer: an MCP App (``io.modelcontextprotocol/ui``) over the item and profile tools.

One self-contained HTML document, ``explorer.html`` next to this module, served as the resource
:data:`URI`; hosts that render MCP Apps show it next to the results of the tools in
:data:`BOUND`. This set is the one place that says which tools the explorer displays:
:func:`avala_mcp.server.tools.bind_tools` stamps ``_meta.ui.resourceUri`` on exactly these.
The tools themselves do not branch on the client: one that does not advertise the extension gets
the same text and structured results, and may ignore the ``_meta`` (SEP-2133).
"""

from __future__ import annotations

from pathlib import Path

from mcp.server.apps import Apps

URI = "ui://avala/explorer"

# The tools whose results the explorer renders: items (with their images) and field profiles.
BOUND = frozenset(
    {"list_slice_items", "show_items", "preview_slice", "describe_dataset", "describe_slice"}
)


def html() -> str:
    """The explorer's HTML document (package data, read once at registration)."""
    # A plain file next to this module (importlib.resources would add its import to start-up).
    return Path(__file__).with_name("explorer.html").read_text(encoding="utf-8")


def extension() -> Apps:
    """The Apps extension with the explorer's resource registered; bind its tools to it."""
    apps = Apps()
    apps.add_html_resource(
        URI,
        html(),
        name="explorer",
        title="Avala explorer",
        description=(
            "Browse a slice's or a filter's items as thumbnails with their metadata, the field "
            "profile as bar charts, and save a selection as a slice."
        ),
        prefers_border=True,
    )
    return apps


__all__ = ["BOUND", "URI", "extension", "html"]
