"""The explorer app in headless chromium, behind the real AppBridge, on the real MCP server.

The server is the project's own (``build_server``) on a real embedded Slices API served by
uvicorn on 127.0.0.1, as ``serve --local`` runs it; the host page's bridge reaches it through a
real ``mcp.Client`` that advertises the Apps extension. ``UPDATE_SCREENSHOT=1`` writes the
README's ``docs/explorer.png`` from the thumbnail test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.types import CallToolResult, TextResourceContents

from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_SLICE_SLUG
from avala_mcp.server import build_server, explorer
from avala_mcp.settings import Settings

pytestmark = pytest.mark.anyio

SCREENSHOT = Path(__file__).parents[2] / "docs" / "explorer.png"
PAGE = 8  # items per page: more than one show_items call (at most 6) covers


@dataclass
class Host:
    """The browser page with the explorer running in it, and the client behind its bridge."""

    page: Any
    client: Client
    tools: set[str]
    requests: list[str]

    @property
    def app(self) -> Any:
        return self.page.frame_locator("#app")

    async def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = await self.page.evaluate("window.host.calls")
        return calls


@pytest.fixture
async def host(
    host_page: str, browser: Any, local_api_url: str, local_api_key: str
) -> AsyncIterator[Host]:
    settings = Settings(api_key=local_api_key, base_url=local_api_url, max_retries=0)
    apps = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
    async with Client(build_server(settings), extensions=[apps]) as client:
        page = await browser.new_page(viewport={"width": 960, "height": 900})
        # Nothing may leave the page: the app gets every byte through the bridge.
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        async def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(name, arguments)
            return wire(result)

        await page.expose_function("mcpCallTool", call_tool)
        await page.set_content(host_page)
        tools = {tool.name for tool in (await client.list_tools()).tools}
        yield Host(page=page, client=client, tools=tools, requests=requests)
        await page.close()
        assert errors == [], errors


def wire(result: CallToolResult) -> dict[str, Any]:
    """A tool result as the bridge passes it on: its JSON on the wire."""
    dumped: dict[str, Any] = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


async def start(
    host: Host, tool: str, arguments: dict[str, Any], theme: str = "light", *, fails: bool = False
) -> Any:
    """Call ``tool`` as a model would, then hand the app its input and result, as a host does."""
    read = await host.client.read_resource(explorer.URI)
    [content] = read.contents
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == APP_MIME_TYPE
    result = await host.client.call_tool(tool, arguments)
    assert result.is_error is fails
    await host.page.evaluate(
        "args => startHost(args)",
        {
            "html": content.text,
            "theme": theme,
            "tool": tool,
            "input": arguments,
            "result": wire(result),
        },
    )
    return result


async def uids(host: Host) -> list[str]:
    found: list[str] = await host.app.locator(".card").evaluate_all(
        "cards => cards.map(card => card.dataset.uid)"
    )
    return found


async def test_the_app_initializes_pages_and_saves_a_slice(
    host: Host, local_api_url: str, local_api_key: str
) -> None:
    arguments = {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "limit": PAGE}
    first = await start(host, "list_slice_items", arguments)
    app = host.app
    await app.locator("body[data-state=ready]").wait_for()
    # The grid is the result's items, in order, each with its metadata.
    expected = [item["uid"] for item in first.structured_content["items"]]
    await app.locator(".card").nth(PAGE - 1).wait_for()
    assert await uids(host) == expected
    assert await app.locator(".card dt").count() >= PAGE
    assert f"{DEMO_ORG}/{DEMO_SLICE_SLUG}" in await app.locator("#status").inner_text()
    # The app told the host its size.
    sizes = await host.page.evaluate("window.host.sizes")
    assert sizes
    assert sizes[-1]["height"] > 0

    # The next page, through tools/call, from the cursor the result gave.
    await app.locator("#next").click()
    await app.locator(f".card[data-uid='{expected[0]}']").wait_for(state="detached")
    second = await uids(host)
    assert len(second) == PAGE
    assert not set(second) & set(expected)
    paging = [c for c in await host.calls() if c["name"] == "list_slice_items"]
    cursor = first.structured_content["next_cursor"]
    assert paging == [{"name": "list_slice_items", "arguments": {**arguments, "cursor": cursor}}]

    # The slice's profile as bar charts; a bar previews that value within the slice's filter.
    bar = app.locator(".chart[data-path='metadata.weather'] .bar").first
    await bar.wait_for()
    value = (await bar.locator(".label").inner_text()).strip()
    await bar.click()
    await app.locator("#title", has_text="Filter preview").wait_for()
    [preview] = [c for c in await host.calls() if c["name"] == "preview_slice"]
    assert preview["arguments"]["dataset"] == DEMO_DATASET_UID
    condition = {"field": "metadata.weather", "op": "eq", "value": value}
    assert condition in preview["arguments"]["filter"]["and"]

    # Save what is on screen as a slice: through the host, which confirms the write.
    await app.locator("#slice-name").fill(f"Night {value} from the explorer")
    await app.locator("#save-button").click()
    saved = app.locator("#saved")
    await saved.locator("text=Saved as").wait_for()
    assert await host.page.evaluate("window.host.confirmations") == ["create_slice"]
    slug = await saved.get_attribute("data-slug")
    assert slug
    # It exists, on the API itself.
    async with httpx.AsyncClient(base_url=local_api_url + "/") as api:
        headers = {"X-Avala-Api-Key": local_api_key}
        response = await api.get(f"slices/{DEMO_ORG}/{slug}/", headers=headers)
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["filter"] == preview["arguments"]["filter"]
    assert created["item_count"] > 0

    # Saving the same name again: the server's refusal is shown, not swallowed.
    await app.locator("#save-button").click()
    error = app.locator("#error.shown")
    await error.wait_for()
    assert "cannot be used" in await error.inner_text()
    assert await host.page.evaluate("window.host.confirmations") == ["create_slice"]
    assert host.requests == [], "the page reached the network"


async def test_the_app_follows_the_host_theme(host: Host) -> None:
    await start(host, "describe_dataset", {"dataset": DEMO_DATASET_UID}, theme="dark")
    app = host.app
    await app.locator(".chart").first.wait_for()
    root = app.locator("html")
    assert await root.get_attribute("data-theme") == "dark"
    dark = await app.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    await host.page.evaluate("setTheme('light')")
    await app.locator("html[data-theme=light]").wait_for()
    light = await app.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    assert dark != light
    assert light == "rgb(255, 255, 255)"


async def test_the_app_shows_a_failure_with_its_hint(host: Host) -> None:
    await start(host, "describe_slice", {"owner": DEMO_ORG, "slug": "no-such-slice"}, fails=True)
    error = host.app.locator("#error.shown")
    await error.wait_for()
    text = await error.inner_text()
    assert text.startswith("not_found: ")
    assert "no-such-slice" in text
    assert "Next: call list_slices" in text


async def test_the_app_shows_real_thumbnails(host: Host) -> None:
    if "show_items" not in host.tools:
        pytest.skip("this server has no show_items tool yet (the gallery work adds it)")
    arguments = {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG, "limit": PAGE}
    await start(host, "list_slice_items", arguments, theme="light")
    app = host.app
    images = app.locator(".thumb img")
    await images.nth(PAGE - 1).wait_for()
    widths = await images.evaluate_all(
        "imgs => Promise.all(imgs.map(i => i.decode().then(() => i.naturalWidth)))"
    )
    assert len(widths) == PAGE
    assert all(width > 0 for width in widths), widths
    # Images come as data inside show_items results, at most six per call, never by URL.
    sources = await images.evaluate_all("imgs => imgs.map(i => i.src.slice(0, 11))")
    assert set(sources) == {"data:image/"}
    shown = [c for c in await host.calls() if c["name"] == "show_items"]
    assert [c["arguments"].get("limit") for c in shown] == [6, 2]
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        await app.locator(".chart").first.wait_for()
        await app.locator("#next").wait_for()
        # Chromium paints only the part of a frame inside the viewport: make room for all of it.
        await host.page.set_viewport_size({"width": 960, "height": 2000})
        # The frame as tall as the app last said it is, so the picture holds all of it.
        await host.page.wait_for_function(
            "() => { const s = window.host.sizes.at(-1);"
            " return s && document.getElementById('app').offsetHeight === s.height; }"
        )
        await host.page.locator("#app").screenshot(path=str(SCREENSHOT), animations="disabled")

    # A bar's preview shows the filter's own items, with their images, from show_items.
    await app.locator(".chart[data-path='metadata.weather'] .bar").first.click()
    await app.locator("#title", has_text="Filter preview").wait_for()
    await host.page.wait_for_function(
        "() => window.host.calls.some(c => c.name === 'show_items' && c.arguments.dataset)"
    )
    # The grid and its images are put in place in one go, once show_items has answered.
    await app.locator(".thumb img").first.wait_for()
    shown_uids = await uids(host)
    assert shown_uids
    widths = await app.locator(".thumb img").evaluate_all(
        "imgs => Promise.all(imgs.map(i => i.decode().then(() => i.naturalWidth)))"
    )
    assert len(widths) == len(shown_uids)
    assert all(width > 0 for width in widths), widths
    [preview] = [c for c in await host.calls() if c["name"] == "preview_slice"]
    shown = [c for c in await host.calls() if c["name"] == "show_items"]
    by_filter = [c for c in shown if c["arguments"].get("dataset")]
    assert len(by_filter) == 1
    assert by_filter[0]["arguments"]["filter"] == preview["arguments"]["filter"]
    assert host.requests == [], "the page reached the network"
