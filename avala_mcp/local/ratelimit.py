"""Per-key rate limiting: a token bucket per caller.

A caller may spend up to ``per_minute`` requests at once (the burst allowance), and regains them
at ``per_minute`` per minute. Every decision carries the ``X-RateLimit-*`` headers to send.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """Whether a request may proceed, and the headers that say where its caller stands."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-*`` headers, plus ``Retry-After`` when refused."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RateLimiter:
    """Token buckets keyed by caller identity."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"rate limit must be at least 1 per minute, got {per_minute}")
        self.per_minute = per_minute
        self._rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # identity -> (tokens, as of)
        self._lock = threading.Lock()

    def take(self, identity: str) -> Decision:
        """Spend one token of ``identity``'s bucket if it has one."""
        with self._lock:
            now = self._clock()
            tokens, as_of = self._buckets.get(identity, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - as_of) * self._rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[identity] = (tokens, now)
        missing = self.per_minute - tokens
        return Decision(
            allowed=allowed,
            limit=self.per_minute,
            remaining=math.floor(tokens),
            reset_seconds=math.ceil(missing / self._rate),
            retry_after=0 if allowed else max(1, math.ceil((1.0 - tokens) / self._rate)),
        )
