"""AvalaClient: a typed async client for the Avala Slices API (DESIGN §2).

One method per endpoint, on one pooled ``httpx.AsyncClient``. Arguments are checked before any
request; failures become :mod:`avala_mcp.client.errors` types; GET and DELETE are retried on 429,
502, 503, 504 and network errors, POST only where the server certainly did not act on it.

The API key travels only in the ``X-Avala-Api-Key`` header of requests to the base URL's origin.
It is never part of ``repr()``, of an error's text, or of a log line.
"""

from __future__ import annotations

import json
import logging
import random
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import anyio
import httpx
import pydantic

from avala_mcp import __version__
from avala_mcp.client.errors import (
    RETRYABLE_STATUSES,
    AvalaError,
    InvalidInputError,
    NetworkError,
    ServerError,
    ValidationError,
    error_from_response,
    one_line,
)
from avala_mcp.client.models import NameValidation, Page, Slice, SliceItem
from avala_mcp.contract import (
    API_KEY_HEADER,
    DEFAULT_BASE_URL,
    MAX_LIMIT,
    NAME_MAX_LENGTH,
    NAME_MIN_LENGTH,
    RESERVED_SEGMENTS,
    SEGMENT_RE,
    UUID_RE,
)
from avala_mcp.redaction import Redactor
from avala_mcp.settings import Settings, check_api_key, check_base_url

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=pydantic.BaseModel)
E = TypeVar("E", bound=AvalaError)

#: Largest answer read from the API. A page of MAX_LIMIT items with rich metadata fits; a proxy
#: or a broken server streaming without end would otherwise fill memory until the timeout.
MAX_RESPONSE_BYTES = 32 * 2**20
#: Page size of the ``iter_*`` methods when none is given: few requests, little memory.
ITER_PAGE_SIZE = 100

_MAX_CURSOR_LENGTH = 4096
_ORDERING_RE = re.compile(r"-?[A-Za-z_][A-Za-z0-9_.]*(,-?[A-Za-z_][A-Za-z0-9_.]*)*\Z")
_MAX_ORDERING_LENGTH = 200
# Besides ``cursor=``, a ``next`` link may paginate by one of these; next_cursor then carries
# "key=value" so that handing it back requests exactly that page (DESIGN §2).
_POSITION_PARAMS = ("page", "offset")
_POSITION_CURSOR_RE = re.compile(rf"({'|'.join(_POSITION_PARAMS)})=([0-9]{{1,12}})\Z")
# Failures that happen before the request reaches the server, so even a POST may be repeated.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
# Failures that no retry can fix: the request itself cannot be sent.
_UNSENDABLE = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _ApiKeyAuth(httpx.Auth):
    """Adds the API key header, and only to requests for the base URL's origin."""

    def __init__(self, api_key: str, origin: tuple[str, str, int | None]) -> None:
        self._api_key = api_key
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) == self._origin:
            request.headers[API_KEY_HEADER] = self._api_key
        yield request

    def __repr__(self) -> str:
        return "_ApiKeyAuth(api_key=[redacted])"


class AvalaClient:
    """Async client for the Slices API; use it as ``async with AvalaClient(...) as client``.

    ``sleep``, ``jitter`` (a source of floats in [0, 1)) and ``now`` exist so that tests can
    observe the retry waits without waiting. ``max_retry_wait`` bounds the seconds spent waiting
    between retries of one call: a wait that would pass it is not taken, the error is raised.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        jitter: Callable[[], float] = random.random,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be a whole number >= 0, got {max_retries!r}")
        if timeout <= 0 or max_retry_wait < 0 or backoff_base < 0 or backoff_max < 0:
            raise ValueError("timeout must be > 0 and the retry waits >= 0")
        self._base_url = check_base_url(base_url)
        self._api_key: str | None = None
        if api_key:
            try:
                self._api_key = check_api_key(api_key)
            except ValueError as error:
                raise ValueError(f"api_key is malformed: {error}") from None
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_retry_wait = max_retry_wait
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._sleep = sleep
        self._jitter = jitter
        self._now = now
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            auth=_ApiKeyAuth(self._api_key, _origin(self._base_url)) if self._api_key else None,
            headers={"Accept": "application/json", "User-Agent": f"avala-mcp/{__version__}"},
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> AvalaClient:
        """A client configured by ``settings`` (key, base URL, timeout, retries)."""
        return cls(
            api_key=settings.api_key,
            base_url=settings.base_url,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            transport=transport,
        )

    @property
    def base_url(self) -> str:
        """The API's base URL, without a trailing slash."""
        return str(self._base_url).rstrip("/")

    def __repr__(self) -> str:
        return f"AvalaClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, traceback)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # ----------------------------------------------------------------------------- endpoints

    async def list_slices(
        self,
        owner: str,
        *,
        ordering: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Slice]:
        """One page of the slices ``owner`` (an organization or user) owns."""
        args = _Arguments()
        path = f"slices/{args.segment('owner', owner)}/list/"
        params = args.page_params(ordering=ordering, cursor=cursor, limit=limit)
        args.check()
        return await self._get_page(path, params, Slice)

    async def list_dataset_slices(
        self,
        dataset_uid: str,
        *,
        ordering: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Slice]:
        """One page of the slices of the dataset ``dataset_uid``."""
        args = _Arguments()
        path = f"slices/dataset/{args.uuid('dataset_uid', dataset_uid)}/"
        params = args.page_params(ordering=ordering, cursor=cursor, limit=limit)
        args.check()
        return await self._get_page(path, params, Slice)

    async def get_slice(self, owner: str, slug: str) -> Slice:
        """The slice ``owner``/``slug``."""
        args = _Arguments()
        path = f"slices/{args.segment('owner', owner)}/{args.segment('slug', slug)}/"
        args.check()
        response = await self._request("GET", path)
        return _parse(Slice, _json(response))

    async def create_slice(
        self,
        *,
        name: str,
        dataset: str,
        description: str | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Slice:
        """Create a slice of ``dataset``, optionally narrowed by a filter (DESIGN §3)."""
        args = _Arguments()
        body: dict[str, Any] = {"name": args.name(name), "dataset": args.uuid("dataset", dataset)}
        if description is not None:
            body["description"] = args.text("description", description)
        if filter is not None:
            body["filter"] = args.json_object("filter", filter)
        args.check()
        response = await self._request("POST", "slices/", body=body)
        return _parse(Slice, _json(response))

    async def list_slice_items(
        self,
        owner: str,
        slug: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[SliceItem]:
        """One page of the items of the slice ``owner``/``slug``."""
        args = _Arguments()
        path = f"slices/{args.segment('owner', owner)}/{args.segment('slug', slug)}/items/list/"
        params = args.page_params(cursor=cursor, limit=limit)
        args.check()
        return await self._get_page(path, params, SliceItem)

    async def validate_slice_name(self, name: str, *, dataset: str | None = None) -> NameValidation:
        """Whether ``name`` may name a new slice (of ``dataset``), and the slug it would get.

        An invalid name is an answer (``valid=False`` with the API's reasons), not an error.
        """
        args = _Arguments()
        body: dict[str, Any] = {"name": args.text("name", name)}
        if dataset is not None:
            body["dataset"] = args.uuid("dataset", dataset)
        args.check()
        try:
            response = await self._request("POST", "slice/validate/name", body=body)
        except ValidationError as error:
            if not error.fields:
                raise
            return NameValidation(valid=False, name=name, reasons=_reasons(error.fields))
        return _parse(NameValidation, _json(response))

    async def delete_slice(self, owner: str, slug: str) -> None:
        """Delete the slice ``owner``/``slug``.

        If an earlier attempt may have reached the server (a broken connection, a 502 or 504),
        a 404 on the retry means that attempt did the deletion, so it counts as success.
        """
        args = _Arguments()
        path = f"slices/{args.segment('owner', owner)}/{args.segment('slug', slug)}/"
        args.check()
        await self._request("DELETE", path, gone_if_retried=True)

    async def iter_slices(
        self, owner: str, *, ordering: str | None = None, limit: int = ITER_PAGE_SIZE
    ) -> AsyncIterator[Slice]:
        """Every slice of ``owner``, fetching one page at a time as the caller consumes them."""
        async for found in self._iterate(
            lambda cursor: self.list_slices(owner, ordering=ordering, cursor=cursor, limit=limit)
        ):
            yield found

    async def iter_dataset_slices(
        self, dataset_uid: str, *, ordering: str | None = None, limit: int = ITER_PAGE_SIZE
    ) -> AsyncIterator[Slice]:
        """Every slice of the dataset ``dataset_uid``, one page at a time."""
        async for found in self._iterate(
            lambda cursor: self.list_dataset_slices(
                dataset_uid, ordering=ordering, cursor=cursor, limit=limit
            )
        ):
            yield found

    async def iter_slice_items(
        self, owner: str, slug: str, *, limit: int = ITER_PAGE_SIZE
    ) -> AsyncIterator[SliceItem]:
        """Every item of the slice ``owner``/``slug``, one page at a time."""
        async for item in self._iterate(
            lambda cursor: self.list_slice_items(owner, slug, cursor=cursor, limit=limit)
        ):
            yield item

    # ------------------------------------------------------------------------------ plumbing

    async def _iterate(self, fetch: Callable[[str | None], Awaitable[Page[M]]]) -> AsyncIterator[M]:
        # Only the current page is held: memory stays flat however long the listing.
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

    async def _get_page(self, path: str, params: dict[str, Any], model: type[M]) -> Page[M]:
        response = await self._request("GET", path, params=params)
        body = _json(response)
        if not isinstance(body, Mapping) or not isinstance(body.get("results"), list):
            raise ServerError(
                f"the API answered {response.status_code} without a page of results",
                status=response.status_code,
            )
        count = body.get("count")
        return Page[model](  # type: ignore[valid-type]
            count=count if isinstance(count, int) and not isinstance(count, bool) else None,
            results=[_parse(model, result) for result in body["results"]],
            next_cursor=self._cursor_from_link(body.get("next"), response.request.url, "next"),
            previous_cursor=self._cursor_from_link(
                body.get("previous"), response.request.url, "previous"
            ),
        )

    def _cursor_from_link(self, link: Any, request_url: httpx.URL, which: str) -> str | None:
        """The cursor that fetches the page ``link`` points to, after checking its origin."""
        if link is None or link == "":
            return None
        if not isinstance(link, str):
            raise ServerError(f"the API's {which} link is not a URL")
        try:
            url = request_url.join(link)
        except httpx.InvalidURL:
            raise ServerError(f"the API's {which} link is not a URL") from None
        if _origin(url) != _origin(self._base_url):
            # Following it would send the API key to a server we were not configured for.
            raise ServerError(
                f"the API's {which} link points to another origin "
                f"({url.scheme}://{url.netloc.decode('ascii', 'replace')}); not followed"
            )
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

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        gone_if_retried: bool = False,
    ) -> httpx.Response:
        """Send a request, retrying as DESIGN §2 and issue 2 allow; raise an AvalaError."""
        idempotent = method in ("GET", "HEAD", "DELETE")
        waited = 0.0
        attempt = 0
        may_have_acted = False
        while True:
            error: AvalaError
            try:
                response = await self._attempt(method, path, params, body)
            except httpx.TransportError as failure:
                error = self._network_error(failure)
                sent = not isinstance(failure, _NOT_SENT)
                retry = not isinstance(failure, _UNSENDABLE) and (idempotent or not sent)
                may_have_acted = may_have_acted or sent
            else:
                status = response.status_code
                if response.is_success:
                    return response
                if status == 404 and gone_if_retried and may_have_acted:
                    logger.debug(
                        "%s %s: 404 after an attempt that may have acted; taken as done",
                        method,
                        path,
                    )
                    return response
                error = self._scrub(error_from_response(response, now=self._now))
                retry = status in RETRYABLE_STATUSES and (
                    idempotent or status == 429 or (status == 503 and error.retry_after is not None)
                )
                may_have_acted = may_have_acted or status in (502, 504)
            if not retry or attempt >= self._max_retries:
                raise error
            wait = error.retry_after if error.retry_after is not None else self._backoff(attempt)
            if waited + wait > self._max_retry_wait:
                logger.debug(
                    "%s %s: not retrying, waiting %.2f s would pass the %.2f s budget",
                    method,
                    path,
                    wait,
                    self._max_retry_wait,
                )
                raise error
            attempt += 1
            logger.debug(
                "%s %s: %s; retry %d of %d in %.2f s",
                method,
                path,
                error.message,
                attempt,
                self._max_retries,
                wait,
            )
            await self._sleep(wait)
            waited += wait

    async def _attempt(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any
    ) -> httpx.Response:
        """One request, bounded as a whole by the timeout (README: seconds per API request) and
        its answer by MAX_RESPONSE_BYTES.

        httpx's own timeout bounds each read, so a server trickling its answer a byte at a time
        could otherwise hold a call for as long as it liked.
        """
        request = self._http.build_request(method, path, params=params, json=body)
        with anyio.move_on_after(self._timeout):
            response = await self._http.send(request, stream=True)
            try:
                await _read_capped(response)
            finally:
                await response.aclose()
            return response
        raise httpx.ReadTimeout(f"no complete answer within {self._timeout:g} s")

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(max, base * 2**attempt))."""
        ceiling = min(self._backoff_max, self._backoff_base * 2.0**attempt)
        return self._jitter() * ceiling

    def _network_error(self, failure: httpx.TransportError) -> NetworkError:
        host = self._base_url.host
        detail = str(failure) or type(failure).__name__
        if isinstance(failure, _UNSENDABLE):
            message = f"the request to {host} could not be sent: {detail}"
        elif isinstance(failure, _NOT_SENT):
            message = f"could not connect to {host}: {detail}"
        elif isinstance(failure, httpx.TimeoutException):
            message = f"{host} did not answer within {self._timeout:g} s"
        else:
            message = f"the connection to {host} failed: {detail}"
        retryable = not isinstance(failure, _UNSENDABLE)
        return self._scrub(NetworkError(one_line(message), retryable=retryable))

    def _scrub(self, error: E) -> E:
        """The error with the API key cut out of its text, should the server have echoed it."""
        redactor = Redactor([self._api_key])
        if not redactor:
            return error
        error.message = redactor.text(error.message)
        error.args = (error.message,)
        if error.fields:
            error.fields = redactor.value(error.fields)
        return error


#: Path words of the API that an owner or a slug in the same place would be mistaken for.
class _Arguments:
    """Checks a call's arguments, collecting every problem into one InvalidInputError."""

    def __init__(self) -> None:
        self.problems: dict[str, list[str]] = {}

    def check(self) -> None:
        if self.problems:
            raise InvalidInputError.for_fields(self.problems)

    def refuse(self, name: str, problem: str) -> None:
        self.problems.setdefault(name, []).append(problem)

    def segment(self, name: str, value: Any) -> str:
        """An owner or slug, URL-encoded for a path segment."""
        if not isinstance(value, str) or not SEGMENT_RE.match(value):
            self.refuse(
                name,
                f"got {_show(value)}; expected 1-100 ASCII letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
            )
            return ""
        if RESERVED_SEGMENTS.get(name) == value:
            # /slices/{owner}/list/ and /slices/dataset/{uid}/ are other endpoints' paths, so
            # such a request would reach the wrong endpoint; no real owner or slug is named so.
            self.refuse(name, f"'{value}' cannot be a{'n' * (name == 'owner')} {name}")
            return ""
        return quote(value, safe="")

    def uuid(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or not UUID_RE.match(value):
            self.refuse(name, f"got {_show(value)}; expected a dataset UUID")
            return ""
        return str(uuid.UUID(value))

    def name(self, value: Any) -> str:
        if not isinstance(value, str) or not NAME_MIN_LENGTH <= len(value) <= NAME_MAX_LENGTH:
            self.refuse(
                "name",
                f"got {_show(value)}; expected {NAME_MIN_LENGTH}-{NAME_MAX_LENGTH} characters",
            )
            return ""
        return value

    def text(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            self.refuse(name, f"got {_show(value)}; expected a string")
            return ""
        return value

    def json_object(self, name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            self.refuse(name, f"got {_show(value)}; expected a JSON object")
            return {}
        try:
            return dict(json.loads(json.dumps(value, allow_nan=False)))
        except (TypeError, ValueError):
            self.refuse(name, "expected a JSON object; it holds values JSON cannot represent")
            return {}

    def page_params(
        self,
        *,
        ordering: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """The query of a listing: ordering, limit, and the cursor in its original form."""
        params: dict[str, Any] = {}
        if ordering is not None:
            if (
                not isinstance(ordering, str)
                or len(ordering) > _MAX_ORDERING_LENGTH
                or not _ORDERING_RE.match(ordering)
            ):
                self.refuse(
                    "ordering", f"got {_show(ordering)}; expected e.g. 'name' or '-created_at'"
                )
            else:
                params["ordering"] = ordering
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
                self.refuse(
                    "limit", f"got {_show(limit)}; expected a whole number from 1 to {MAX_LIMIT}"
                )
            else:
                params["limit"] = limit
        if cursor is not None:
            if (
                not isinstance(cursor, str)
                or not 1 <= len(cursor) <= _MAX_CURSOR_LENGTH
                or not cursor.isprintable()
            ):
                self.refuse("cursor", "expected a next_cursor returned by an earlier page")
            elif position := _POSITION_CURSOR_RE.match(cursor):
                params[position.group(1)] = position.group(2)
            else:
                params["cursor"] = cursor
        return params


async def _read_capped(response: httpx.Response) -> None:
    """Read ``response``'s body into it, as ``aread()`` does, refusing one past the cap."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise _too_large(response)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise _too_large(response)
        chunks.append(chunk)
    # What aread() stores; read here so that the size is checked as the bytes arrive.
    response._content = b"".join(chunks)


def _too_large(response: httpx.Response) -> ServerError:
    return ServerError(
        f"the API's answer is larger than {MAX_RESPONSE_BYTES // 2**20} MiB; not read",
        status=response.status_code,
    )


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and effective port: what must match for the key to be sent."""
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default_port


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        raise ServerError(
            f"the API answered {response.status_code} with a body that is not JSON",
            status=response.status_code,
        ) from None


def _parse(model: type[M], data: Any) -> M:
    """``data`` as ``model``, or a ServerError naming what is wrong (never the values)."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as invalid:
        problems = invalid.errors(include_input=False, include_url=False)
        first = problems[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ServerError(
            f"the API's answer is not a valid {model.__name__}: {where}: {first['msg']}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        ) from None


def _reasons(fields: Mapping[str, list[str]]) -> list[str]:
    """Field errors as reasons: the name's own as they are, the others prefixed with the field."""
    return [
        message if field in ("name", "non_field_errors") else f"{field}: {message}"
        for field, messages in fields.items()
        for message in messages
    ]


def _show(value: Any) -> str:
    """A short, safe rendering of a refused argument."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
