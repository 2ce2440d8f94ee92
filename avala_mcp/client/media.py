"""Fetching items' images safely, for a model to look at (see ``docs/contracts.md``).

An item's image is its first ``thumbnails`` entry, else its ``url``. :class:`MediaFetcher`
downloads it by these rules:

- the base URL's own origin (the API, e.g. the embedded one on plain http) is reached as the
  API client reaches it, with the API key; the key goes nowhere else;
- anything else only over https, to a host in ``AVALA_MCP_MEDIA_HOSTS`` if that is set, and only
  to public addresses, checked on the address connected to (:mod:`~avala_mcp.client.addresses`);
- each redirect is a new request under the same rules (at most :data:`MAX_REDIRECTS`);
- at most :data:`MAX_IMAGE_BYTES` and :data:`FETCH_DEADLINE` seconds in all per image;
- the bytes are decoded and re-encoded (:mod:`~avala_mcp.client.images`).

Every failure is an :class:`ImageNote` (a short reason), never an exception: one bad image is
a line in a result, not a failed call. Nothing here imports MCP, nor Pillow until an image is
decoded.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import anyio
import anyio.to_thread
import httpx

from avala_mcp import __version__
from avala_mcp.client.addresses import TRANSPORT_ERRORS, ForbiddenAddress, GuardedTransport
from avala_mcp.client.images import FetchedImage, ImageNote, reencode
from avala_mcp.client.models import SliceItem
from avala_mcp.client.transport import ApiKeyAuth, origin
from avala_mcp.settings import Settings, check_base_url

__all__ = ["FetchedImage", "ImageNote", "MediaFetcher", "image_url"]

logger = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 10 * 2**20
FETCH_DEADLINE = 5.0
MAX_REDIRECTS = 3
#: Downloads in flight at once, per fetcher (one per server, shared by its calls).
MAX_DOWNLOADS = 6
# Decoding is the memory-hungry step: at most this many images are decoded at once.
_DECODERS = 2
_FAILURES: tuple[type[Exception], ...] = (httpx.HTTPError, *TRANSPORT_ERRORS)


class _Refused(Exception):
    """A download stopped by a rule; the message is the note."""


def image_url(item: SliceItem | Mapping[str, Any]) -> str | None:
    """The URL of an item's image: its first ``thumbnails`` entry (a URL, or an object with a
    ``url``), else its ``url``; None if it has neither."""
    fields = item if isinstance(item, Mapping) else {**(item.model_extra or {}), "url": item.url}
    thumbnails = fields.get("thumbnails")
    if isinstance(thumbnails, list) and thumbnails:
        first = thumbnails[0]
        url = first.get("url") if isinstance(first, Mapping) else first
        if isinstance(url, str) and url:
            return url
    url = fields.get("url")
    return url if isinstance(url, str) and url else None


class MediaFetcher:
    """Downloads and re-encodes items' images; use it as ``async with MediaFetcher(...)``.

    ``base_url``, ``api_key`` and ``transport`` are the API client's (give the same transport,
    e.g. the in-process one of ``serve --local``). ``allowed_hosts`` narrows the hosts images
    may come from besides the API's own origin (empty: any public host). ``outside_transport``
    reaches every other host; it defaults to a :class:`GuardedTransport`, and exists so that a
    test can make a name resolve to a listener of its own.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        allowed_hosts: Collection[str] = (),
        outside_transport: httpx.AsyncBaseTransport | None = None,
        max_bytes: int = MAX_IMAGE_BYTES,
        deadline: float = FETCH_DEADLINE,
    ) -> None:
        api = check_base_url(base_url)
        self._origin = origin(api)
        self._allowed = frozenset(host.lower() for host in allowed_hosts)
        self._max_bytes = max_bytes
        self._deadline = deadline
        self._decoders = anyio.CapacityLimiter(_DECODERS)
        self._downloads = anyio.CapacityLimiter(MAX_DOWNLOADS)
        headers = {"Accept": "image/*", "User-Agent": f"avala-mcp/{__version__}"}
        timeout = httpx.Timeout(deadline)
        self._api = httpx.AsyncClient(
            auth=ApiKeyAuth(api_key, self._origin) if api_key else None,
            headers=headers,
            timeout=timeout,
            transport=transport,
            # A transport of the caller's is the way to the API; proxies would go around it.
            trust_env=transport is None,
        )
        # Never from the environment: a proxy would make the connections, unchecked.
        self._outside = httpx.AsyncClient(
            headers=headers,
            timeout=timeout,
            transport=outside_transport or GuardedTransport(),
            trust_env=False,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> MediaFetcher:
        """A fetcher for the API ``settings`` name (key, base URL, ``AVALA_MCP_MEDIA_HOSTS``)."""
        return cls(
            settings.base_url,
            settings.api_key,
            transport=transport,
            allowed_hosts=settings.media_hosts,
        )

    def __repr__(self) -> str:
        scheme, host, port = self._origin
        return f"MediaFetcher(origin={f'{scheme}://{host}:{port}'!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close both connection pools."""
        await self._api.aclose()
        await self._outside.aclose()

    async def fetch_item(self, item: SliceItem | Mapping[str, Any]) -> FetchedImage | ImageNote:
        """The image of ``item`` (see :func:`image_url`), or a note saying why there is none."""
        url = image_url(item)
        if url is None:
            return ImageNote("no image URL")
        return await self.fetch(url)

    async def fetch_items(
        self, items: Sequence[SliceItem | Mapping[str, Any]], *, within: float | None = None
    ) -> list[FetchedImage | ImageNote]:
        """The images of ``items``, fetched at the same time, in the same order.

        ``within`` bounds the whole (waiting for a download slot and decoding included); an
        image not ready by then is a note.
        """
        late = ImageNote(f"not fetched: no image within the call's {within or 0:g} s")
        results: list[FetchedImage | ImageNote] = [late] * len(items)

        async def one(index: int) -> None:
            results[index] = await self.fetch_item(items[index])

        with anyio.move_on_after(within):
            async with anyio.create_task_group() as group:
                for index in range(len(items)):
                    group.start_soon(one, index)
        return results

    async def fetch(self, url: str) -> FetchedImage | ImageNote:
        """The image at ``url``, re-encoded, or a note saying why there is none."""
        try:
            # The deadline starts with the download, not while waiting for a slot.
            async with self._downloads:
                with anyio.fail_after(self._deadline):
                    data = await self._download(url)
        except TimeoutError:
            return ImageNote(f"not fetched: no complete answer within {self._deadline:g} s")
        except _Refused as refused:
            return ImageNote(str(refused))
        return await anyio.to_thread.run_sync(reencode, data, limiter=self._decoders)

    async def _download(self, url: str) -> bytes:
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            raise _Refused("not fetched: not a valid URL") from None
        if not target.scheme or not target.host:
            raise _Refused("not fetched: not an absolute URL")
        for _ in range(MAX_REDIRECTS + 1):
            client = self._client_for(target)
            try:
                response = await client.send(client.build_request("GET", target), stream=True)
            except ForbiddenAddress as error:
                raise _Refused(f"not fetched: {error}") from None
            except _FAILURES as error:
                logger.debug("image from %s: %s", target.host, type(error).__name__)
                raise _Refused(
                    f"not fetched: {target.host} failed ({type(error).__name__})"
                ) from None
            try:
                location = response.headers.get("Location")
                if response.is_redirect and location:
                    target = target.join(location)
                    continue
                if not response.is_success:
                    raise _Refused(f"not fetched: HTTP {response.status_code}")
                return await self._read(response)
            except _FAILURES as error:
                raise _Refused(f"not fetched: reading from {target.host} failed") from error
            finally:
                await response.aclose()
        raise _Refused(f"not fetched: more than {MAX_REDIRECTS} redirects")

    def _client_for(self, url: httpx.URL) -> httpx.AsyncClient:
        """The client that may fetch ``url``; _Refused if none may."""
        if origin(url) == self._origin:
            return self._api
        if url.scheme != "https":
            raise _Refused(f"not fetched: {_shown(url)} is neither https nor the API itself")
        if self._allowed and url.host.lower() not in self._allowed:
            raise _Refused(f"not fetched: {url.host} is not in AVALA_MCP_MEDIA_HOSTS")
        return self._outside

    async def _read(self, response: httpx.Response) -> bytes:
        """The body, refused as soon as it is known to pass the size cap."""
        cap = self._max_bytes
        too_large = f"not fetched: larger than {cap / 2**20:g} MiB"
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _Refused(too_large)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > cap:
                raise _Refused(too_large)
        return bytes(body)


def _shown(url: httpx.URL) -> str:
    """Scheme, host and port of ``url``: enough to say where, nothing of a path or credentials."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}" + (f":{url.port}" if url.port else "")
