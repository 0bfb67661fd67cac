"""The events feed's promises (``EventLog``), held by every store: each change is recorded in
the write that makes it (``apply``, ``put_game``), numbered in order, read after a cursor,
trimmed as one unbroken run."""

from __future__ import annotations

import attrs
import pytest

from openworkshop.domain import Archive, Failure, FailureReason, Game
from openworkshop.events import EventKind
from openworkshop.ports import Storage, Transition
from tests.contract.support import DOWNLOADING, QUEUED, READY, at, mod, put

pytestmark = pytest.mark.anyio

V1 = Archive(key="7/v1.zip", size=100, sha256="a" * 64)
V2 = Archive(key="7/v2.zip", size=200, sha256="b" * 64)


def kinds(batch: object) -> list[tuple[int, EventKind, int | None]]:
    return [(e.seq, e.change.kind, e.change.mod_id) for e in batch.events]  # type: ignore[attr-defined]


async def test_an_empty_log_reads_empty(storage: Storage) -> None:
    batch = await storage.read_events(0, 10)
    assert (batch.events, batch.latest, batch.trimmed) == ([], 0, 0)


async def test_a_mods_life_is_recorded_in_order(storage: Storage) -> None:
    """A first archive is ``mod_added``, a new one ``mod_updated`` (with its sha256, size and
    date), a vanished one ``mod_damaged``; a request, a claim, a check write none."""
    queued = mod(7, state=QUEUED, archive=None)
    await put(storage, queued)
    downloading = attrs.evolve(queued, state=DOWNLOADING)
    assert await storage.apply(Transition.of(queued, downloading))
    first = attrs.evolve(
        downloading, state=READY, archive=V1, date_update=at(1), date_checked=at(2)
    )
    assert await storage.apply(Transition.of(downloading, first))
    checked = attrs.evolve(first, date_checked=at(3))
    assert await storage.apply(Transition.of(first, checked))
    requeued = attrs.evolve(checked, state=QUEUED)
    assert await storage.apply(Transition.of(checked, requeued))
    second = attrs.evolve(requeued, state=READY, archive=V2, date_update=at(4), date_checked=at(5))
    assert await storage.apply(Transition.of(requeued, second))
    assert await storage.apply(Transition.of(second, None, at=at(6)))

    batch = await storage.read_events(0, 10)
    assert kinds(batch) == [
        (1, EventKind.MOD_ADDED, 7),
        (2, EventKind.MOD_UPDATED, 7),
        (3, EventKind.MOD_DAMAGED, 7),
    ]
    added, updated, damaged = (e.change for e in batch.events)
    assert (added.sha256, added.size, added.date_update, added.at) == (V1.sha256, 100, at(1), at(2))
    assert (updated.sha256, updated.size, updated.date_update) == (V2.sha256, 200, at(4))
    assert (damaged.reason, damaged.at, damaged.name, damaged.game_id) == (
        "damaged",
        at(6),
        "Mod 7",
        10,
    )
    assert (batch.latest, batch.trimmed) == (3, 0)


async def test_a_removal_with_a_failure_is_mod_removed(storage: Storage) -> None:
    await put(storage, mod(8, archive=V1))
    failure = Failure(mod_id=8, reason=FailureReason.BANNED, attempts=1, date=at(9))
    current = await storage.get_mod(8)
    assert await storage.apply(Transition.of(current, None, failure=failure))
    (added, removed) = (await storage.read_events(0, 10)).events
    assert added.change.kind is EventKind.MOD_ADDED
    assert (removed.change.kind, removed.change.reason, removed.change.at) == (
        EventKind.MOD_REMOVED,
        "banned",
        at(9),
    )


async def test_a_write_that_is_refused_records_nothing(storage: Storage) -> None:
    """The compare-and-set fails: no row changes, no event."""
    await put(storage, mod(9, state=QUEUED))
    wrong = Transition(mod_id=9, expect=READY, after=mod(9, archive=V1))
    assert not await storage.apply(wrong)
    assert (await storage.read_events(0, 10)).events == []


async def test_a_new_game_is_game_added_once(storage: Storage) -> None:
    game = Game(id=294100, name="RimWorld", creation_date=at(1))
    await storage.put_game(game, [])
    await storage.put_game(attrs.evolve(game, name="RimWorld 2"), [])
    batch = await storage.read_events(0, 10)
    assert kinds(batch) == [(1, EventKind.GAME_ADDED, None)]
    change = batch.events[0].change
    assert (change.game_id, change.name, change.at) == (294100, "RimWorld", at(1))


async def test_reads_go_after_a_cursor_up_to_a_limit(storage: Storage) -> None:
    for ident in range(1, 6):
        await put(storage, mod(ident, archive=V1, date_checked=at(ident)))
    first = await storage.read_events(0, 2)
    assert [e.seq for e in first.events] == [1, 2]
    rest = await storage.read_events(2, 10)
    assert [e.change.mod_id for e in rest.events] == [3, 4, 5]
    assert (rest.latest, (await storage.read_events(5, 10)).events) == (5, [])
    last = await storage.last_mod_events([5, 1, 77])
    assert {i: e.seq for i, e in last.items()} == {1: 1, 5: 5}


async def test_trimming_forgets_an_unbroken_run_and_says_so(storage: Storage) -> None:
    """Events before the moment go; ``trimmed`` names the newest gone, ``latest`` stays, and
    the numbers of the trimmed events are never given again."""
    for ident in range(1, 5):
        await put(storage, mod(ident, archive=V1, date_checked=at(ident * 10)))
    assert await storage.trim_events(at(25)) == 2
    batch = await storage.read_events(0, 10)
    assert ([e.seq for e in batch.events], batch.trimmed, batch.latest) == ([3, 4], 2, 4)
    assert await storage.trim_events(at(5)) == 0
    assert (await storage.read_events(0, 10)).trimmed == 2
    assert await storage.trim_events(at(100)) == 2
    await put(storage, mod(5, archive=V1, date_checked=at(101)))
    batch = await storage.read_events(0, 10)
    assert ([e.seq for e in batch.events], batch.trimmed, batch.latest) == ([5], 4, 5)


async def test_failures_of_many_mods_read_at_once(storage: Storage) -> None:
    failure = Failure(mod_id=3, reason=FailureReason.NOT_FOUND, attempts=1, date=at(1))
    await put(storage, mod(3, state=QUEUED))
    assert await storage.apply(Transition.of(mod(3, state=QUEUED), None, failure=failure))
    assert await storage.get_failures([3, 4]) == {3: failure}
