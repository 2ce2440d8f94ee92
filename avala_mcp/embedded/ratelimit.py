"""Per-key rate limiting: a token bucket per caller.

A caller may spend up to ``per_minute`` requests at once (the burst allowance), and regains them
at ``per_minute`` per minute. Every decision carries the ``X-RateLimit-*`` headers to send.

A bucket that has refilled to capacity is the same as no bucket, so it is dropped; and there are
never more than ``max_buckets``: past that, the least recently used one goes first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
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

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = 10_000,
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"rate limit must be at least 1 per minute, got {per_minute}")
        if max_buckets < 1:
            raise ValueError(f"max_buckets must be at least 1, got {max_buckets}")
        self.per_minute = per_minute
        self.max_buckets = max_buckets
        self._rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        # identity -> (tokens, as of), least recently used first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many buckets are held (callers seen recently whose bucket is not full)."""
        with self._lock:
            return len(self._buckets)

    def _tokens(self, bucket: tuple[float, float], now: float) -> float:
        tokens, as_of = bucket
        return min(float(self.per_minute), tokens + (now - as_of) * self._rate)

    def _evict(self, now: float) -> None:
        """Drop full buckets from the least recently used end, and any beyond the bound.

        A bucket untouched for a whole minute is full, so whatever stays was used within the
        last minute (or is one of the ``max_buckets`` most recent).
        """
        buckets = self._buckets
        while buckets:
            oldest, bucket = next(iter(buckets.items()))
            if len(buckets) < self.max_buckets and self._tokens(bucket, now) < self.per_minute:
                break
            del buckets[oldest]

    def take(self, identity: str) -> Decision:
        """Spend one token of ``identity``'s bucket if it has one."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.pop(identity, None)
            self._evict(now)
            tokens = float(self.per_minute) if bucket is None else self._tokens(bucket, now)
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
