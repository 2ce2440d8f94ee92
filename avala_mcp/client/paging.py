"""Pages of a listing: reading one from an answer, its links as cursors, and walking them all.

A cursor is what a caller hands back as ``cursor=`` to fetch a page. It is the ``cursor`` value
of the API's ``next`` or ``previous`` link or, when the link pages by ``page=`` or ``offset=``,
that parameter as "key=value", which :func:`cursor_params` turns back into the same query.
So a cursor names a position in the listing, and the client always asks its own base URL for it:
a link may name another host or scheme (an alias such as ``server.avala.ai`` for
``api.avala.ai``, a TLS-terminating proxy's ``http://``), and only its position is used, as
Avala's own SDKs do. The key goes to the base URL's origin only, because only it is asked.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any

import httpx

from avala_mcp.client.errors import ServerError, one_line
from avala_mcp.client.models import Page
from avala_mcp.client.parsing import M, json_body, parse

# Besides ``cursor=``, a link may page by one of these (Django REST framework's page-number and
# limit-offset paginations).
_POSITION_PARAMS = ("page", "offset")
# How much of a repeated cursor an error shows: enough to recognise it.
_SHOWN_CURSOR_CHARS = 64
_POSITION_CURSOR_RE = re.compile(rf"({'|'.join(_POSITION_PARAMS)})=([0-9]{{1,12}})\Z")


def cursor_params(cursor: str) -> dict[str, str]:
    """The query that fetches the page ``cursor`` names."""
    if position := _POSITION_CURSOR_RE.match(cursor):
        return {position.group(1): position.group(2)}
    return {"cursor": cursor}


def read_page(response: httpx.Response, model: type[M]) -> Page[M]:
    """The page of ``model`` results in ``response``, with its links read as cursors."""
    body = json_body(response)
    if not isinstance(body, Mapping) or not isinstance(body.get("results"), list):
        raise ServerError(
            f"the API answered {response.status_code} without a page of results",
            status=response.status_code,
        )
    count = body.get("count")
    request_url = response.request.url
    return Page[model](  # type: ignore[valid-type]
        count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        results=[parse(model, result) for result in body["results"]],
        next_cursor=_cursor_from_link(body.get("next"), "next", request_url),
        previous_cursor=_cursor_from_link(body.get("previous"), "previous", request_url),
    )


def _cursor_from_link(link: Any, which: str, request_url: httpx.URL) -> str | None:
    """The cursor of the page the ``which`` link points to, ``None`` if there is no such page.

    ``request_url`` is the URL of the request answered with the link, so under the base URL.
    The link's origin does not matter: the position is asked of the base URL.
    """
    if link is None or link == "":
        return None
    return _position(_link_url(link, which, request_url), which)


def _link_url(link: Any, which: str, request_url: httpx.URL) -> httpx.URL:
    """The absolute URL of ``link``, which may be relative to the request's."""
    if not isinstance(link, str):
        raise ServerError(f"the API's {which} link is not a URL")
    try:
        return request_url.join(link)
    except httpx.InvalidURL:
        raise ServerError(f"the API's {which} link is not a URL") from None


def _position(url: httpx.URL, which: str) -> str | None:
    """The cursor in the link's query: its ``cursor``, else its page or offset as "key=value"."""
    if "cursor" in url.params:
        return url.params["cursor"]
    for key in _POSITION_PARAMS:
        if key in url.params:
            return f"{key}={url.params[key]}"
    if which == "next":
        raise ServerError("the API's next link carries no cursor, page or offset")
    # A "previous" link without a position is the first page (DRF drops page=1/offset=0):
    # the caller fetches it by passing no cursor at all.
    return None


async def iterate(fetch: Callable[[str | None], Awaitable[Page[M]]]) -> AsyncGenerator[M, None]:
    """Every result of the pages ``fetch`` returns, from the first (cursor ``None``) on.

    Only the current page is held, and a digest of each cursor met: memory stays flat however
    long the listing (16 bytes a page). A ``next`` cursor met before means the links go round
    in a cycle (A, B, A...), which would never end: the walk stops with a ServerError.
    """
    cursor: str | None = None
    seen: set[bytes] = set()
    pages = 0
    while True:
        page = await fetch(cursor)
        pages += 1
        for result in page.results:
            yield result
        if page.next_cursor is None:
            return
        digest = hashlib.blake2b(page.next_cursor.encode(), digest_size=16).digest()
        if digest in seen:
            raise ServerError(
                f"the API's next links go round in a cycle: page {pages} leads back to cursor "
                f"'{one_line(page.next_cursor, _SHOWN_CURSOR_CHARS)}', already read; "
                "stopped paginating"
            )
        seen.add(digest)
        cursor = page.next_cursor
