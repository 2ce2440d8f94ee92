"""The token bucket: burst, refill, and the headers it reports."""

from __future__ import annotations

import pytest

from avala_mcp.embedded.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refusal_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock)  # one token per second
    decisions = [limiter.take("k") for _ in range(61)]
    assert all(decision.allowed for decision in decisions[:60])
    refused = decisions[60]
    assert not refused.allowed
    assert refused.headers()["Retry-After"] == "1"
    assert refused.headers()["X-RateLimit-Remaining"] == "0"
    assert refused.headers()["X-RateLimit-Reset"] == "60"
    clock.now += 1.0
    assert limiter.take("k").allowed
    assert not limiter.take("k").allowed
    clock.now += 3600
    again = limiter.take("k")
    assert again.allowed
    assert again.remaining == 59
    assert "Retry-After" not in again.headers()


def test_callers_have_separate_buckets() -> None:
    limiter = RateLimiter(1, clock=FakeClock())
    assert limiter.take("a").allowed
    assert not limiter.take("a").allowed
    assert limiter.take("b").allowed


def test_retry_after_reflects_a_slow_rate() -> None:
    limiter = RateLimiter(2, clock=FakeClock())  # a token every 30 s
    limiter.take("k")
    limiter.take("k")
    assert limiter.take("k").retry_after == 30


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(0)


def test_full_buckets_are_dropped() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock)
    for n in range(1000):
        assert limiter.take(f"caller-{n}").allowed
        clock.now += 1.0
    # A bucket left alone for a minute has refilled: only the last minute's callers are held.
    assert len(limiter) <= 61
    clock.now += 60
    limiter.take("late")
    assert len(limiter) == 1


def test_buckets_are_bounded_and_the_least_recently_used_goes_first() -> None:
    limiter = RateLimiter(5, clock=FakeClock(), max_buckets=10)
    limiter.take("busy")
    for n in range(100):
        limiter.take(f"caller-{n}")
        limiter.take("busy")
        assert len(limiter) <= 10
    # "busy" was used after every other caller, so it kept its bucket (and ran dry).
    assert not limiter.take("busy").allowed
