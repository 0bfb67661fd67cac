"""An explicit gate for the gathering of requests, so batching never depends on timing.

The pipeline and the details batcher wait a short window so that requests arriving close
together share one upstream call; on a busy machine the requests of one test may take longer
than the window to arrive. Tests install this gate instead (``workshop.pipeline.gathering =
gate.wait``) and open it when every request is in.
"""

from __future__ import annotations

import asyncio


class AllRequestsIn:
    """Rounds wait here until the test says all its requests are in.

    Once open it stays open (later rounds go at once) until ``close()``.
    """

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._reached = asyncio.Event()
        self.rounds = 0
        """How many rounds have waited here (passed or still waiting)."""

    async def wait(self) -> None:
        self.rounds += 1
        self._reached.set()
        await self._open.wait()

    def open(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._open.clear()
        self._reached.clear()

    async def reached(self) -> None:
        """Return once a round waits (or has waited) at the gate since it was made or closed."""
        await self._reached.wait()


class Ticks:
    """The pipeline's progress ticks (``Pipeline.ticking``), one at a time as the test says:
    the reporter parks here after each write; ``step()`` lets it measure and write once more
    and returns when it has parked again."""

    def __init__(self) -> None:
        self._parked = asyncio.Event()
        self._go = asyncio.Event()
        self.ticks = 0

    async def wait(self) -> None:
        self._parked.set()
        await self._go.wait()
        self._go.clear()
        self.ticks += 1

    async def parked(self) -> None:
        """Return once the reporter has written and waits for the next tick."""
        await asyncio.wait_for(self._parked.wait(), 60)
        self._parked.clear()

    async def step(self) -> None:
        self._go.set()
        await self.parked()
