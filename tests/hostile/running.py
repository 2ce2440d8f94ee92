"""A real ``avala-mcp`` command as a subprocess: started, read until it says where it listens,
and always stopped (SIGINT, then SIGKILL), with all its stderr kept for the test to check."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

WAIT_SECONDS = 60.0


@dataclass
class Running:
    """A started command: the match of its ready line, and its stderr so far."""

    process: subprocess.Popen[bytes]
    ready: re.Match[str]
    stderr: list[str] = field(default_factory=list)

    def rest_of_stderr(self) -> str:
        """All of stderr, once the process has ended."""
        return "".join(self.stderr)


def _read_until(process: subprocess.Popen[bytes], pattern: re.Pattern[str]) -> Running:
    assert process.stderr is not None
    fd, seen = process.stderr.fileno(), ""
    while not (found := pattern.search(seen)):
        ready, _, _ = select.select([fd], [], [], WAIT_SECONDS)
        assert ready, f"no {pattern.pattern!r} from the command: {seen!r}"
        chunk = os.read(fd, 65536).decode(errors="replace")
        assert chunk, f"the command exited: {seen!r}"
        seen += chunk
    return Running(process, found, [seen])


@contextlib.contextmanager
def started(args: list[str], env: Mapping[str, str], ready: str) -> Iterator[Running]:
    """``python -m avala_mcp ARGS`` with ``env`` until its stderr matches ``ready``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "avala_mcp", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=dict(env),
    )  # fmt: skip
    running: Running | None = None
    try:
        running = _read_until(process, re.compile(ready))
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        assert process.stderr is not None
        rest = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        if running is not None:
            running.stderr.append(rest)


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any Avala setting, plus ``extra``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AVALA_")}
    return {**env, **extra}
