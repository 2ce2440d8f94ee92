"""Bounds on the HTTP transports, applied in front of the SDK's apps (README, "Security").

Every session and every event stream has one: sessions in all and per client (a new one takes
the place of an idle one, see :class:`~avala_mcp.server.limits.SessionTable`), an idle timeout,
open streams in all and per client, and on SSE a bound on what a session may leave unread.
Refusals are a 503 with ``Retry-After`` and a JSON body saying which bound was met.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Sequence

import anyio
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.shared.inbound import MCP_METHOD_HEADER, MCP_PROTOCOL_VERSION_HEADER
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from avala_mcp.server.limits import SessionTable, Slots, client_of
from avala_mcp.settings import HttpLimits

logger = logging.getLogger(__name__)

#: Messages an SSE session may post while its event stream is blocked (its client is not
#: reading) beyond what the stream has delivered since; the next one closes the session.
MAX_SSE_BACKLOG = 64
RETRY_AFTER_SECONDS = 10

_LISTEN_METHOD = "subscriptions/listen"
_UNREAD = "session closed: its event stream is not being read"
_SSE_SESSION_ID = re.compile(rb"session_id=([0-9a-f]{32})")


class StreamableHttpBounds:
    """Sessions and streams of the streamable HTTP app, bounded.

    A legacy (``initialize``) request without a session id opens a session, so it is admitted
    by the session table first; requests of the 2026 protocol open none. A GET stream, or a
    ``subscriptions/listen`` request, holds a stream slot while it is open. Without sessions
    (``--stateless``) a GET stream could never carry anything, so it is refused with 405.
    """

    def __init__(self, app: ASGIApp, path: str, limits: HttpLimits, *, stateless: bool) -> None:
        self.app = app
        self._path = path
        self._stateless = stateless
        self._sessions = SessionTable(limits)
        self._streams = Slots(limits.max_streams, limits.max_per_client, "streams")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self._path:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        version = headers.get(MCP_PROTOCOL_VERSION_HEADER)
        # The SDK's own routing: only a handshake-era version (or none) reaches sessions.
        legacy = version is None or version in HANDSHAKE_PROTOCOL_VERSIONS
        method = scope["method"]
        if method == "GET" and self._stateless and legacy:
            await respond_json(send, 405, {"error": "no GET stream without sessions"})
            return
        is_stream = method == "GET" or (
            method == "POST" and headers.get(MCP_METHOD_HEADER) == _LISTEN_METHOD
        )
        client = client_of(scope)
        if is_stream and (refusal := self._streams.take(client)) is not None:
            await _unavailable(send, refusal)
            return
        try:
            if legacy and not self._stateless:
                await self._with_session(scope, receive, send, headers, client)
            else:
                await self.app(scope, receive, send)
        finally:
            if is_stream:
                self._streams.give_back(client)

    async def _with_session(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, client: str
    ) -> None:
        session_id = headers.get(MCP_SESSION_ID_HEADER)
        if session_id is not None:
            self._sessions.enter(session_id)
            status = None
            try:
                status = await _answer(self.app, scope, receive, send)
            finally:
                # 404: the SDK no longer knows it (idle, crashed); a DELETE that succeeded.
                ended = status == 404 or (scope["method"] == "DELETE" and status == 200)
                self._sessions.leave(session_id, ended=ended)
            return
        if scope["method"] != "POST":  # only a POST (an initialize) can open a session
            await self.app(scope, receive, send)
            return
        admission = self._sessions.admit(client)
        for victim in admission.evict:
            await self._close(victim, scope)
        if admission.refusal is not None:
            logger.warning("refusing a new session: %s", admission.refusal)
            await _unavailable(send, admission.refusal)
            return
        opened: list[str] = []

        async def note_session(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                opened.extend(
                    value.decode("latin-1")
                    for name, value in message.get("headers", [])
                    if name.lower() == MCP_SESSION_ID_HEADER.encode()
                )
            await send(message)

        try:
            await self.app(scope, receive, note_session)
        finally:
            self._sessions.opened(client, opened[0] if opened else None)

    async def _close(self, session_id: str, request: Scope) -> None:
        """End a session as its client would, with a DELETE through the SDK's own app."""
        logger.info("closing idle session %s to make room for a new one", session_id[:64])
        scope = {
            **request,
            "method": "DELETE",
            "query_string": b"",
            "headers": [(MCP_SESSION_ID_HEADER.encode(), session_id.encode("latin-1"))],
        }
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def discard(message: Message) -> None:
            return None

        with anyio.CancelScope(shield=True):
            await self.app(scope, receive, discard)


class _SseStream:
    """One SSE session's event stream: whether a send is blocked, the backlog, and a way to end
    it as if its client had left."""

    def __init__(self) -> None:
        self.session_id: str | None = None
        self.sending = (
            0  # sends in progress (events, pings); blocked while the client is not reading
        )
        self.backlog = 0
        self.closed = False
        self._waiting: anyio.CancelScope | None = None

    def close(self) -> None:
        """End the stream: the app's wait for the client's next message sees a disconnect."""
        self.closed = True
        if self._waiting is not None:
            self._waiting.cancel()

    async def receive(self, receive: Receive) -> Message:
        """``receive``, or a disconnect once the stream is closed."""
        if not self.closed:
            with anyio.CancelScope() as self._waiting:
                return await receive()
        return {"type": "http.disconnect"}


class SseBounds:
    """SSE sessions bounded in all and per client, and each session's unread backlog.

    A session is its GET stream. While that stream's send is blocked (the client is not
    reading), every message posted to the session counts against its backlog and every event
    delivered counts off; past :data:`MAX_SSE_BACKLOG` the session is closed, so the work and
    answers queued for a client that never reads stay bounded.
    """

    def __init__(self, app: ASGIApp, sse_path: str, message_path: str, limits: HttpLimits) -> None:
        self.app = app
        self._sse_path = sse_path
        self._message_path = message_path
        self._sessions = Slots(limits.max_sessions, limits.max_per_client, "sessions")
        self._streams = Slots(limits.max_streams, limits.max_per_client, "streams")
        self._open: dict[str, _SseStream] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == self._sse_path:
            await self._stream(scope, receive, send)
        elif scope["type"] == "http" and scope["path"].startswith(self._message_path):
            await self._message(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = client_of(scope)
        refusal = self._sessions.take(client)
        if refusal is not None:
            await _unavailable(send, refusal)
            return
        refusal = self._streams.take(client)
        if refusal is not None:
            self._sessions.give_back(client)
            await _unavailable(send, refusal)
            return
        stream = _SseStream()

        async def counted(message: Message) -> None:
            if stream.closed:
                return  # the client stopped reading: nothing more can reach it
            if stream.session_id is None and (found := _endpoint_session(message)):
                stream.session_id = found
                self._open[found] = stream
            stream.sending += 1
            try:
                await send(message)
            finally:
                stream.sending -= 1
            stream.backlog = max(stream.backlog - 1, 0)

        async def receive_until_closed() -> Message:
            return await stream.receive(receive)

        try:
            await self.app(scope, receive_until_closed, counted)
        finally:
            if stream.session_id is not None:
                self._open.pop(stream.session_id, None)
            self._streams.give_back(client)
            self._sessions.give_back(client)

    async def _message(self, scope: Scope, receive: Receive, send: Send) -> None:
        stream = self._open.get(_sse_session_id(scope))
        if stream is not None and stream.closed:
            # Closed here; until its stream has wound down, the SDK would still take messages.
            await respond_json(send, 404, {"error": _UNREAD})
            return
        if stream is not None and stream.sending > 0:
            stream.backlog += 1
            if stream.backlog > MAX_SSE_BACKLOG:
                logger.warning(
                    "closing SSE session %s: its client has left over %d messages unread",
                    stream.session_id,
                    MAX_SSE_BACKLOG,
                )
                stream.close()
                await respond_json(send, 503, {"error": _UNREAD}, [(b"connection", b"close")])
                return
        answered = False

        async def watch(message: Message) -> None:
            nonlocal answered
            answered = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            # The SDK answers 202 and then hands the message on; when the session ended in
            # between (closed here, or its client left) there is no one left to hand it to.
            if not answered:
                raise
            logger.debug("a message arrived as its SSE session ended; dropped")


def _endpoint_session(message: Message) -> str | None:
    """The session id an SSE stream's first event (``endpoint``) tells its client."""
    if message["type"] != "http.response.body":
        return None
    found = _SSE_SESSION_ID.search(message.get("body", b""))
    return found[1].decode() if found else None


def _sse_session_id(scope: Scope) -> str:
    """The session a message is posted to, as the SDK reads it; "" if it names none."""
    raw = QueryParams(scope.get("query_string", b"")).get("session_id", "")
    try:
        return uuid.UUID(hex=raw).hex
    except ValueError:
        return ""


async def _answer(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> int | None:
    """Run ``app`` on one request; the status it answered with (None if it sent none)."""
    status: int | None = None

    async def watch(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    await app(scope, receive, watch)
    return status


async def _unavailable(send: Send, reason: str) -> None:
    retry = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
    await respond_json(send, 503, {"error": f"{reason}; try again later"}, retry)


async def respond_json(
    send: Send, status: int, body: dict[str, str], headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Answer a request with ``body`` as JSON."""
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
