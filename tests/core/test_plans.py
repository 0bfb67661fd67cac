"""Install plans and collections in the core: the order and the cycles of a catalog with
chains and rings, the calls Steam sees (batched per level, none the second time), the bound,
collections expanded (nested, guarded), queueing in one go, and a collection met in the
queue never given to steamcmd."""

from __future__ import annotations

import pytest

from openworkshop import ModState, Workshop
from openworkshop.errors import PlanTooLarge
from openworkshop.plans import PLAN_LIMIT, Plan
from openworkshop.query import CollectionQuery, PlanQuery
from openworkshop.service import CollectionQueued, Queued
from openworkshop.testing import FakeClock, FakeSteamSource, SteamCatalog
from tests.steam.catalogs import make_item

pytestmark = pytest.mark.anyio

LEVELS = 5
WIDTH = 4
BASE = 7_000_000_000


def layered(level: int, n: int) -> int:
    return BASE + level * 100 + n


def chain_catalog() -> SteamCatalog:
    """20 mods in 5 levels of 4: each mod requires two of the next level (the last none);
    a ring of three; a mod requiring itself; a collection holding a nested one and a mod."""
    catalog = SteamCatalog()
    for level in range(LEVELS):
        for n in range(WIDTH):
            deps = (
                ()
                if level == LEVELS - 1
                else (layered(level + 1, n), layered(level + 1, (n + 1) % WIDTH))
            )
            catalog.add_item(make_item(layered(level, n), dependencies=deps))
    catalog.add_item(make_item(RING[0], dependencies=(RING[1],)))
    catalog.add_item(make_item(RING[1], dependencies=(RING[2],)))
    catalog.add_item(make_item(RING[2], dependencies=(RING[0],)))
    catalog.add_item(make_item(SELF, dependencies=(SELF,)))
    catalog.add_item(make_item(OUTER, is_collection=True, dependencies=(RING[2], INNER, SELF)))
    catalog.add_item(make_item(INNER, is_collection=True, dependencies=(layered(4, 0), OUTER)))
    return catalog


RING = (7_100_000_001, 7_100_000_002, 7_100_000_003)
SELF = 7_100_000_009
OUTER = 7_200_000_001
INNER = 7_200_000_002
TOP = [layered(0, n) for n in range(WIDTH)]


@pytest.fixture
def catalog() -> SteamCatalog:
    return chain_catalog()


@pytest.fixture
def steam(catalog: SteamCatalog) -> FakeSteamSource:
    return FakeSteamSource(catalog, with_key=True)


def ids(plan: Plan) -> list[int]:
    return [e.id for e in plan.entries]


def assert_dependencies_first(plan: Plan) -> None:
    position = {e.id: n for n, e in enumerate(plan.entries)}
    broken = {c.broken for c in plan.cycles}
    for entry in plan.entries:
        for dep in entry.dependencies or ():
            if (entry.id, dep) not in broken:
                assert position[dep] < position[entry.id], (dep, entry.id)


async def test_a_chain_of_depth_5_costs_one_batched_details_call_per_level(
    workshop: Workshop, steam: FakeSteamSource
) -> None:
    """20 mods the server lacks, 5 levels deep: 5 details calls (one per level), no
    collection call (every item has content), each dependency before what needs it, parents
    the first mod that pulled each in; the same plan again costs Valve nothing."""
    plan = await workshop.plan(PlanQuery(mod_ids=tuple(TOP)))
    assert steam.calls["details"] == LEVELS
    assert steam.calls["collection"] == 0
    assert sorted(ids(plan)) == sorted(layered(lv, n) for lv in range(LEVELS) for n in range(WIDTH))
    assert_dependencies_first(plan)
    assert plan.complete and plan.cycles == ()
    entries = {e.id: e for e in plan.entries}
    assert all(entries[i].parent is None for i in TOP)
    assert entries[layered(1, 1)].parent == layered(0, 0)  # the first to pull it in
    assert entries[layered(0, 0)].dependencies == (layered(1, 0), layered(1, 1))
    assert entries[layered(0, 0)].name == f"Item {layered(0, 0)}"
    assert all(e.condition is None and e.sha256 is None for e in plan.entries)
    # deterministic: the walk follows the request's order, then Steam's
    assert ids(plan)[:5] == [
        layered(4, 0),
        layered(4, 1),
        layered(3, 0),
        layered(4, 2),
        layered(3, 1),
    ]

    before = dict(steam.calls)
    again = await workshop.plan(PlanQuery(mod_ids=tuple(TOP)))
    assert dict(steam.calls) == before
    assert again.entries == plan.entries


async def test_cycles_are_reported_and_broken_the_same_way_every_time(
    workshop: Workshop,
) -> None:
    """A ring of three and a mod requiring itself: each reported with the ids that form it
    and the edge left out (the one closing the ring); the order is then dependencies first."""
    plan = await workshop.plan(PlanQuery(mod_ids=(RING[0], SELF)))
    assert ids(plan) == [RING[2], RING[1], RING[0], SELF]
    assert [(c.ids, c.broken) for c in plan.cycles] == [
        (RING, (RING[2], RING[0])),
        ((SELF,), (SELF, SELF)),
    ]
    assert_dependencies_first(plan)
    again = await workshop.plan(PlanQuery(mod_ids=(RING[0], SELF)))
    assert again == plan


async def test_a_collection_expands_to_its_items_nested_and_guarded(
    workshop: Workshop, steam: FakeSteamSource
) -> None:
    """A collection holding a nested collection that holds the first again: its items stand
    where it stood (direct requests, ``collection`` named), nested items once, the ring among
    them reported; two batched collection calls (one per level of nesting); none the second
    time, and ``/info/collection`` answers from memory."""
    plan = await workshop.plan(PlanQuery(mod_ids=(OUTER,)))
    assert steam.calls["collection"] == 2
    assert plan.collections[OUTER] == (RING[2], layered(4, 0), SELF)
    assert OUTER not in ids(plan) and INNER not in ids(plan)
    entries = {e.id: e for e in plan.entries}
    for item in (RING[2], layered(4, 0), SELF):
        assert entries[item].parent is None and entries[item].collection == OUTER
    assert entries[RING[0]].parent == RING[2] and entries[RING[0]].collection is None
    assert entries[RING[1]].parent == RING[0]
    assert_dependencies_first(plan)

    before = dict(steam.calls)
    info = await workshop.collection_info(CollectionQuery(collection_id=OUTER))
    assert info is not None
    assert [(i.id, i.condition) for i in info.items] == [
        (RING[2], None),
        (layered(4, 0), None),
        (SELF, None),
    ]
    assert dict(steam.calls) == before
    assert await workshop.collection_info(CollectionQuery(collection_id=layered(0, 0))) is None


async def test_the_plan_is_bounded(workshop: Workshop, catalog: SteamCatalog) -> None:
    """More than 500 ids asked, or a closure past 500 mods: PlanTooLarge (413)."""
    with pytest.raises(PlanTooLarge):
        await workshop.plan(PlanQuery(mod_ids=tuple(range(1, PLAN_LIMIT + 2))))
    wide = 7_300_000_000
    children = tuple(wide + 1 + n for n in range(PLAN_LIMIT))
    catalog.add_item(make_item(wide, dependencies=children))
    for child in children:
        catalog.add_item(make_item(child))
    with pytest.raises(PlanTooLarge):
        await workshop.plan(PlanQuery(mod_ids=(wide,)))
    assert "500" in PlanTooLarge.message
    fits = await workshop.plan(PlanQuery(mod_ids=children))
    assert len(fits.entries) == PLAN_LIMIT


async def test_queue_true_queues_every_mod_the_server_lacks(
    workshop: Workshop, steam: FakeSteamSource
) -> None:
    """Every entry without a row is queued (condition 3 in the answer and in storage); a
    missing mod is marked and not queued."""
    missing = 7_999_999_999
    plan = await workshop.plan(PlanQuery(mod_ids=(layered(3, 0), missing), queue=True))
    assert set(plan.queued) == {layered(3, 0), layered(4, 0), layered(4, 1)}
    entries = {e.id: e for e in plan.entries}
    assert entries[missing].missing and entries[missing].condition is None
    assert all(entries[i].condition is ModState.QUEUED for i in plan.queued)
    states = await workshop.catalog.mod_states(list(entries))
    assert states == dict.fromkeys(plan.queued, ModState.QUEUED)


async def test_without_a_key_dependencies_come_with_the_page(
    workshop: Workshop, catalog: SteamCatalog
) -> None:
    """Keyless details carry no required items: the plan says so (``dependencies`` None,
    not complete) until the server has the mod and its page; then they are the catalog's."""
    keyless = FakeSteamSource(catalog)
    workshop.steam = workshop.planner.steam = workshop.pipeline.steam = keyless
    workshop.batcher._steam = keyless
    plan = await workshop.plan(PlanQuery(mod_ids=(layered(3, 0),), queue=True))
    assert ids(plan) == [layered(3, 0)] and not plan.complete
    assert plan.entries[0].dependencies is None
    await workshop.pipeline.drain()
    plan = await workshop.plan(PlanQuery(mod_ids=(layered(3, 0),)))
    assert plan.entries[-1].dependencies == (layered(4, 0), layered(4, 1))
    assert ids(plan) == [layered(4, 0), layered(4, 1), layered(3, 0)]
    assert plan.entries[-1].condition is ModState.READY and plan.entries[-1].sha256
    assert not plan.complete  # the two new ones are still to be fetched


async def test_a_collection_met_in_the_queue_queues_its_items_and_is_never_downloaded(
    workshop: Workshop, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """``/download/steam/{collection}`` for a collection nobody described yet is queued like
    any id; the worker's details show a collection: one collection call, its items queued,
    its row gone without a failure, nothing of it given to steamcmd. The next request
    answers 202 with the list at once; after the cooldown Steam is asked again."""
    first = await workshop.request_download(INNER)
    assert isinstance(first, Queued)
    await workshop.pipeline.step()
    assert steam.calls["collection"] == 2  # INNER, then the nested OUTER
    assert all(INNER not in batch and OUTER not in batch for batch in steam.downloaded)
    assert await workshop.queue.get_failure(INNER) is None
    assert (await workshop.queue.get_mod(INNER)) is None
    await workshop.pipeline.drain()
    again = await workshop.request_download(INNER)
    assert isinstance(again, CollectionQueued)
    items = [i.id for i in again.collection.items]
    assert items == [layered(4, 0), RING[2], SELF]
    assert {i.condition for i in again.collection.items} == {ModState.READY}
    assert again.queued == ()
    assert again.body()["items"][0] == {"id": layered(4, 0), "condition": 0}

    clock.advance(4 * 3600)
    before = steam.calls["collection"]
    assert await workshop.collection_info(CollectionQuery(collection_id=INNER)) is not None
    assert steam.calls["collection"] == before + 2
