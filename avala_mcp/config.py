"""Settings, where the README has always shown them.

They live in :mod:`avala_mcp.settings`; this module re-exports them.
"""

from avala_mcp.settings import ConfigError, Settings

__all__ = ["ConfigError", "Settings"]
