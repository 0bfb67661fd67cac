"""Guarding Valve: merged details look-ups, the shared pause and the calls-per-minute ceiling."""

from __future__ import annotations

import asyncio

import pytest

from openworkshop.errors import UpstreamRateLimited, UpstreamUnavailable
from openworkshop.testing import FakeClock, FakeSteamSource, MemoryStorage, sample_catalog
from openworkshop.upstream import DetailsBatcher, UpstreamGate

from ..gathering import AllRequestsIn

pytestmark = pytest.mark.anyio


def make(per_minute: int = 1000) -> tuple[FakeSteamSource, UpstreamGate, DetailsBatcher, FakeClock]:
    steam = FakeSteamSource(sample_catalog(mods_per_game=60))
    clock = FakeClock()
    gate = UpstreamGate(flags=MemoryStorage(), clock=clock, per_minute=per_minute, pause=300)
    return steam, gate, DetailsBatcher(steam=steam, gate=gate, window=0.02), clock


async def test_lookups_close_together_share_one_call() -> None:
    """150 concurrent look-ups (some of one id) go out as 100 + 50 ids; each gets its item."""
    steam, _, batcher, _ = make()
    ids = list(steam.catalog.items)[:150]
    asked = ids + ids[:30]
    found = await asyncio.gather(*(batcher.get(i) for i in asked))
    assert steam.calls["details"] == 2
    assert [d.id if d else None for d in found] == [
        i if steam.catalog.items[i].visible else None for i in asked
    ]


async def test_lookups_arriving_slowly_share_one_call_at_the_gate() -> None:
    """Look-ups that arrive one by one, each after the previous has started waiting, share
    one call when the gathering gate opens: the gate decides, not a window of time."""
    steam, gate, _, _ = make()
    all_in = AllRequestsIn()
    batcher = DetailsBatcher(steam=steam, gate=gate, window=0.0, gathering=all_in.wait)
    ids = [i for i, item in steam.catalog.items.items() if item.visible][:10]
    waiting = [asyncio.create_task(batcher.get(ids[0]))]
    await all_in.reached()  # the first look-up's batch waits at the gate
    for mod_id in ids[1:]:
        waiting.append(asyncio.create_task(batcher.get(mod_id)))
        await asyncio.sleep(0)  # one turn of the loop: the look-up starts and joins the batch
        assert len(batcher._pending) == len(waiting)
    all_in.open()
    found = await asyncio.gather(*waiting)
    assert [d.id if d else None for d in found] == ids
    assert steam.calls["details"] == 1 and all_in.rounds == 1


async def test_a_failed_call_fails_every_waiter() -> None:
    steam, _, batcher, _ = make()
    steam.fail_next("details", UpstreamUnavailable("reset"))
    ids = list(steam.catalog.items)[:5]
    results = await asyncio.gather(*(batcher.get(i) for i in ids), return_exceptions=True)
    assert all(isinstance(r, UpstreamUnavailable) for r in results)
    assert steam.calls["details"] == 1


async def test_rate_limiting_pauses_everyone_sharing_the_storage() -> None:
    """A 429 sets the pause in storage; a second gate on the same storage sees it."""
    steam, gate, _, clock = make()
    steam.fail_next("details", UpstreamRateLimited(retry_after=120))
    with pytest.raises(UpstreamRateLimited):
        await gate.call(lambda: steam.details([1]))
    other = UpstreamGate(flags=gate._flags, clock=clock, per_minute=10, pause=300)
    assert await other.paused_until() is not None
    with pytest.raises(UpstreamRateLimited):
        await other.call(lambda: steam.details([1]), wait=False)
    assert steam.calls["details"] == 1
    clock.advance(121)
    assert await other.paused_until() is None
    await other.call(lambda: steam.details([1]), wait=False)
    assert steam.calls["details"] == 2


async def test_ceiling_per_minute() -> None:
    """Past the ceiling a call waits for the window (or is refused when it may not wait)."""
    steam, gate, _, clock = make(per_minute=3)
    for _ in range(3):
        await gate.call(lambda: steam.details([1]), wait=False)
    with pytest.raises(UpstreamRateLimited):
        await gate.call(lambda: steam.details([1]), wait=False)
    before = clock.monotonic()
    await gate.call(lambda: steam.details([1]))  # waits (the fake clock advances)
    assert clock.monotonic() - before >= 59
    assert steam.calls["details"] == 4


async def test_the_ceiling_holds_across_processes_on_one_storage() -> None:
    """Two gates on one storage (two processes, as far as the gate knows: each has its own
    sliding window) share one ceiling per minute of the clock: 9 calls through both at 3 a
    minute take three minutes, never more than 3 in one; a gate that may not wait is refused
    while the other has used the minute up."""
    storage, clock = MemoryStorage(), FakeClock()
    first, second = (
        UpstreamGate(flags=storage, clock=clock, per_minute=3, pause=300) for _ in range(2)
    )
    minutes: list[object] = []

    async def call() -> None:
        minutes.append(clock.now().replace(second=0, microsecond=0))

    for n in range(9):
        await (first if n % 2 else second).call(call)
    assert sorted({m: minutes.count(m) for m in minutes}.values()) == [3, 3, 3]
    assert first.calls + second.calls == 9
    await first.call(call)
    await first.call(call)
    await second.call(call)  # the third of this minute
    with pytest.raises(UpstreamRateLimited, match="all processes"):
        await first.call(call, wait=False)  # its own window has room; the minute has not
