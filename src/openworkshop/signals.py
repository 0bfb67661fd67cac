"""``LocalWorkSignal``: the ``WorkSignal`` of one process, for the stores that have no
channel between processes (the memory store, SQLite)."""

from __future__ import annotations

import asyncio

__all__ = ["LocalWorkSignal"]


class LocalWorkSignal:
    """Wakes the workers of this process; a signal sent while none waited is kept for the
    next wait."""

    def __init__(self) -> None:
        self._work = asyncio.Event()

    async def signal_work(self) -> None:
        self._work.set()

    async def wait_for_work(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._work.wait(), timeout)
        except TimeoutError:
            return False
        self._work.clear()
        return True
