"""Guarding Valve's servers: the shared pause after rate limiting, a ceiling on calls per
minute, and merging of concurrent details look-ups into one call."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from openworkshop.domain import ItemDetails
from openworkshop.errors import UpstreamRateLimited
from openworkshop.ports import Clock, SharedFlags, SteamSource

__all__ = ["DetailsBatcher", "Gathering", "UpstreamGate"]

T = TypeVar("T")

Gathering = Callable[[], Awaitable[None]]
"""Waits while requests that arrive close together gather before one upstream call.

In production it is a window of seconds. Tests pass an explicit gate instead, one that opens
when the test says all its requests are in, so what is batched never depends on how fast the
machine is."""

PAUSE_FLAG = "upstream_paused_until"


class UpstreamGate:
    """Every call to Steam passes here.

    After Steam signals rate limiting, all upstream work of every process sharing the storage
    pauses for a cool-off (the end of the pause is a shared flag). Calls are held under a
    ceiling per minute twice: in this process, over any 60 seconds (a sliding window in
    memory, which costs nothing), and across every process on the storage, per minute of the
    clock (``SharedFlags.take_call_slot``, one storage write per call), so N processes cost
    Valve no more than one.
    """

    def __init__(self, *, flags: SharedFlags, clock: Clock, per_minute: int, pause: float) -> None:
        self._flags = flags
        self._clock = clock
        self._per_minute = max(1, per_minute)
        self._pause = pause
        self._recent: list[float] = []
        self._lock = asyncio.Lock()
        self.calls = 0

    async def paused_until(self) -> dt.datetime | None:
        raw = await self._flags.get_flag(PAUSE_FLAG)
        if raw is None:
            return None
        until = dt.datetime.fromisoformat(raw)
        return until if until > self._clock.now() else None

    async def pause(self, seconds: float | None = None) -> None:
        until = self._clock.now() + dt.timedelta(seconds=seconds or self._pause)
        current = await self.paused_until()
        if current is None or until > current:
            await self._flags.set_flag(PAUSE_FLAG, until.isoformat())

    async def _admit(self, wait: bool) -> None:
        until = await self.paused_until()
        if until is not None:
            if not wait:
                raise UpstreamRateLimited("upstream calls are paused after rate limiting")
            await self._clock.sleep((until - self._clock.now()).total_seconds())
        async with self._lock:
            while True:
                now = self._clock.monotonic()
                self._recent = [t for t in self._recent if now - t < 60.0]
                if len(self._recent) < self._per_minute:
                    self._recent.append(now)
                    mark = now
                    break
                if not wait:
                    raise UpstreamRateLimited("the ceiling of upstream calls per minute is reached")
                await self._clock.sleep(60.0 - (now - self._recent[0]) + 0.01)
            while True:
                wall = self._clock.now()
                minute = wall.replace(second=0, microsecond=0)
                if await self._flags.take_call_slot(minute, self._per_minute):
                    self.calls += 1
                    return
                if not wait:
                    self._recent.remove(mark)  # no call went out
                    raise UpstreamRateLimited(
                        "the ceiling of upstream calls per minute is reached (all processes)"
                    )
                next_minute = minute + dt.timedelta(minutes=1)
                await self._clock.sleep((next_minute - wall).total_seconds() + 0.01)

    async def call(self, fn: Callable[[], Awaitable[T]], *, wait: bool = True) -> T:
        """Run one upstream call; on rate limiting, pause everyone and re-raise."""
        await self._admit(wait)
        try:
            return await fn()
        except UpstreamRateLimited as exc:
            await self.pause(exc.retry_after)
            raise


class DetailsBatcher:
    """Merges details look-ups made close together into one upstream call.

    Callers ``await get(id)``; ids gathered within ``window`` seconds (or until a batch is
    full) go out in one call, and every caller of one id shares the answer. ``gathering``
    replaces the window (tests: a gate opened when all look-ups are in).
    """

    def __init__(
        self,
        *,
        steam: SteamSource,
        gate: UpstreamGate,
        window: float,
        gathering: Gathering | None = None,
    ) -> None:
        self._steam = steam
        self._gate = gate
        self._window = window
        self.gathering: Gathering = self._wait_window if gathering is None else gathering
        self._pending: dict[int, asyncio.Future[ItemDetails | None]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def get(self, mod_id: int, *, wait: bool = False) -> ItemDetails | None:
        future = self._pending.get(mod_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._pending[mod_id] = future
            if len(self._pending) >= self._steam.max_details_batch:
                self._flush_now(wait)
            elif self._flusher is None:
                self._flusher = asyncio.create_task(self._flush_later(wait))
        return await asyncio.shield(future)

    async def _wait_window(self) -> None:
        await asyncio.sleep(self._window)

    async def _flush_later(self, wait: bool) -> None:
        await self.gathering()
        self._flusher = None
        await self._send(self._take(), wait)

    def _flush_now(self, wait: bool) -> None:
        batch = self._take()
        task = asyncio.create_task(self._send(batch, wait))
        self._sending.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._sending.discard)

    def _take(self) -> dict[int, asyncio.Future[ItemDetails | None]]:
        batch, self._pending = self._pending, {}
        return batch

    async def _send(
        self, batch: Mapping[int, asyncio.Future[ItemDetails | None]], wait: bool
    ) -> None:
        if not batch:
            return
        ids: Sequence[int] = list(batch)
        try:
            found = await self._gate.call(lambda: self._steam.details(ids), wait=wait)
        except Exception as exc:  # every waiter gets the same error
            for future in batch.values():
                if not future.done():
                    future.set_exception(exc)
            return
        for mod_id, future in batch.items():
            if not future.done():
                future.set_result(found.get(mod_id))
