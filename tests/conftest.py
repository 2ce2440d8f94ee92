"""Fixtures shared by the whole suite.

Async tests use anyio's pytest plugin (``pytestmark = pytest.mark.anyio``): unlike
pytest-asyncio's fixtures, its yield-fixtures may hold an MCP ``Client`` open across a test.

Embedded Slices API (``avala_mcp.embedded``), each on a fresh database with the demo data
(constants in ``avala_mcp.embedded.seed``):

- ``local_api_key``: a valid API key of the demo user ``demo`` (a canary-like string: it must never
  show up in output or logs).
- ``local_db_path``: where the database of ``local_app`` lives (a file under ``tmp_path``).
- ``local_app``: the Starlette app, in-process; use it with ``httpx.ASGITransport(app=local_app)``
  (no lifespan needed). Closed after the test.
- ``local_http``: an ``httpx.AsyncClient`` on ``local_app`` with base URL
  ``http://testserver/api/v1`` and the key header set (async tests only).
- ``local_api_url``: a real uvicorn server on 127.0.0.1 at an ephemeral port, running in a
  background thread; the value is its base URL ``http://127.0.0.1:PORT/api/v1``. Works in sync and
  async tests; stopped after the test.

Secrets (``canaries.py``): every test runs under a watch that sees what the suite's MCP clients
receive (each tool result, resource, prompt, completion and protocol error of every
``mcp.Client``, whatever the transport) and every log record emitted during the test; a canary
in any of it fails the test. ``exposure.see(text, where)`` adds other output, such as a child
process's stderr.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import canaries
import httpx
import pytest
from canaries import Exposure
from hypothesis import settings
from mcp import Client
from starlette.applications import Starlette

from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.runner import serve_in_thread

# The suite draws the same hypothesis examples every run, so CI is reproducible, and has no
# per-example deadline, which is a timing assertion on a shared, noisy machine. The on-demand
# fuzz script (benchmarks/fuzz.py) explores afresh.
settings.register_profile("suite", derandomize=True, deadline=None, database=None)
settings.load_profile("suite")

LOCAL_API_KEY = canaries.API_KEY


_WATCH = Exposure()


@pytest.fixture(scope="session")
def exposure() -> Iterator[Exposure]:
    """The suite-wide watch; every ``mcp.Client`` in this process reports to it."""
    with pytest.MonkeyPatch.context() as patch:
        for name in Exposure.WATCHED:
            patch.setattr(Client, name, _WATCH.watching(name, getattr(Client, name)))
        yield _WATCH


# Under pytest-xdist each worker watches its own share; the workers hand their counts back to
# the controlling process, which reports the sum.
_WORKER_SEEN: list[int] = []


@pytest.hookimpl(tryfirst=True)  # before xdist sends the worker's output home
def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["secret_watch_seen"] = _WATCH.seen


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent without it
def pytest_testnodedown(node: Any, error: object) -> None:
    _WORKER_SEEN.append(int(getattr(node, "workeroutput", {}).get("secret_watch_seen", 0)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How much output the secret watch checked: a figure for the issue's closing note."""
    seen = _WATCH.seen + sum(_WORKER_SEEN)
    if seen:
        terminalreporter.write_line(f"secret watch: {seen} results and log lines checked")


@pytest.fixture(autouse=True)
def _no_canary_escapes(exposure: Exposure) -> Iterator[None]:
    """Fails the test if a canary reached a client or a log line while it ran."""
    root = logging.getLogger()
    # Added per test: a test that reconfigures logging may drop it, and the next gets it back.
    root.addHandler(exposure)
    try:
        yield
    finally:
        root.removeHandler(exposure)
    leaks, exposure.leaks = exposure.leaks, []
    assert not leaks, "a canary secret escaped:\n" + "\n".join(leaks)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def local_api_key() -> str:
    return LOCAL_API_KEY


@pytest.fixture(scope="session")
def _local_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new database with the demo data, built once: copying it is faster than rebuilding."""
    path = tmp_path_factory.mktemp("template") / "slices.sqlite3"
    close_app(create_app(path))  # closing checkpoints the WAL into the main file
    return path


@pytest.fixture
def local_db_path(tmp_path: Path, _local_template_db: Path) -> Path:
    path = tmp_path / "slices.sqlite3"
    shutil.copyfile(_local_template_db, path)
    return path


@pytest.fixture
def local_app(local_db_path: Path, local_api_key: str) -> Iterator[Starlette]:
    app = create_app(local_db_path, api_key=local_api_key)
    yield app
    close_app(app)


@pytest.fixture
async def local_http(local_app: Starlette, local_api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=local_app),
        base_url="http://testserver/api/v1",
        headers={"X-Avala-Api-Key": local_api_key},
    ) as client:
        yield client


@pytest.fixture
def local_api_url(tmp_path: Path, _local_template_db: Path, local_api_key: str) -> Iterator[str]:
    path = tmp_path / "served.sqlite3"
    shutil.copyfile(_local_template_db, path)
    app = create_app(path, api_key=local_api_key)
    try:
        with serve_in_thread(app) as url:
            yield url
    finally:
        close_app(app)
