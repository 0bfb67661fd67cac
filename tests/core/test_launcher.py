"""The service's launcher use cases on the fakes (both stores): the events feed a real
download, update and damage produce, its cursors and retention; the bulk update check's
answer for every case, with no call to Valve, and its ``refresh``."""

from __future__ import annotations

import datetime as dt

import pytest

from openworkshop import ModState, Workshop
from openworkshop.checks import CheckState
from openworkshop.domain import Failure, FailureReason, Game
from openworkshop.errors import CursorExpired
from openworkshop.events import EventKind
from openworkshop.ports import Transition
from openworkshop.query import CheckQuery, EventsQuery
from openworkshop.testing import FakeClock, FakeSteamSource, MemoryArchiveStore, SteamCatalog
from tests.core.conftest import settle
from tests.core.test_service import mod_ids
from tests.gathering import AllRequestsIn

pytestmark = pytest.mark.anyio


async def cached(workshop: Workshop, clock: FakeClock, *ids: int) -> None:
    for mod_id in ids:
        await workshop.request_download(mod_id)
    await settle(workshop, clock)


def kinds(page: object) -> list[tuple[EventKind, int | None]]:
    return [(e.change.kind, e.change.mod_id) for e in page.events]  # type: ignore[attr-defined]


async def test_the_feed_follows_a_download_an_update_and_damage(
    workshop: Workshop,
    catalog: SteamCatalog,
    clock: FakeClock,
    archives: MemoryArchiveStore,
) -> None:
    first, second = mod_ids(catalog)[:2]
    await cached(workshop, clock, first)
    page = await workshop.events(EventsQuery())
    app = catalog.items[first].details.app_id
    assert kinds(page) == [(EventKind.GAME_ADDED, None), (EventKind.MOD_ADDED, first)]
    assert page.events[0].change.game_id == app
    added = page.events[1].change
    mod = await workshop.queue.get_mod(first)
    assert mod is not None and mod.archive is not None
    assert (added.sha256, added.size, added.date_update) == (
        mod.archive.sha256,
        mod.archive.size,
        mod.date_update,
    )
    assert not page.more

    # the cursor continues where the answer stopped
    item = catalog.items[first]
    catalog.publish_update(first, files={"a.txt": "v2"}, time_updated=item.details.time_updated + 9)
    clock.advance(4 * 3600)
    await workshop.request_update(first)
    await settle(workshop, clock)
    await cached(workshop, clock, second)
    later = await workshop.events(EventsQuery(after=page.next))
    assert kinds(later) == [(EventKind.MOD_UPDATED, first), (EventKind.MOD_ADDED, second)]
    updated = await workshop.queue.get_mod(first)
    assert updated is not None and updated.archive is not None
    assert later.events[0].change.sha256 == updated.archive.sha256 != added.sha256

    # one at a time, with more waiting
    one = await workshop.events(EventsQuery(after=page.next, limit=1))
    assert (kinds(one), one.more) == ([(EventKind.MOD_UPDATED, first)], True)

    # an archive that vanished: the mod is damaged, in the feed too
    await archives.remove(updated.archive.key)
    await workshop.reconcile()
    last = await workshop.events(EventsQuery(after=later.next))
    assert kinds(last) == [(EventKind.MOD_DAMAGED, first)]
    assert last.events[0].change.at == clock.now()
    nothing = await workshop.events(EventsQuery(after=last.next))
    assert (nothing.events, nothing.next, nothing.more) == ([], last.next, False)


async def test_a_cursor_the_log_no_longer_reaches_is_refused(
    workshop: Workshop, clock: FakeClock, settings: object
) -> None:
    """Events older than the retention window are trimmed; a cursor before them (or past
    the newest event, from another server) is CursorExpired; one at the edge goes on."""
    for game_id in (1, 2, 3):
        await workshop.storage.put_game(
            Game(id=game_id, name=f"g{game_id}", creation_date=clock.now()), []
        )
        clock.advance(86400)
    first = await workshop.events(EventsQuery(limit=1))
    clock.advance(workshop.settings.event_retention - 86400 * 1.5)
    assert await workshop.trim_events() == 2
    with pytest.raises(CursorExpired) as refused:
        await workshop.events(EventsQuery(after=first.next))
    assert refused.value.details == ["the cursor continues after event 1; kept: events 3 to 3"]
    edge = await workshop.events(EventsQuery(after=2))
    assert [e.seq for e in edge.events] == [3]
    fresh = await workshop.events(EventsQuery())
    assert [e.seq for e in fresh.events] == [3]
    with pytest.raises(CursorExpired):
        await workshop.events(EventsQuery(after=4))


async def test_the_bulk_check_answers_every_case_with_no_call_to_valve(
    workshop: Workshop, catalog: SteamCatalog, clock: FakeClock, steam: FakeSteamSource
) -> None:
    current, outdated, by_date, queued, refused, never = mod_ids(catalog)[:6]
    await cached(workshop, clock, current, outdated, by_date)
    mods = await workshop.queue.get_mods([current, outdated, by_date])
    await workshop.request_download(queued)  # asked for, not fetched yet
    failure = Failure(
        mod_id=refused, reason=FailureReason.ACCESS_DENIED, attempts=1, date=clock.now()
    )
    await workshop.request_download(refused)
    asked = await workshop.queue.get_mod(refused)
    assert await workshop.queue.apply(Transition.of(asked, None, failure=failure))
    before = dict(steam.calls)

    date = mods[by_date].date_update
    assert date is not None
    answer = await workshop.check_mods(
        CheckQuery(
            versions={
                current: mods[current].archive.sha256,  # type: ignore[union-attr]
                outdated: "0" * 64,
                by_date: date - dt.timedelta(seconds=1),
                queued: "1" * 64,
                refused: "2" * 64,
                never: "3" * 64,
            }
        )
    )
    assert {i: a.state for i, a in answer.items()} == {
        current: CheckState.CURRENT,
        outdated: CheckState.OUTDATED,
        by_date: CheckState.OUTDATED,
        queued: CheckState.MISSING,
        refused: CheckState.REMOVED,
        never: CheckState.MISSING,
    }
    assert answer[outdated].archive == mods[outdated].archive
    assert answer[refused].reason == "access_denied"
    assert not any(a.checking for a in answer.values())
    assert dict(steam.calls) == before

    # the same date (or a later one) is current; a damaged mod is removed
    again = await workshop.check_mods(CheckQuery(versions={by_date: date}))
    assert again[by_date].state is CheckState.CURRENT
    stored = mods[current].archive
    assert stored is not None
    await workshop.archives.remove(stored.key)
    await workshop.reconcile()
    gone = await workshop.check_mods(CheckQuery(versions={current: stored.sha256}))
    assert (gone[current].state, gone[current].reason) == (CheckState.REMOVED, "damaged")
    assert dict(steam.calls) == before


async def test_refresh_queues_batched_update_checks_past_the_cooldown(
    workshop: Workshop, catalog: SteamCatalog, clock: FakeClock, steam: FakeSteamSource
) -> None:
    """``refresh``: one details call for every mod past its cooldown, none for the others;
    a newer version on Steam is queued."""
    ids = mod_ids(catalog)[:3]
    await cached(workshop, clock, *ids)
    clock.advance(workshop.settings.update_cooldown + 1)
    fresh = ids[2]
    mod = await workshop.queue.get_mod(fresh)
    assert mod is not None
    await workshop.queue.apply(Transition.of(mod, mod.checked(now=clock.now())))
    item = catalog.items[ids[0]]
    catalog.publish_update(
        ids[0], files={"b.txt": "new"}, time_updated=item.details.time_updated + 5
    )
    before = steam.calls["details"]
    gate = AllRequestsIn()
    workshop.batcher.gathering = gate.wait

    mods = await workshop.queue.get_mods(ids)
    answer = await workshop.check_mods(
        CheckQuery(versions={i: m.archive.sha256 for i, m in mods.items()}, refresh=True)  # type: ignore[union-attr]
    )
    assert [answer[i].checking for i in ids] == [True, True, False]
    assert all(a.state is CheckState.CURRENT for a in answer.values())
    await gate.reached()  # every check's look-up is in (they were queued before the batch)
    gate.open()
    await workshop.refreshed()
    assert steam.calls["details"] == before + 1
    after = await workshop.queue.get_mods(ids)
    assert after[ids[0]].state is ModState.QUEUED  # the newer version, queued
    assert after[ids[1]].state is ModState.READY and after[ids[1]].date_checked == clock.now()
