"""The download queue's promises (``DownloadQueue``, with ``CatalogWriter.put_mod``), held by
every store: compare-and-set transitions, claims, leases, failures."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from openworkshop.criteria import Paging
from openworkshop.domain import (
    MAX_STEAM_ID,
    Archive,
    Failure,
    FailureReason,
    ItemDetails,
    Mod,
    ResourceType,
    Tag,
)
from openworkshop.ports import PageContent, Storage, Transition
from tests.contract.support import AVAILABLE, DOWNLOADING, QUEUED, READY, at, listed, mod, put

pytestmark = pytest.mark.anyio


async def test_missing_mod_is_none(storage: Storage) -> None:
    """get_mod of an unknown id is None; get_mods and mod_states leave unknown ids out."""
    await put(storage, mod(1))
    assert await storage.get_mod(2) is None
    assert list(await storage.get_mods([2, 1, 3])) == [1]
    assert await storage.mod_states([3, 1]) == {1: READY}


async def test_mod_round_trips_every_field(storage: Storage) -> None:
    """Every field of a mod comes back as written, times as aware UTC."""
    full = Mod(
        id=MAX_STEAM_ID,
        name="Трейны «Better» — 1.5",
        game_id=2**63,
        state=AVAILABLE,
        size=2**40,
        source="local",
        downloads=7,
        short_description="short",
        description="long " * 100,
        date_creation=at(1),
        date_update=at(2),
        date_request=at(3),
        date_checked=at(4),
        date_queued=at(5),
        time_updated=1_700_000_000,
        hcontent_file="8765432109876543210",
        archive=Archive(key="294100/1.zip", size=123, sha256="ab" * 32),
        attempts=2,
        not_before=at(6),
        lease_until=dt.datetime(2026, 3, 1, 14, 0, 0, 123456, tzinfo=dt.UTC),
    )
    await put(storage, full)
    got = await storage.get_mod(MAX_STEAM_ID)
    assert got == full
    assert got is not None and got.date_creation is not None
    assert got.date_creation.utcoffset() == dt.timedelta(0)
    bare = Mod(id=5)
    await put(storage, bare)
    assert await storage.get_mod(5) == bare
    assert (await storage.get_mods([MAX_STEAM_ID, 5])) == {MAX_STEAM_ID: full, 5: bare}


async def test_put_mod_inserts_only_when_absent(storage: Storage) -> None:
    """expect=None writes a new row only; an existing one is left alone."""
    assert await storage.put_mod(mod(1, name="first"), expect=None)
    assert not await storage.put_mod(mod(1, name="second"), expect=None)
    got = await storage.get_mod(1)
    assert got is not None and got.name == "first"


async def test_put_mod_compares_and_sets_on_state(storage: Storage) -> None:
    """An update is written only if the stored state is the expected one."""
    await put(storage, mod(1, state=QUEUED))
    assert not await storage.put_mod(mod(1, state=READY, name="x"), expect=DOWNLOADING)
    assert not await storage.put_mod(mod(2, state=READY), expect=QUEUED)
    assert await storage.get_mod(2) is None
    assert await storage.put_mod(mod(1, state=DOWNLOADING, name="y"), expect=QUEUED)
    got = await storage.get_mod(1)
    assert got is not None and (got.state, got.name) == (DOWNLOADING, "y")


async def test_put_mod_never_writes_downloads(storage: Storage) -> None:
    """Inserting keeps the given count; an update keeps the stored one."""
    await put(storage, mod(1, downloads=5))
    await storage.add_download(1, now=at(1))
    assert await storage.put_mod(mod(1, downloads=0, name="renamed"), expect=READY)
    got = await storage.get_mod(1)
    assert got is not None and (got.downloads, got.name) == (6, "renamed")


async def test_removal_takes_its_associations_only(storage: Storage) -> None:
    """A removed mod takes its tag links, dependencies and resources; failures, tags stay."""
    await put(storage, mod(1), mod(2))
    await storage.set_mod_tags(1, 10, ["A", "B"])
    await storage.set_mod_tags(2, 10, ["A"])
    await storage.set_dependencies(1, [2])
    await storage.set_resources(1, [(ResourceType.LOGO, "http://x/1.png")], now=at(0))
    failure = Failure(mod_id=1, reason=FailureReason.TIMEOUT, attempts=1, date=at(0))
    assert await storage.apply(Transition(mod_id=1, expect=READY, after=mod(1), failure=failure))
    assert await storage.apply(Transition(mod_id=1, expect=READY, after=None))
    assert not await storage.apply(Transition(mod_id=1, expect=READY, after=None))
    assert await storage.get_mod(1) is None
    assert await storage.mod_tags([1, 2], []) == {2: [Tag(id=1, name="A")]}
    assert await storage.dependencies(1, 10) == ([], 0)
    assert (await storage.list_resources([1], [], Paging())).total == 0
    assert await storage.get_failure(1) is not None
    assert [t.name for t in (await storage.list_tags(10, Paging())).items] == ["A", "B"]


async def test_removal_with_expected_state(storage: Storage) -> None:
    """With expect, a mod in another state is kept."""
    await put(storage, mod(1, state=QUEUED))
    assert not await storage.apply(Transition(mod_id=1, expect=READY, after=None))
    assert await storage.get_mod(1) is not None
    assert await storage.apply(Transition(mod_id=1, expect=QUEUED, after=None))


async def test_claim_queued_takes_due_mods_oldest_first(storage: Storage) -> None:
    """Due queued mods and expired downloads, by request date then id; backoff respected."""
    await put(
        storage,
        mod(1, state=QUEUED, date_queued=at(3)),
        mod(2, state=QUEUED, date_queued=at(1)),
        mod(3, state=QUEUED, date_queued=at(1)),
        mod(4, state=QUEUED, date_queued=at(0), not_before=at(30)),  # backing off
        mod(5, state=DOWNLOADING, date_queued=at(2), lease_until=at(5)),  # worker died
        mod(6, state=DOWNLOADING, date_queued=at(0), lease_until=at(60)),  # alive
        mod(7, state=AVAILABLE, date_queued=at(0)),
        mod(8, state=QUEUED, date_queued=at(9), not_before=at(10)),  # due exactly now
    )
    taken = await storage.claim(QUEUED, 10, now=at(10), lease_until=at(20))
    assert [m.id for m in taken] == [2, 3, 5, 1, 8]
    assert all(m.state is DOWNLOADING and m.lease_until == at(20) for m in taken)
    assert (await storage.get_mod(2)) == taken[0]
    assert await storage.claim(QUEUED, 10, now=at(11), lease_until=at(21)) == []
    again = await storage.claim(QUEUED, 10, now=at(31), lease_until=at(40))
    assert [m.id for m in again] == [4, 2, 3, 5, 1, 8]
    assert (await storage.mod_states([7])) == {7: AVAILABLE}


async def test_claim_respects_the_limit(storage: Storage) -> None:
    """At most `limit` mods are taken; the rest stay queued for the next claim."""
    await put(storage, *(mod(i, state=QUEUED, date_queued=at(i)) for i in range(1, 6)))
    first = await storage.claim(QUEUED, 2, now=at(10), lease_until=at(20))
    second = await storage.claim(QUEUED, 2, now=at(10), lease_until=at(20))
    assert [m.id for m in first] == [1, 2]
    assert [m.id for m in second] == [3, 4]
    assert await storage.claim(QUEUED, 0, now=at(10), lease_until=at(20)) == []
    assert await storage.queue_size() == 5


async def test_claim_available_leases_without_changing_state(storage: Storage) -> None:
    """Pages to parse: unleased or expired AVAILABLE mods get a lease, state unchanged."""
    await put(
        storage,
        mod(1, state=AVAILABLE, date_queued=at(2)),
        mod(2, state=AVAILABLE, date_queued=at(1), lease_until=at(50)),
        mod(3, state=AVAILABLE, date_queued=at(3), lease_until=at(5)),
        mod(4, state=QUEUED, date_queued=at(0)),
    )
    taken = await storage.claim(AVAILABLE, 10, now=at(10), lease_until=at(20))
    assert [(m.id, m.state, m.lease_until) for m in taken] == [
        (1, AVAILABLE, at(20)),
        (3, AVAILABLE, at(20)),
    ]
    assert await storage.claim(AVAILABLE, 10, now=at(10), lease_until=at(20)) == []


async def test_renew_extends_leases(storage: Storage) -> None:
    """A renewed lease keeps the mod from being taken again."""
    await put(storage, mod(1, state=QUEUED), mod(2, state=QUEUED))
    await storage.claim(QUEUED, 10, now=at(0), lease_until=at(5))
    await storage.renew([1, 99], lease_until=at(60))
    retaken = await storage.claim(QUEUED, 10, now=at(10), lease_until=at(20))
    assert [m.id for m in retaken] == [2]
    got = await storage.get_mod(1)
    assert got is not None and got.lease_until == at(60)


async def test_queue_size_and_archived(storage: Storage) -> None:
    """The queue is waiting plus downloading mods; archived lists mods claiming a file."""
    archive = Archive(key="k1", size=1, sha256="00")
    await put(
        storage,
        mod(1, state=QUEUED),
        mod(2, state=DOWNLOADING),
        mod(3, state=READY, archive=archive),
        mod(4, state=QUEUED, archive=attrs.evolve(archive, key="k4")),  # an update
        mod(5, state=AVAILABLE),
    )
    assert await storage.queue_size() == 3
    assert sorted(await storage.archived()) == [(3, "k1"), (4, "k4")]


async def test_failures_are_upserted_and_cleared(storage: Storage) -> None:
    """One failure per mod, the latest kept, until a transition clears it."""
    first = Failure(mod_id=MAX_STEAM_ID, reason=FailureReason.TIMEOUT, attempts=1, date=at(0))
    second = Failure(
        mod_id=MAX_STEAM_ID, reason=FailureReason.ACCESS_DENIED, attempts=2, date=at(1),
        detail="Access Denied",
    )  # fmt: skip
    assert await storage.get_failure(MAX_STEAM_ID) is None
    row = mod(MAX_STEAM_ID, state=QUEUED)
    await put(storage, row)
    assert await storage.apply(Transition.of(row, row, failure=first))
    assert await storage.apply(Transition.of(row, row, failure=second))
    assert await storage.get_failure(MAX_STEAM_ID) == second
    assert await storage.apply(Transition.of(row, row, clears_failure=True))
    assert await storage.apply(Transition.of(row, row, clears_failure=True))
    assert await storage.get_failure(MAX_STEAM_ID) is None


# --- transitions: one write each ------------------------------------------------------------

PAGE = PageContent(
    tags=("B", "A", "B"),
    dependencies=(30, 10, 30),
    resources=((ResourceType.LOGO, "l"), (ResourceType.SCREENSHOT, "s")),
    at=at(5),
)


async def test_enrichment_writes_the_page_with_the_state(storage: Storage) -> None:
    """available → ready with the page: tags (of the mod's game), dependencies, resources
    and the state, together."""
    parsed = mod(1, state=AVAILABLE, lease_until=at(9), attempts=1)
    await put(storage, parsed)
    assert await storage.apply(Transition.of(parsed, parsed.enriched(), page=PAGE))
    got = await storage.get_mod(1)
    assert got is not None and (got.state, got.lease_until, got.attempts) == (READY, None, 0)
    assert await storage.mod_tags([1], []) == {1: [Tag(id=1, name="B"), Tag(id=2, name="A")]}
    assert [t.name for t in (await storage.list_tags(10, Paging())).items] == ["B", "A"]
    assert await storage.dependencies(1, 10) == ([30, 10], 2)
    page = await storage.list_resources([1], [], Paging())
    assert [(r.type, r.url, r.date_event) for r in page.items] == [
        (ResourceType.LOGO, "l", at(5)),
        (ResourceType.SCREENSHOT, "s", at(5)),
    ]
    assert await listed(storage, tags=(1, 2)) == [1]


async def test_a_transition_that_loses_the_race_writes_nothing(storage: Storage) -> None:
    """Compare-and-set: a row in another state (taken over by another worker) keeps its
    state, and the page, the failure and the failure's clearing are not written either."""
    parsed = mod(1, state=AVAILABLE)
    await put(storage, parsed)
    taken_over = attrs.evolve(parsed, state=READY)
    assert not await storage.apply(Transition.of(taken_over, taken_over, page=PAGE))
    failure = Failure(mod_id=1, reason=FailureReason.TIMEOUT, attempts=1, date=at(0))
    stale = mod(1, state=DOWNLOADING)
    assert not await storage.apply(Transition.of(stale, stale.failed(now=at(1)), failure=failure))
    got = await storage.get_mod(1)
    assert got is not None and got.state is AVAILABLE
    assert await storage.mod_tags([1], []) == {}
    assert await storage.dependencies(1, 10) == ([], 0)
    assert (await storage.list_resources([1], [], Paging())).total == 0
    assert await storage.get_failure(1) is None


async def test_a_final_failure_removes_the_row_and_keeps_the_reason(storage: Storage) -> None:
    """downloading → gone, with the failure, in one write; a failed update goes back to
    ready with its archive, the failure kept."""
    archive = Archive(key="k", size=1, sha256="00")
    fresh, update = mod(1, state=DOWNLOADING), mod(2, state=DOWNLOADING, archive=archive)
    await put(storage, fresh, update)
    for row in (fresh, update):
        failure = Failure(mod_id=row.id, reason=FailureReason.BANNED, attempts=1, date=at(1))
        assert await storage.apply(Transition.of(row, row.failed(now=at(1)), failure=failure))
        assert await storage.get_failure(row.id) == failure
    assert await storage.get_mod(1) is None
    back = await storage.get_mod(2)
    assert back is not None and (back.state, back.archive, back.date_checked) == (
        READY,
        archive,
        at(1),
    )


async def test_an_archived_mod_forgets_its_last_failure(storage: Storage) -> None:
    """downloading → available with the archive clears the failure in the same write."""
    row = mod(1, state=QUEUED)
    await put(storage, row)
    failure = Failure(mod_id=1, reason=FailureReason.TIMEOUT, attempts=1, date=at(0))
    assert await storage.apply(Transition.of(row, row, failure=failure))
    (claimed,) = await storage.claim(QUEUED, 1, now=at(1), lease_until=at(2))
    item = ItemDetails(id=1, app_id=10, title="T", time_updated=7)
    packed = Archive(key="1/7.zip", size=5, sha256="ab")
    done = claimed.archived(item, packed, now=at(1), lease_until=at(3))
    assert await storage.apply(Transition.of(claimed, done, clears_failure=True))
    assert await storage.get_failure(1) is None
    assert await storage.get_mod(1) == done


async def test_a_request_inserts_only_once(storage: Storage) -> None:
    """A new row is a transition from no row: a second one finds the row and writes nothing."""
    first = Mod.requested(1, now=at(0))
    assert await storage.apply(Transition.of(None, first))
    assert not await storage.apply(Transition.of(None, Mod.requested(1, now=at(1))))
    assert await storage.get_mod(1) == first
