"""The shared flags' promises (``SharedFlags``), held by every store."""

from __future__ import annotations

import datetime as dt

import pytest

from openworkshop.ports import SharedFlags

pytestmark = pytest.mark.anyio


async def test_flags_are_shared_values(storage: SharedFlags) -> None:
    """A flag holds a string until set to None."""
    assert await storage.get_flag("paused_until") is None
    await storage.set_flag("paused_until", "2026-03-01T12:00:00+00:00")
    await storage.set_flag("paused_until", "later")
    assert await storage.get_flag("paused_until") == "later"
    await storage.set_flag("paused_until", None)
    await storage.set_flag("paused_until", None)
    assert await storage.get_flag("paused_until") is None


async def test_call_slots_are_counted_per_minute(storage: SharedFlags) -> None:
    """take_call_slot gives at most `limit` slots of one minute, then refuses; a new minute
    starts from none; a limit of zero refuses every call."""
    minute = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    assert [await storage.take_call_slot(minute, 3) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    later = minute + dt.timedelta(minutes=1)
    assert await storage.take_call_slot(later, 3)
    assert await storage.take_call_slot(later, 2)
    assert not await storage.take_call_slot(later, 2)
    assert await storage.take_call_slot(later, 3)
    assert not await storage.take_call_slot(later, 3)
    assert not await storage.take_call_slot(later + dt.timedelta(minutes=1), 0)


async def test_call_slots_leave_the_flags_alone(storage: SharedFlags) -> None:
    """Counting calls does not touch the named flags (the upstream pause)."""
    await storage.set_flag("upstream_paused_until", "x")
    assert await storage.take_call_slot(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), 1)
    assert await storage.get_flag("upstream_paused_until") == "x"
