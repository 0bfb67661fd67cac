"""The work signal's promises (``WorkSignal``), held by every store: a waiter is woken by a
signal, a signal sent while nobody waited is kept for the next wait, and a wait with no signal
ends at its timeout saying so."""

from __future__ import annotations

import asyncio

import pytest

from openworkshop.ports import Storage

pytestmark = pytest.mark.anyio


async def test_a_waiter_is_woken(storage: Storage) -> None:
    waiting = asyncio.ensure_future(storage.wait_for_work(60))
    await asyncio.sleep(0)  # it waits now
    await storage.signal_work()
    assert await asyncio.wait_for(waiting, 60) is True


async def test_a_signal_is_kept_for_the_next_wait(storage: Storage) -> None:
    await storage.signal_work()
    assert await storage.wait_for_work(60) is True
    assert await storage.wait_for_work(0.01) is False  # taken by the wait before
