"""The ASGI app behind the HTTP transports: the SDK's SSE or streamable-HTTP app, bounded
(:mod:`avala_mcp.server.bounds`), behind a guard that answers a public ``GET /healthz`` and checks
Host, Origin and the bearer token on everything else.

Kept apart from ``serve`` so tests can run the exact app a user gets under their own uvicorn.
"""

from __future__ import annotations

import hmac
import socket
from collections.abc import Sequence
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from avala_mcp.server.bounds import SseBounds, StreamableHttpBounds, respond_json
from avala_mcp.settings import HttpLimits

HttpTransport = Literal["sse", "streamable-http"]

HEALTH_PATH = "/healthz"
MCP_PATHS = {"sse": "/sse", "streamable-http": "/mcp"}
SSE_MESSAGE_PATH = "/messages/"

_WILDCARD_BINDS = {"0.0.0.0", "::", ""}  # noqa: S104 - recognising a wildcard, not binding one
_LOOPBACK_PATTERNS = ["127.0.0.1", "localhost", "[::1]"]


def transport_security(host: str, *, also: Sequence[str] = ()) -> TransportSecuritySettings:
    """DNS-rebinding protection: accept only Host and Origin headers naming this server.

    Loopback names are always accepted (a local proxy or client), and so is the bound address
    (any loopback one too, 127.0.0.2 as much as 127.0.0.1) and the addresses in ``also``; a
    wildcard bind adds the machine's host name and the addresses it resolves to.
    """
    names = list(_LOOPBACK_PATTERNS)
    bound = host.strip("[]")
    if bound in _WILDCARD_BINDS:
        names += _machine_names()
    else:
        names.append(_host_header_form(bound))
    names += [_host_header_form(address.strip("[]")) for address in also]
    names = list(dict.fromkeys(names))
    hosts = [pattern for name in names for pattern in (name, f"{name}:*")]
    origins = [
        pattern
        for name in names
        for scheme in ("http", "https")
        for pattern in (f"{scheme}://{name}", f"{scheme}://{name}:*")
    ]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def _host_header_form(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _machine_names() -> list[str]:
    """This machine's host name and, as far as the resolver knows, its addresses."""
    name = socket.gethostname()
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:  # an unresolvable host name still leaves the name itself
        return [name]
    return [name, *(_host_header_form(str(info[4][0])) for info in infos)]


class GuardMiddleware:
    """In front of the SDK's app: ``GET /healthz`` answered here, then for everything else the
    Host/Origin check (421/403) and the bearer token (401).

    The Host check accepts, besides the names of :func:`transport_security`, the address the
    request arrived at: an address this server is bound to names it, whatever the bind (a
    rebinding attack needs a host *name*). The SDK's own check is off, as this one is stricter
    than the SDK's list can say. Pure ASGI (no ``BaseHTTPMiddleware``) so SSE streams pass
    unbuffered; lifespan events pass untouched so the SDK's session manager starts.
    """

    def __init__(self, app: ASGIApp, host: str, token: str | None) -> None:
        self.app = app
        self._host = host
        # One check per local address requests arrive at: as many as the machine has.
        self._checks: dict[str, TransportSecurityMiddleware] = {}
        self._expected = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            await respond_json(send, 200, {"status": "ok"})
            return
        # Content-Type is left to the SDK, which knows which requests need JSON.
        refusal = await self._check_for(scope).validate_request(Request(scope), is_post=False)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if self._expected is not None and not self._authorized(scope):
            await respond_json(
                send, 401, {"error": "unauthorized"}, [(b"www-authenticate", b"Bearer")]
            )
            return
        await self.app(scope, receive, send)

    def _check_for(self, scope: Scope) -> TransportSecurityMiddleware:
        server = scope.get("server")
        local = str(server[0]) if server else ""
        check = self._checks.get(local)
        if check is None:
            also = [local] if local else []
            check = TransportSecurityMiddleware(transport_security(self._host, also=also))
            self._checks[local] = check
        return check

    def _authorized(self, scope: Scope) -> bool:
        assert self._expected is not None
        header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        scheme, _, token = bytes(header).partition(b" ")
        # compare_digest on the token itself, always run, so timing does not reveal how much of a
        # guess matched; the scheme is not secret.
        token_ok = hmac.compare_digest(token.strip(), self._expected)
        return scheme.lower() == b"bearer" and token_ok


class SingleResponse:
    """Keeps to one response per request where the SDK's SSE endpoint sends two.

    That endpoint returns an empty response once its event stream ends. When the stream ends
    because the server is shutting down, the stream was never completed and uvicorn logs a
    traceback for the second response; here the second response's start is dropped and its
    (empty) body completes the stream instead.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = completed = False

        async def send_once(message: Message) -> None:
            nonlocal started, completed
            if message["type"] == "http.response.start":
                if started:
                    return
                started = True
            elif message["type"] == "http.response.body":
                if completed:
                    return
                completed = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, send_once)


def build_http_app(
    server: MCPServer[Any],
    transport: HttpTransport,
    *,
    host: str = "127.0.0.1",
    stateless: bool = False,
    auth_token: str | None = None,
    limits: HttpLimits | None = None,
) -> ASGIApp:
    """The app ``avala-mcp serve --transport sse|streamable-http`` runs under uvicorn."""
    limits = limits or HttpLimits()
    # The guard checks Host and Origin before the SDK sees a request (see GuardMiddleware).
    checked = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    if transport == "sse":
        sse = server.sse_app(
            sse_path=MCP_PATHS["sse"],
            message_path=SSE_MESSAGE_PATH,
            transport_security=checked,
            host=host,
        )
        app: ASGIApp = SseBounds(SingleResponse(sse), MCP_PATHS["sse"], SSE_MESSAGE_PATH, limits)
    else:
        path = MCP_PATHS["streamable-http"]
        streamable = server.streamable_http_app(
            streamable_http_path=path,
            stateless_http=stateless,
            transport_security=checked,
            host=host,
            session_idle_timeout=limits.session_idle_timeout,
            # A backstop: the bounds in front admit sessions first, and close one they evict
            # just before the next opens, so the SDK's table can briefly hold a few more.
            max_sessions=2 * limits.max_sessions,
        )
        app = StreamableHttpBounds(streamable, path, limits, stateless=stateless)
    return GuardMiddleware(app, host, auth_token)
