"""The gate every request passes before routing: rate limit, then API key."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from avala_mcp.contract import API_KEY_HEADER
from avala_mcp.embedded.access import USER_SCOPE_KEY, run
from avala_mcp.embedded.errors import INVALID_KEY
from avala_mcp.embedded.ratelimit import RateLimiter
from avala_mcp.embedded.store import Store, hash_key


class Gate:
    """ASGI middleware: authenticates, rate-limits, and stamps rate-limit headers.

    A valid key has its own bucket; a request without one (a missing, mistyped or guessed key)
    is charged to its client address, so neither a flood of made-up keys nor the unauthenticated
    get a fresh allowance per request.
    """

    def __init__(
        self,
        app: ASGIApp,
        store: Store,
        limiter: RateLimiter | None,
        session_keys: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.limiter = limiter
        # Keys are never revoked, so a key once found stays valid: skip the database next time.
        # Session keys (key -> user id) are known only here, in memory, and never stored.
        self._known: dict[str, int] = dict(session_keys or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = Headers(scope=scope).get(API_KEY_HEADER)
        user_id = await self._authenticate(key) if key else None
        extra: dict[str, str] = {}
        if self.limiter is not None:
            if key and user_id is not None:
                identity = f"key:{hash_key(key)}"
            else:
                client = scope.get("client")
                identity = f"client:{client[0] if client else '?'}"
            decision = self.limiter.take(identity)
            extra = decision.headers()
            if not decision.allowed:
                detail = (
                    "Request was throttled. Expected available in "
                    f"{decision.retry_after} second{'s' if decision.retry_after != 1 else ''}."
                )
                await JSONResponse({"detail": detail}, 429, headers=extra)(scope, receive, send)
                return
        if user_id is None:
            await JSONResponse(INVALID_KEY, 401, headers=extra)(scope, receive, send)
            return
        scope[USER_SCOPE_KEY] = user_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _authenticate(self, key: str) -> int | None:
        known = self._known.get(key)
        if known is not None:
            return known
        user_id = await run(self.store.user_for_key, key)
        if user_id is not None:
            self._known[key] = user_id
        return user_id
