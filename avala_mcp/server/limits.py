"""The bookkeeping behind the HTTP transports' bounds: who a request counts against, open
streams in all and per client, and the table of streamable HTTP sessions that decides which
session makes room for a new one.

No I/O here: :mod:`avala_mcp.server.bounds` applies these decisions to requests.
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import Scope

from avala_mcp.settings import HttpLimits

#: Requests a session may make after it opened and still count as never used: the client's
#: ``notifications/initialized``. A flood of bare handshakes is made of such sessions.
_HANDSHAKE_REQUESTS = 1


def client_of(scope: Scope) -> str:
    """The client a request counts against: its address, an IPv6 one by its /64 (one host's
    share of a network), an IPv4-mapped one as the IPv4 address it is."""
    client = scope.get("client")
    host = str(client[0]) if client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


class Slots:
    """Things open at once (streams, SSE sessions), bounded in all and per client."""

    def __init__(self, total: int, per_client: int, noun: str) -> None:
        self._total = total
        self._per_client = per_client
        self._noun = noun
        self._open: Counter[str] = Counter()

    def take(self, client: str) -> str | None:
        """Take one for ``client``; None when taken, else why not (for a 503)."""
        if self._open[client] >= self._per_client:
            return f"too many open {self._noun} from this client ({self._per_client})"
        if self._open.total() >= self._total:
            return f"too many open {self._noun} ({self._total})"
        self._open[client] += 1
        return None

    def give_back(self, client: str) -> None:
        """Return one that :meth:`take` gave ``client``."""
        self._open[client] -= 1
        if self._open[client] <= 0:
            del self._open[client]


@dataclass
class _Session:
    client: str
    last_active: float
    in_flight: int = 0
    requests: int = 0


@dataclass
class Admission:
    """What opening one more session takes: the sessions to close first, or why it cannot."""

    evict: list[str] = field(default_factory=list)
    refusal: str | None = None


class SessionTable:
    """Streamable HTTP sessions as this server's front sees them, and the rule that keeps them
    bounded without locking anyone out.

    A new session that would pass a bound takes the place of an idle one (no request in
    flight, no open stream): the client's own when it is at its share, else one of the client
    holding the most. Sessions never used past the handshake go first, then the least recently
    active. Only when none is idle is the newcomer refused. Sessions idle past the timeout are
    closed here too, so this table and the SDK's agree.
    """

    def __init__(self, limits: HttpLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._held: Counter[str] = Counter()  # sessions per client, opening ones included
        self._opening = 0  # admitted, session id not yet known

    def __len__(self) -> int:
        return len(self._sessions)

    def admit(self, client: str) -> Admission:
        """Reserve room for a session of ``client``; call :meth:`opened` once it is answered."""
        admission = Admission(evict=[self._forget(victim) for victim in self._expired()])
        if self._held[client] >= self._limits.max_per_client:
            victim = self._victim(lambda session: session.client == client)
            refusal = (
                f"too many open sessions from this client ({self._limits.max_per_client}), "
                "none of them idle"
            )
        elif len(self._sessions) + self._opening >= self._limits.max_sessions:
            victim = self._victim(lambda session: True)
            refusal = f"too many open sessions ({self._limits.max_sessions}), none of them idle"
        else:
            victim = refusal = None
        if victim is not None:
            admission.evict.append(self._forget(victim))
        elif refusal is not None:
            admission.refusal = refusal
            return admission
        self._held[client] += 1
        self._opening += 1
        return admission

    def opened(self, client: str, session_id: str | None) -> None:
        """The end of an admitted request: the session it opened, or None if it opened none."""
        self._opening -= 1
        if session_id is None:
            self._release(client)
        else:
            self._sessions[session_id] = _Session(client, self._clock())

    def enter(self, session_id: str) -> None:
        """A request of ``session_id`` starts (a stream counts as one until it closes)."""
        session = self._sessions.get(session_id)
        if session is not None:
            session.in_flight += 1
            session.requests += 1
            session.last_active = self._clock()

    def leave(self, session_id: str, *, ended: bool) -> None:
        """A request of ``session_id`` is answered; ``ended`` when the session is gone after it."""
        session = self._sessions.get(session_id)
        if session is None:
            return
        if ended:
            self._forget(session_id)
            return
        session.in_flight -= 1
        session.last_active = self._clock()

    def _forget(self, session_id: str) -> str:
        self._release(self._sessions.pop(session_id).client)
        return session_id

    def _release(self, client: str) -> None:
        self._held[client] -= 1
        if self._held[client] <= 0:
            del self._held[client]

    def _victim(self, eligible: Callable[[_Session], bool]) -> str | None:
        """The idle, eligible session to close first: of the client holding the most, never
        used past the handshake, least recently active."""
        idle = [
            (
                -self._held[session.client],
                session.requests > _HANDSHAKE_REQUESTS,
                session.last_active,
                session_id,
            )
            for session_id, session in self._sessions.items()
            if session.in_flight == 0 and eligible(session)
        ]
        return min(idle)[-1] if idle else None

    def _expired(self) -> list[str]:
        oldest = self._clock() - self._limits.session_idle_timeout
        return [
            session_id
            for session_id, session in self._sessions.items()
            if session.in_flight == 0 and session.last_active < oldest
        ]
