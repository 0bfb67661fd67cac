"""The progress board's promises (``ProgressBoard``), held by every store: a record lives only
while its mod is downloading (a claim and every transition out of state 2 remove it in the
same write, and a late write is dropped), and a queued mod's place is its place in the order
workers claim."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from openworkshop.domain import Archive, Failure, FailureReason
from openworkshop.ports import Storage, Transition
from openworkshop.progress import Phase, Progress
from tests.contract.support import AVAILABLE, DOWNLOADING, QUEUED, at, mod, put

pytestmark = pytest.mark.anyio

BIG = 2**63 + 5
"""An id past the signed 64-bit range (Steam ids are unsigned)."""


def record(mod_id: int, done: int, *, phase: Phase = Phase.DOWNLOADING) -> Progress:
    return Progress(mod_id=mod_id, phase=phase, done=done, total=1000, started=at(0), updated=at(1))


async def downloading(storage: Storage, *ids: int) -> None:
    await put(storage, *(mod(i, state=QUEUED, date_queued=at(-i % 7)) for i in ids))
    taken = await storage.claim(QUEUED, 100, now=at(0), lease_until=at(5))
    assert {m.id for m in taken} >= set(ids)


async def test_records_are_written_and_read_back(storage: Storage) -> None:
    await downloading(storage, 1, 2, BIG)
    await storage.record_progress([record(1, 10), record(BIG, 20)])
    assert await storage.progress_records([1, 2, BIG, 99]) == {
        1: record(1, 10),
        BIG: record(BIG, 20),
    }
    later = attrs.evolve(record(1, 600, phase=Phase.PACKING), updated=at(3))
    await storage.record_progress([later])
    assert await storage.progress_records([1]) == {1: later}
    assert await storage.progress_records([]) == {}


async def test_only_a_downloading_mod_gets_a_record(storage: Storage) -> None:
    """A write for a mod that already moved on (or never was there) is dropped: no record
    outlives the download it tells of."""
    await put(storage, mod(3, state=QUEUED), mod(4), mod(5, state=AVAILABLE))
    await storage.record_progress([record(3, 1), record(4, 1), record(5, 1), record(6, 1)])
    assert await storage.progress_records([3, 4, 5, 6]) == {}


@pytest.mark.parametrize("outcome", ["archived", "requeued", "failed"])
async def test_a_transition_out_of_downloading_removes_the_record(
    storage: Storage, outcome: str
) -> None:
    await downloading(storage, 7)
    (current,) = (await storage.get_mods([7])).values()
    await storage.record_progress([record(7, 500)])
    failure = None
    if outcome == "archived":
        after = attrs.evolve(
            current, state=AVAILABLE, archive=Archive(key="7/a.zip", size=9, sha256="c" * 64)
        )
    elif outcome == "requeued":
        after = attrs.evolve(current, state=QUEUED, lease_until=None)
    else:
        after = None
        failure = Failure(mod_id=7, reason=FailureReason.TIMEOUT, attempts=4, date=at(2))
    assert await storage.apply(Transition.of(current, after, failure=failure))
    assert await storage.progress_records([7]) == {}
    await storage.record_progress([record(7, 900)])  # the worker's last tick, too late
    assert await storage.progress_records([7]) == {}


async def test_a_refused_transition_keeps_the_record(storage: Storage) -> None:
    await downloading(storage, 8)
    await storage.record_progress([record(8, 5)])
    stale = mod(8, state=QUEUED)
    assert not await storage.apply(Transition.of(stale, attrs.evolve(stale, state=DOWNLOADING)))
    assert await storage.progress_records([8]) == {8: record(8, 5)}


async def test_a_new_claim_starts_from_nothing(storage: Storage) -> None:
    """A dead worker's figures go when another worker takes the mod over (its lease ran out)."""
    await downloading(storage, 9)
    await storage.record_progress([record(9, 700)])
    again = await storage.claim(QUEUED, 10, now=at(6), lease_until=at(12))
    assert [m.id for m in again] == [9]
    assert await storage.progress_records([9]) == {}


async def test_queue_positions_follow_the_claim_order(storage: Storage) -> None:
    """Oldest request first, then id; only mods in state 3 have a place."""
    await put(
        storage,
        mod(20, state=QUEUED, date_queued=at(3)),
        mod(21, state=QUEUED, date_queued=at(1)),
        mod(22, state=QUEUED, date_queued=at(3)),
        mod(BIG, state=QUEUED, date_queued=at(2)),
        mod(24, state=DOWNLOADING, date_queued=at(0), lease_until=at(100)),
        mod(25, date_queued=at(0)),
    )
    assert await storage.queue_positions([20, 21, 22, BIG, 24, 25, 26]) == {
        21: 1,
        BIG: 2,
        20: 3,
        22: 4,
    }
    (first,) = await storage.claim(QUEUED, 1, now=at(10), lease_until=at(20))
    assert first.id == 21
    assert await storage.queue_positions([20, 21, 22, BIG]) == {BIG: 1, 20: 2, 22: 3}
    assert await storage.queue_positions([]) == {}


async def test_positions_of_many_mods(storage: Storage) -> None:
    """More ids than one statement may bind (the SQLite store reads them in chunks)."""
    ids = list(range(1000, 2200))
    await put(
        storage,
        *(mod(i, state=QUEUED, date_queued=at(0) + dt.timedelta(seconds=i)) for i in ids),
    )
    positions = await storage.queue_positions(ids[::-1])
    assert positions == {i: n for n, i in enumerate(ids, 1)}
