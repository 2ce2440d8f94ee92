"""Sending the client's requests: authentication, retries, the deadline and the size cap.

GET and DELETE are retried on 429, 502, 503, 504 and network errors, POST only where the server
certainly did not act on it; waits follow Retry-After, else exponential backoff with full jitter.
The API key travels only in the ``X-Avala-Api-Key`` header of requests to the base URL's origin,
and is cut out of any error text. See ``docs/contracts.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Generator, Mapping
from datetime import datetime
from typing import Any, TypeVar

import anyio
import httpx

from avala_mcp import __version__
from avala_mcp.client.errors import (
    RETRYABLE_STATUSES,
    AvalaError,
    NetworkError,
    ServerError,
    error_from_response,
    one_line,
)
from avala_mcp.contract import API_KEY_HEADER
from avala_mcp.redaction import Redactor
from avala_mcp.settings import check_api_key, check_base_url

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=AvalaError)

#: Largest answer read from the API. A page of MAX_LIMIT items with rich metadata fits; a proxy
#: or a broken server streaming without end would otherwise fill memory until the timeout.
MAX_RESPONSE_BYTES = 32 * 2**20

# Failures that happen before the request reaches the server, so even a POST may be repeated.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
# Failures that no retry can fix: the request itself cannot be sent.
_UNSENDABLE = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
# Headers that describe the body as it came over the wire, not the decoded bytes kept of it.
_WIRE = frozenset({b"content-encoding", b"content-length", b"transfer-encoding"})


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and effective port: what must match for the key to be sent."""
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default_port


class ApiKeyAuth(httpx.Auth):
    """Adds the API key header, and only to requests for the base URL's origin."""

    def __init__(self, api_key: str, origin: tuple[str, str, int | None]) -> None:
        self._api_key = api_key
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if origin(request.url) == self._origin:
            request.headers[API_KEY_HEADER] = self._api_key
        yield request

    def __repr__(self) -> str:
        return "ApiKeyAuth(api_key=[redacted])"


class Transport:
    """The rules for sending requests to the base URL, on one pooled ``httpx.AsyncClient``.

    The parameters are :class:`~avala_mcp.client.AvalaClient`'s; it documents them. The pool is
    ``http``; its owner opens and closes it.
    """

    def __init__(
        self,
        api_key: str | None,
        base_url: str,
        *,
        timeout: float,
        max_retries: int,
        max_retry_wait: float,
        backoff_base: float,
        backoff_max: float,
        transport: httpx.AsyncBaseTransport | None,
        sleep: Callable[[float], Awaitable[None]],
        jitter: Callable[[], float],
        now: Callable[[], datetime],
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be a whole number >= 0, got {max_retries!r}")
        if timeout <= 0 or max_retry_wait < 0 or backoff_base < 0 or backoff_max < 0:
            raise ValueError("timeout must be > 0 and the retry waits >= 0")
        self.base_url = check_base_url(base_url)
        self._api_key: str | None = None
        if api_key:
            try:
                self._api_key = check_api_key(api_key)
            except ValueError as error:
                raise ValueError(f"api_key is malformed: {error}") from None
        # Made once: it derives every escaped form of the key, for each error this sees.
        self._redactor = Redactor([self._api_key])
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_retry_wait = max_retry_wait
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._sleep = sleep
        self._jitter = jitter
        self._now = now
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=ApiKeyAuth(self._api_key, origin(self.base_url)) if self._api_key else None,
            headers={"Accept": "application/json", "User-Agent": f"avala-mcp/{__version__}"},
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"Transport(base_url={str(self.base_url)!r})"

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        gone_if_retried: bool = False,
        reads_only: bool = False,
    ) -> httpx.Response:
        """Send a request, retrying where that is safe; raise an AvalaError if it fails.

        With ``gone_if_retried``, a 404 after an attempt that may have reached the server counts
        as success: that attempt did the work (a DELETE whose answer was lost). ``reads_only``
        says a POST changes nothing (a query too large for a URL), so it is retried like a GET.
        """
        idempotent = reads_only or method in ("GET", "HEAD", "DELETE")
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
                error = self._scrub(
                    error_from_response(response, now=self._now, redactor=self._redactor)
                )
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
        request = self.http.build_request(method, path, params=params, json=body)
        with anyio.move_on_after(self._timeout):
            response = await self.http.send(request, stream=True)
            try:
                return await _read_capped(response)
            finally:
                await response.aclose()
        raise httpx.ReadTimeout(f"no complete answer within {self._timeout:g} s")

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(max, base * 2**attempt))."""
        ceiling = min(self._backoff_max, self._backoff_base * 2.0**attempt)
        return self._jitter() * ceiling

    def _network_error(self, failure: httpx.TransportError) -> NetworkError:
        host = self.base_url.host
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
        redactor = self._redactor
        if not redactor:
            return error
        error.message = redactor.text(error.message)
        error.args = (error.message,)
        if error.fields:
            error.fields = redactor.value(error.fields)
        return error


async def _read_capped(response: httpx.Response) -> httpx.Response:
    """``response`` with its whole body read, refusing one past the cap as the bytes arrive.

    ``aread()`` would check nothing until the end, so the (decoded) body is read here and a
    response is made of it. That one holds the decoded bytes, so it must not claim the wire's
    ``Content-Encoding`` (httpx would decode them again) nor its length or framing.
    """
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
    return httpx.Response(
        response.status_code,
        headers=[(key, value) for key, value in response.headers.raw if key.lower() not in _WIRE],
        content=b"".join(chunks),
        request=response.request,
        extensions=response.extensions,
        default_encoding=response.default_encoding,
    )


def _too_large(response: httpx.Response) -> ServerError:
    return ServerError(
        f"the API's answer is larger than {MAX_RESPONSE_BYTES // 2**20} MiB; not read",
        status=response.status_code,
    )
