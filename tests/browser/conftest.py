"""The explorer in a real browser: Debian's chromium driven by Python playwright, a host page
bundling the real ``AppBridge`` (npm ``@modelcontextprotocol/ext-apps``, pinned by
``package-lock.json`` here) and a real MCP client on the real server.

Set up by ``.ci/run`` (apt ``chromium``, ``npm ci`` here). Where chromium, node or the npm
packages are missing the tests skip, saying which, so the README's test command passes anyway.
Playwright's own browser download is never used.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
ESBUILD = HERE / "node_modules" / ".bin" / "esbuild"
BRIDGE = HERE / "node_modules" / "@modelcontextprotocol" / "ext-apps"
# Flags that work in a container without a display, GPU or network (and without a sandbox,
# which needs privileges a CI container lacks).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def host_page() -> str:
    """The host page's HTML: the bundled bridge inline, so the page loads nothing."""
    if chromium_path() is None:
        pytest.skip("no chromium on this machine (apt-get install chromium; .ci/run does)")
    if shutil.which("node") is None or not ESBUILD.exists() or not BRIDGE.exists():
        pytest.skip("the host bridge is not installed: run `npm ci` in tests/browser")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("python playwright is missing: pip install -e '.[dev]'")
    bundle = subprocess.run(
        [str(ESBUILD), "host.js", "--bundle", "--minify", "--format=iife", "--log-level=warning"],
        cwd=HERE,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    # A "</script>" inside the bundle would end the element early.
    assert "</script" not in bundle.lower()
    return f'<!doctype html><html><body style="margin:0"><script>{bundle}</script></body></html>'


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    path = chromium_path()
    assert path is not None
    async with async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
