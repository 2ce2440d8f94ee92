"""Process logging: stderr only, quiet by default, secrets redacted.

stdout carries the stdio protocol, so nothing may log there. The MCP SDK calls
``logging.basicConfig(level="INFO")`` when a server is constructed, which would log every HTTP
request; configuring the root logger first turns that call into a no-op.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from avala_mcp.redaction import Redactor

# Per-request lines from the HTTP clients and servers: noise unless someone is debugging.
_NOISY_LOGGERS = (
    "httpx",
    "httpx2",
    "httpcore",
    "uvicorn.access",
    "mcp.server.streamable_http_manager",
)


class RedactingFilter(logging.Filter):
    """Replaces every known secret in a record (message, arguments and traceback) before output.

    Usable from a ``logging.config`` dictionary too (``"()"`` with ``secrets``), as uvicorn's own
    handlers are configured.
    """

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self._redactor = Redactor(secrets)
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._redactor:
            return True
        self._redact_message(record)
        # Render the traceback now: the formatter would otherwise render it after this filter.
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redactor.text(record.stack_info)
        return True

    def _redact_message(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:
            # Handlers do not guard their filters: a malformed call (wrong arguments) becomes
            # readable text here rather than an exception at whatever code made the log call.
            text = f"{record.msg!s} (unformattable log arguments: {record.args!r})"
            record.msg, record.args = self._redactor.text(text), None
            return
        if not self._redactor.found_in(text):
            return
        # Arguments redacted one by one keep their places, for formatters that read them
        # (uvicorn's access lines); whatever still shows a secret is rendered and redacted whole.
        if (
            isinstance(record.args, tuple)
            and all(isinstance(arg, str | int | float) for arg in record.args)
            and not self._redactor.found_in(str(record.msg))
        ):
            record.args = tuple(self._redactor.value(arg) for arg in record.args)
            text = record.getMessage()
            if not self._redactor.found_in(text):
                return
        record.msg, record.args = self._redactor.text(text), None


def configure_logging(level: str, secrets: Iterable[str | None] = ()) -> None:
    """Send all logging to stderr at ``level`` (a validated level name), ``secrets`` redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    noisy_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(noisy_level)
