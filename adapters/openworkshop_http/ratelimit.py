"""A per-client rate limit (a token bucket per client address) for the endpoints that can make
the server call Valve. In-process: each server process keeps its own buckets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

__all__ = ["ClientRateLimit"]

MAX_CLIENTS: Final = 50_000
"""Buckets kept before full ones are forgotten (a full bucket is the same as no bucket)."""


class ClientRateLimit:
    """``per_minute`` requests a minute per client, in bursts of up to ``per_minute``.

    ``per_minute`` of 0 or less turns the limit off. ``clock`` gives monotonic seconds.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        """client → (tokens, when they were counted)"""

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def take(self, client: str) -> float | None:
        """Spend one token of ``client``'s; ``None`` if allowed, else the seconds to wait."""
        if not self.enabled:
            return None
        now = self._clock()
        capacity = float(self.per_minute)
        rate = capacity / 60.0
        tokens, then = self._buckets.get(client, (capacity, now))
        tokens = min(capacity, tokens + (now - then) * rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / rate
        self._buckets[client] = (tokens - 1.0, now)
        if len(self._buckets) > MAX_CLIENTS:
            self._forget_full(now, capacity, rate)
        return None

    def _forget_full(self, now: float, capacity: float, rate: float) -> None:
        full = [c for c, (t, then) in self._buckets.items() if t + (now - then) * rate >= capacity]
        for client in full:
            del self._buckets[client]
        if len(self._buckets) > MAX_CLIENTS:  # a flood of distinct addresses: start over
            self._buckets.clear()
