"""Connections only to public addresses, checked on the address actually connected to.

:class:`GuardedTransport` is an httpx transport whose network backend resolves each host itself,
refuses the connection if any of its addresses is loopback, private, link-local, multicast,
unspecified or reserved (IPv4 or IPv6, IPv4-mapped and NAT64 ones by the IPv4 inside), and then
connects to an address it checked. Nothing resolves the name a second time, so DNS rebinding (a
public answer for the check, a private one for the connection) has nothing to slip through.
TLS still verifies the certificate for the host name. No proxy is used: it would be the one
connecting.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import anyio
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

#: Every failure of a request through the guarded transport, besides httpx's own errors.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    httpcore.NetworkError,
    httpcore.TimeoutException,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_KINDS = (
    ("is_unspecified", "unspecified"),
    ("is_loopback", "loopback"),
    ("is_link_local", "link-local"),
    ("is_multicast", "multicast"),
    ("is_reserved", "reserved"),
    ("is_private", "private"),
    ("is_site_local", "site-local"),
)


class ForbiddenAddress(httpcore.ConnectError):
    """A connection refused before it was made; the message says to what and why."""


def refusal(address: IPAddress) -> str | None:
    """What kind of address this is, if connecting to it is refused (``"loopback"``, ...);
    None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return refusal(inner)
    for attribute, kind in _KINDS:
        if getattr(address, attribute, False):
            return kind
    # What the checks above do not name, such as 100.64.0.0/10 (carrier-grade NAT).
    return None if address.is_global else "non-public"


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` has, in the resolver's order (an address resolves to itself)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend (``inner``, by default httpcore's anyio one) that connects only to
    addresses ``refuse`` lets through, as ``resolver`` finds them.

    The three are parameters so that a test can point a name at a loopback listener, or see
    that nothing is connected to, without any traffic leaving the machine.
    """

    def __init__(
        self,
        resolver: Resolver = resolve,
        refuse: Callable[[IPAddress], str | None] = refusal,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._resolver = resolver
        self._refuse = refuse
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = [ipaddress.ip_address(a) for a in await self._resolver(host, port)]
        except (OSError, ValueError):
            raise ForbiddenAddress(f"{host} could not be resolved") from None
        if not addresses:
            raise ForbiddenAddress(f"{host} has no address")
        for address in addresses:
            kind = self._refuse(address)
            if kind is not None:
                # One bad address refuses the name: it may be the one a later lookup gives.
                raise ForbiddenAddress(f"{host} resolves to a {kind} address ({address})")
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as error:
                failure = error
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ForbiddenAddress("Unix sockets are never connected to")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Body(httpx.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over :class:`GuardedBackend` (HTTP/1.1, certificates verified).

    Its failures are httpx's errors or :data:`TRANSPORT_ERRORS` (a refused address is a
    :class:`ForbiddenAddress`).
    """

    def __init__(
        self,
        backend: httpcore.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            network_backend=backend or GuardedBackend(),
            max_connections=20,
            keepalive_expiry=5.0,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        response = await self._pool.handle_async_request(
            httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
        )
        return httpx.Response(
            response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()
