"""A per-client rate limit (a token bucket per client address) for the endpoints that can make
the server call Valve. In-process: each server process keeps its own buckets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

__all__ = ["ClientRateLimit"]

MAX_CLIENTS: Final = 50_000
"""Buckets kept; past it the client seen longest ago is forgotten first (a bucket unused for
a minute is full again, the same as no bucket)."""


class ClientRateLimit:
    """``per_minute`` requests a minute per client, in bursts of up to ``per_minute``.

    ``per_minute`` of 0 or less turns the limit off. ``clock`` gives monotonic seconds.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        """client → (tokens, when they were counted), the client seen longest ago first"""

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
        # popped and put back: the dict stays ordered by when each client was last seen
        tokens, then = self._buckets.pop(client, (capacity, now))
        tokens = min(capacity, tokens + (now - then) * rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / rate
        self._buckets[client] = (tokens - 1.0, now)
        while len(self._buckets) > MAX_CLIENTS:  # a flood of addresses: forget the oldest
            del self._buckets[next(iter(self._buckets))]
        return None
