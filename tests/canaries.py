"""The suite's canary secrets, in one place, and the watch that looks for them.

Tests that need an API key or a bearer token use these, so the suite-wide watch in
``tests/conftest.py`` knows what must never reach a client or a log line. A test that hands a
secret to something on purpose (the log redactor, a mock API echoing a key back) keeps its own
value, because there the secret appearing is the input, not a leak.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mcp import Client, MCPError

API_KEY = "avk-canary-7f3a9c1e5b2d4086-do-not-log"
BEARER_TOKEN = "bearer-canary-0b5e2d71-never-show"

ALL = (API_KEY, BEARER_TOKEN)


class Exposure(logging.Handler):
    """What reached a client or a log: each text is checked for the canaries as it arrives.

    Only the leaks are kept (the rest is counted), so the watch costs no memory on a long run.
    """

    #: The client methods whose answers (or protocol errors) reach a model.
    WATCHED = ("call_tool", "read_resource", "get_prompt", "complete")

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.seen = 0
        self.leaks: list[str] = []

    def see(self, text: str, where: str) -> None:
        self.seen += 1
        for canary in ALL:
            if canary in text:
                at = text.index(canary)
                self.leaks.append(f"{where}: ...{text[max(0, at - 80) : at + 80]}...")

    def emit(self, record: logging.LogRecord) -> None:
        # The formatted line, traceback included: what a log file would hold.
        self.see(logging.Formatter().format(record), f"log {record.name}")

    def watching(self, name: str, method: Callable[..., Awaitable[Any]]) -> Any:
        @functools.wraps(method)
        async def watched(client: Client, *args: Any, **kwargs: Any) -> Any:
            try:
                answer = await method(client, *args, **kwargs)
            except MCPError as error:
                self.see(f"{error} {error.error.model_dump_json()}", f"{name} error")
                raise
            self.see(answer.model_dump_json(), name)
            return answer

        return watched
