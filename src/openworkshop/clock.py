"""The real clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

__all__ = ["SystemClock", "utc"]


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` as timezone-aware UTC (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class SystemClock:
    """Wall time in UTC, ``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
