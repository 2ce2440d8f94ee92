"""Pages of a listing: reading one from an answer, its links as cursors, and walking them all.

A cursor is what a caller hands back as ``cursor=`` to fetch a page. It is the ``cursor`` value
of the API's ``next`` or ``previous`` link or, when the link pages by ``page=`` or ``offset=``,
that parameter as "key=value", which :func:`cursor_params` turns back into the same query.
So a cursor names a position in the listing, and the client always asks its own base URL for it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any

import httpx

from avala_mcp.client.errors import ServerError
from avala_mcp.client.models import Page
from avala_mcp.client.parsing import M, json_body, parse
from avala_mcp.client.transport import origin

# Besides ``cursor=``, a link may page by one of these (Django REST framework's page-number and
# limit-offset paginations).
_POSITION_PARAMS = ("page", "offset")
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
    """
    if link is None or link == "":
        return None
    url = _link_url(link, which, request_url)
    _refuse_another_origin(url, which, request_url)
    return _position(url, which)


def _link_url(link: Any, which: str, request_url: httpx.URL) -> httpx.URL:
    """The absolute URL of ``link``, which may be relative to the request's."""
    if not isinstance(link, str):
        raise ServerError(f"the API's {which} link is not a URL")
    try:
        return request_url.join(link)
    except httpx.InvalidURL:
        raise ServerError(f"the API's {which} link is not a URL") from None


def _refuse_another_origin(url: httpx.URL, which: str, request_url: httpx.URL) -> None:
    """Refuse a link away from the API's origin: the only place where links are judged by it."""
    if origin(url) != origin(request_url):
        # Following it would send the API key to a server we were not configured for.
        raise ServerError(
            f"the API's {which} link points to another origin "
            f"({url.scheme}://{url.netloc.decode('ascii', 'replace')}); not followed"
        )


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

    Only the current page is held: memory stays flat however long the listing.
    """
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        for result in page.results:
            yield result
        if page.next_cursor is None:
            return
        if page.next_cursor == cursor:
            raise ServerError("the API returned the same next page twice; stopped paginating")
        cursor = page.next_cursor
