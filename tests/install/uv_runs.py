"""Running uv from the tests: the machine's settings, a shared cache, and "offline" told apart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Words in uv's error when no package index could be reached.
_OFFLINE_SIGNS = ("failed to fetch", "dns error", "connect", "network", "offline", "timed out")


def uv_tool(name: str) -> Path | None:
    """``uv`` or ``uvx`` of the environment running the tests (the dev extra installs them)."""
    tool = Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin") / name
    return tool if tool.is_file() else None


def uv_environment(home: Path) -> dict[str, str]:
    """The machine's environment (its TLS and index settings) without our variables; uv's cache
    is kept, so a second run downloads nothing."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AVALA_")}
    env.setdefault("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
    env["HOME"] = str(home)
    return env


def run_uv(argv: list[str], home: Path) -> str:
    """Run a uv command and return its stdout; skip the test when no package index answers."""
    done = subprocess.run(
        argv,
        cwd=home,
        env=uv_environment(home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 and _offline(done.stderr):
        pytest.skip(f"uv could not reach a package index: {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _offline(stderr: str) -> bool:
    """Whether uv failed for want of a package index, not because of what it was given."""
    return any(sign in stderr.lower() for sign in _OFFLINE_SIGNS)
