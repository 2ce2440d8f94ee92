"""MediaFetcher: real demo frames from the embedded API, and every refusal a note.

The forbidden targets are counting listeners on loopback (other ports than the base URL's, by
address and by ``localhost``, over http and https, IPv4 and IPv6): each refusal must come before
any connection, so their counts stay at zero. The bad answers (redirects to them, endless and
huge bodies, non-images, bombs) come from a stand-in API at the base URL's origin. No test sends
traffic anywhere but loopback; names other than ``localhost`` go through a test resolver.
"""

from __future__ import annotations

import io
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from media_servers import (
    CountingListener,
    HostileApi,
    TlsImageServer,
    forbidden_urls,
    rgba_png,
    self_signed,
)
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from avala_mcp.client import AvalaClient
from avala_mcp.client.addresses import GuardedBackend, GuardedTransport, IPAddress, refusal
from avala_mcp.client.media import (
    MAX_DOWNLOADS,
    FetchedImage,
    ImageNote,
    MediaFetcher,
    image_url,
)
from avala_mcp.embedded.runner import serve_in_thread
from avala_mcp.embedded.seed import DEMO_ORG, DEMO_SLICE_SLUG

pytestmark = pytest.mark.anyio

MAX_SIDE, MAX_BYTES = 512, 100_000
# An API elsewhere (never contacted): every image host is then reached through the guard.
CLOUD = "https://api.example.com/api/v1"


def check_image(result: FetchedImage | ImageNote, mime_type: str = "image/jpeg") -> Image.Image:
    assert isinstance(result, FetchedImage), result
    assert result.mime_type == mime_type
    assert max(result.width, result.height) <= MAX_SIDE
    assert len(result.data) <= MAX_BYTES
    image = Image.open(io.BytesIO(result.data))
    assert image.format == mime_type.split("/")[1].upper()
    assert image.size == (result.width, result.height)
    return image


def check_note(result: FetchedImage | ImageNote, *words: str) -> str:
    assert isinstance(result, ImageNote), result
    note = str(result)
    assert "\n" not in note
    assert len(note) < 160
    for word in words:
        assert word in note
    return note


@pytest.fixture
def hostile() -> Iterator[tuple[HostileApi, str]]:
    api = HostileApi()
    with serve_in_thread(api.app) as base_url:
        yield api, base_url


async def test_demo_frames_from_the_embedded_api_over_uvicorn(
    local_api_url: str, local_api_key: str
) -> None:
    async with AvalaClient(local_api_key, base_url=local_api_url) as client:
        page = await client.list_slice_items(DEMO_ORG, DEMO_SLICE_SLUG, limit=4)
    assert all(image_url(item).startswith(local_api_url + "/media/") for item in page.results)  # type: ignore[union-attr]
    async with MediaFetcher(local_api_url, local_api_key) as fetcher:
        results = await fetcher.fetch_items(page.results)
        full_frame = await fetcher.fetch(page.results[0].url or "")
    for result in [*results, full_frame]:
        assert check_image(result).size == (512, 288)


async def test_demo_frames_in_process_as_serve_local_reaches_them(
    local_app: Starlette, local_api_key: str
) -> None:
    transport = httpx.ASGITransport(app=local_app)
    base = "http://127.0.0.1/api/v1"
    async with AvalaClient(local_api_key, base_url=base, transport=transport) as client:
        page = await client.list_slice_items(DEMO_ORG, DEMO_SLICE_SLUG, limit=3)
    async with MediaFetcher(base, local_api_key, transport=transport) as fetcher:
        for result in await fetcher.fetch_items(page.results):
            check_image(result)
        # Without the key the API refuses, and that too is a note.
        async with MediaFetcher(base, None, transport=transport) as keyless:
            check_note(await keyless.fetch_item(page.results[0]), "HTTP 401")


async def test_other_loopback_origins_are_refused_without_a_connection(
    hostile: tuple[HostileApi, str], forbidden: list[CountingListener], local_api_key: str
) -> None:
    api, base = hostile
    port = int(base.split(":")[2].split("/")[0])
    urls = [
        *forbidden_urls(forbidden),
        # The base URL's host and port, but another scheme or name: another origin.
        f"https://127.0.0.1:{port}/api/v1/noisy.jpg",
        f"http://localhost:{port}/api/v1/noisy.jpg",
    ]
    async with MediaFetcher(base, local_api_key) as fetcher:
        for url in urls:
            note = check_note(await fetcher.fetch(url), "not fetched")
            assert local_api_key not in note
        # Redirected there by the API itself: each hop is checked like a first request.
        for url in forbidden_urls(forbidden):
            check_note(await fetcher.fetch(f"{base}/redirect?to={url}"), "not fetched")
    assert [listener.accepted for listener in forbidden] == [0] * len(forbidden)
    # The API got its key on every request; nothing else got anything.
    assert api.keys_seen
    assert set(api.keys_seen) == {local_api_key}
    # The listeners do count: a direct connection shows.
    with socket.create_connection(("127.0.0.1", forbidden[0].port)):
        pass
    for _ in range(50):
        if forbidden[0].accepted:
            break
        await anyio.sleep(0.02)
    assert forbidden[0].accepted == 1


async def test_bad_answers_of_the_api_each_give_a_note(
    hostile: tuple[HostileApi, str], local_api_key: str
) -> None:
    _, base = hostile
    async with MediaFetcher(base, local_api_key, deadline=1.5) as fetcher:
        check_note(await fetcher.fetch(f"{base}/endless"), "larger than 10 MiB")
        check_note(await fetcher.fetch(f"{base}/big"), "larger than 10 MiB")  # 20 MB, declared
        check_note(await fetcher.fetch(f"{base}/big-streamed"), "larger than 10 MiB")
        check_note(await fetcher.fetch(f"{base}/text"), "not a readable image")
        check_note(await fetcher.fetch(f"{base}/bomb.png"), "image too large")
        check_note(await fetcher.fetch(f"{base}/wide.png"), "9000x5000")
        check_note(await fetcher.fetch(f"{base}/missing.jpg"), "HTTP 404")
        # Each read arrives in time; the whole never does. The deadline is for the whole.
        check_note(await fetcher.fetch(f"{base}/trickle"), "within 1.5 s")
        check_note(await fetcher.fetch(f"{base}/loop"), "more than 3 redirects")
        for url in ("not a url", "ftp://files.example/a.jpg", "https://", "file:///etc/passwd"):
            check_note(await fetcher.fetch(url), "not fetched")


async def test_a_call_s_images_share_one_deadline(
    hostile: tuple[HostileApi, str], local_api_key: str
) -> None:
    _, base = hostile
    items = [{"url": f"{base}/trickle"}, {"url": f"{base}/clear.png"}, {"url": f"{base}/trickle"}]
    async with MediaFetcher(base, local_api_key) as fetcher:  # 5 s for each download
        late, ready, also_late = await fetcher.fetch_items(items, within=0.6)
    check_note(late, "no image within the call's 0.6 s")
    check_note(also_late, "no image within the call's 0.6 s")
    check_image(ready, "image/png")


async def test_downloads_in_flight_are_bounded(local_api_key: str) -> None:
    in_flight, most = 0, 0
    body = rgba_png((40, 30))

    async def slow_image(request: Request) -> Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await anyio.sleep(0.15)
        in_flight -= 1
        return Response(body, media_type="image/png")

    app = Starlette(routes=[Route("/api/v1/img/{n}", slow_image)])
    with serve_in_thread(app) as base:
        async with MediaFetcher(base, local_api_key) as fetcher:
            results = await fetcher.fetch_items([{"url": f"{base}/img/{n}"} for n in range(10)])
    assert [check_image(r, "image/png").size for r in results] == [(40, 30)] * 10
    assert most == MAX_DOWNLOADS == 6


async def test_images_are_shrunk_and_reencoded_to_fit(
    hostile: tuple[HostileApi, str], local_api_key: str
) -> None:
    _, base = hostile
    async with MediaFetcher(base, local_api_key) as fetcher:
        noisy = check_image(await fetcher.fetch(f"{base}/noisy.jpg"))  # 1600x1200 of noise
        assert noisy.size[0] == MAX_SIDE
        redirected = await fetcher.fetch(f"{base}/redirect?to=/api/v1/noisy.jpg")
        assert check_image(redirected).size == noisy.size
        clear = check_image(await fetcher.fetch(f"{base}/clear.png"), "image/png")
        assert clear.mode == "RGBA"
        assert clear.size == (512, 341)
        assert clear.getpixel((0, 0))[3] == 0  # transparency kept


def test_image_url_prefers_the_first_thumbnail() -> None:
    thumbnails = [{"url": "https://cdn.example/small.jpg", "width": 160}, "https://x/2.jpg"]
    assert (
        image_url({"url": "https://x/full.jpg", "thumbnails": thumbnails}) == thumbnails[0]["url"]
    )  # type: ignore[index]
    assert (
        image_url({"url": "https://x/full.jpg", "thumbnails": ["https://x/t.jpg"]})
        == "https://x/t.jpg"
    )
    assert image_url({"url": "https://x/full.jpg", "thumbnails": []}) == "https://x/full.jpg"
    assert image_url({"url": None, "thumbnails": [{"width": 3}]}) is None


async def test_an_item_without_an_image_url_gets_a_note(local_api_key: str) -> None:
    async with MediaFetcher(CLOUD, local_api_key) as fetcher:
        check_note(await fetcher.fetch_item({"uid": "u", "url": None}), "no image URL")


# --- https through the guard, to a name the test resolves to loopback -----------------------


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[TlsImageServer, ssl.SSLContext]]:
    made = self_signed(tmp_path, "images.test")
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = made
    trust = ssl.create_default_context(cafile=str(cert))
    with TlsImageServer(cert, key, rgba_png((300, 200))) as server:
        yield server, trust


class TestResolver:
    """Resolves ``images.test`` to the given addresses, and counts the lookups."""

    __test__ = False

    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)
        self.lookups: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append((host, port))
        if host != "images.test":
            raise OSError("no such test host")
        return self.addresses


def loopback_allowed(address: IPAddress) -> str | None:
    """A policy for tests only: loopback passes (everything else is refused)."""
    return None if address.is_loopback else "non-loopback"


def guarded(
    trust: ssl.SSLContext, *addresses: str, refuse: Any = loopback_allowed
) -> tuple[TestResolver, GuardedTransport]:
    """A guarded transport resolving ``images.test`` to ``addresses``, and its resolver."""
    resolver = TestResolver(*addresses)
    return resolver, GuardedTransport(GuardedBackend(resolver, refuse), ssl_context=trust)


async def test_https_connects_to_the_checked_address_and_carries_no_key(
    tls_server: tuple[TlsImageServer, ssl.SSLContext], local_api_key: str
) -> None:
    server, trust = tls_server
    resolver, outside = guarded(trust, "127.0.0.1")
    url = f"https://images.test:{server.port}/frame.png"
    async with MediaFetcher(CLOUD, local_api_key, outside_transport=outside) as fetcher:
        check_image(await fetcher.fetch(url), "image/png")
    # The name was looked up once, the connection went to its address, TLS checked the name,
    # and the key stayed home.
    assert resolver.lookups == [("images.test", server.port)]
    assert server.requests == [{"host": f"images.test:{server.port}", "key": None}]


async def test_a_name_resolving_to_loopback_is_refused(
    tls_server: tuple[TlsImageServer, ssl.SSLContext], local_api_key: str
) -> None:
    # The real policy this time: a public-looking name whose address is this machine.
    server, trust = tls_server
    for addresses in (["127.0.0.1"], ["8.8.8.8", "127.0.0.1"], ["::ffff:127.0.0.1"]):
        _, outside = guarded(trust, *addresses, refuse=refusal)
        async with MediaFetcher(CLOUD, local_api_key, outside_transport=outside) as fetcher:
            note = check_note(await fetcher.fetch(f"https://images.test:{server.port}/a.png"))
        assert "images.test resolves to a loopback address" in note
    assert server.requests == []


async def test_media_hosts_narrow_the_allowed_hosts(
    tls_server: tuple[TlsImageServer, ssl.SSLContext], local_api_key: str
) -> None:
    server, trust = tls_server
    resolver, outside = guarded(trust, "127.0.0.1")
    url = f"https://images.test:{server.port}/frame.png"
    async with MediaFetcher(
        CLOUD, local_api_key, allowed_hosts={"cdn.example.com"}, outside_transport=outside
    ) as narrowed:
        check_note(await narrowed.fetch(url), "images.test is not in AVALA_MCP_MEDIA_HOSTS")
    assert resolver.lookups == []
    assert server.requests == []
    async with MediaFetcher(
        CLOUD, local_api_key, allowed_hosts={"Images.Test"}, outside_transport=outside
    ) as allowed:
        check_image(await allowed.fetch(url), "image/png")
    assert len(server.requests) == 1
