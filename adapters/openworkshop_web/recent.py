"""``Recent``: values the pages read on every request but that change rarely (the games and a
game's tags offered as filters), kept for a few seconds of the workshop's clock, and never
across a change of the catalog's version when the storage has one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Recent"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The value for a key, loaded again once it is ``max_age`` seconds old (by ``clock``, a
    monotonic clock) or once the catalog's ``version`` differs from the one it was loaded
    under; at most ``size`` keys are kept (the oldest loaded goes first)."""

    def __init__(self, max_age: float, clock: Callable[[], float], *, size: int = 256) -> None:
        self.max_age = max_age
        self.clock = clock
        self.size = size
        self._values: dict[K, tuple[float, Hashable | None, V]] = {}

    async def get(
        self, key: K, load: Callable[[], Awaitable[V]], version: Hashable | None = None
    ) -> V:
        """The value; ``version`` (taken before ``load`` would run): the catalog's version
        the caller's other reads see, so a page that is kept never mixes old filters with
        new rows."""
        now = self.clock()
        kept = self._values.get(key)
        if kept is not None and now - kept[0] < self.max_age and kept[1] == version:
            return kept[2]
        value = await load()
        self._values.pop(key, None)
        self._values[key] = (now, version, value)
        while len(self._values) > self.size:
            del self._values[next(iter(self._values))]
        return value
