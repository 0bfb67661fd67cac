"""Install plans and collections over the real Steam client and the fake Steam server: the
calls Valve would see, counted by the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from openworkshop import Settings, Workshop
from openworkshop.query import CollectionQuery, PlanQuery
from openworkshop.testing import FakeClock, MemoryArchiveStore, MemoryStorage, SteamCatalog
from openworkshop_steam import SteamWebSource
from openworkshop_steam.fake import FakeSteam
from tests.steam.catalogs import make_item
from tests.steam.conftest import API_KEY

pytestmark = pytest.mark.anyio

DEPTH = 5
WIDTH = 4
BASE = 8_000_000_000
COLLECTION = 8_100_000_001
NESTED = 8_100_000_002


def mod(level: int, n: int) -> int:
    return BASE + level * 100 + n


@pytest.fixture
def catalog() -> SteamCatalog:
    """20 mods in 5 levels of 4, each requiring two of the next level; a collection of two
    of them and a nested collection (which holds the first again)."""
    catalog = SteamCatalog()
    for level in range(DEPTH):
        for n in range(WIDTH):
            deps = () if level == DEPTH - 1 else (mod(level + 1, n), mod(level + 1, (n + 1) % 4))
            catalog.add_item(make_item(mod(level, n), dependencies=deps))
    catalog.add_item(make_item(COLLECTION, is_collection=True, dependencies=(mod(3, 0), NESTED)))
    catalog.add_item(make_item(NESTED, is_collection=True, dependencies=(mod(4, 3), COLLECTION)))
    return catalog


@pytest.fixture
async def workshop_with(
    make_source: Callable[..., SteamWebSource], tmp_path: Path
) -> AsyncIterator[Callable[..., Workshop]]:
    made: list[tuple[Workshop, SteamWebSource]] = []

    def make(**source: object) -> Workshop:
        steam = make_source(**source)
        workshop = Workshop(
            storage=MemoryStorage(),
            steam=steam,
            archives=MemoryArchiveStore(),
            clock=FakeClock(),
            settings=Settings(gather_window=0.0),
            downloads_dir=tmp_path / f"downloads{len(made)}",
        )
        made.append((workshop, steam))
        return workshop

    yield make
    for workshop, steam in made:
        await workshop.stop()
        await steam.close()


async def test_a_chain_of_depth_5_across_20_mods_costs_5_batched_calls(
    workshop_with: Callable[..., Workshop], fake: FakeSteam
) -> None:
    """With a Web API key the details carry each mod's required items: one
    IPublishedFileService/GetDetails call per level (each asking for that level's ids), no
    other call (every mod has content, so none may be a collection); the same plan again
    costs nothing."""
    workshop = workshop_with(api_key=API_KEY)
    await workshop.start(workers=False)
    top = tuple(mod(0, n) for n in range(WIDTH))
    plan = await workshop.plan(PlanQuery(mod_ids=top))
    assert dict(fake.calls) == {"service_details": DEPTH}
    asked = [sorted(r.ids()) for r in fake.requests]
    assert asked == [sorted(mod(level, n) for n in range(WIDTH)) for level in range(DEPTH)]
    assert len(plan.entries) == DEPTH * WIDTH and plan.complete
    position = {e.id: i for i, e in enumerate(plan.entries)}
    assert all(position[d] < position[e.id] for e in plan.entries for d in e.dependencies or ())

    fake.reset_calls()
    again = await workshop.plan(PlanQuery(mod_ids=top))
    assert dict(fake.calls) == {}
    assert again.entries == plan.entries


async def test_without_a_key_the_plan_waits_for_pages_and_calls_one_details(
    workshop_with: Callable[..., Workshop], fake: FakeSteam
) -> None:
    """Keyless GetPublishedFileDetails carries no required items: one details call for the
    mods asked for, never a page per mod; the entries say their dependencies are unknown."""
    workshop = workshop_with()
    await workshop.start(workers=False)
    plan = await workshop.plan(PlanQuery(mod_ids=(mod(0, 0), mod(0, 1))))
    assert dict(fake.calls) == {"details": 1}
    assert not plan.complete and [e.dependencies for e in plan.entries] == [None, None]


async def test_a_collection_is_recognised_and_expanded_in_batched_calls(
    workshop_with: Callable[..., Workshop], fake: FakeSteam
) -> None:
    """Keyless: the collection's details carry no content, so GetCollectionDetails is asked
    (POST, ``collectioncount``), the nested collection in a second call, the ring among
    them guarded; its items head the plan with their own requirements. A second plan and
    ``/info/collection`` cost nothing."""
    workshop = workshop_with()
    await workshop.start(workers=False)
    plan = await workshop.plan(PlanQuery(mod_ids=(COLLECTION,)))
    assert plan.collections[COLLECTION] == (mod(3, 0), mod(4, 3))
    collection_calls = [r for r in fake.requests if r.endpoint == "collection"]
    assert [(r.method, dict(r.form)["collectioncount"]) for r in collection_calls] == [
        ("POST", "1"),
        ("POST", "1"),
    ]
    assert [e.id for e in plan.entries] == [mod(3, 0), mod(4, 3)]
    assert all(e.collection == COLLECTION and e.parent is None for e in plan.entries)
    fake.reset_calls()
    await workshop.plan(PlanQuery(mod_ids=(COLLECTION,)))
    info = await workshop.collection_info(CollectionQuery(collection_id=COLLECTION))
    assert info is not None and [i.id for i in info.items] == [mod(3, 0), mod(4, 3)]
    assert dict(fake.calls) == {}


async def test_the_fake_answers_a_collection_without_content(fake: FakeSteam) -> None:
    """GetPublishedFileDetails of a collection: no size, no depot manifest, no file and no
    ``file_type`` (the keyless answer cannot say); GetCollectionDetails of a mod: result 9
    inside ``collectiondetails``."""
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{fake.api_url}/ISteamRemoteStorage/GetPublishedFileDetails/v1/",
            data=f"itemcount=1&publishedfileids[0]={COLLECTION}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as answer:
            item = (await answer.json())["response"]["publishedfiledetails"][0]
        async with http.post(
            f"{fake.api_url}/ISteamRemoteStorage/GetCollectionDetails/v1/",
            data=f"collectioncount=1&publishedfileids[0]={mod(0, 0)}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as answer:
            response = (await answer.json())["response"]
    assert (item["result"], item["file_size"], item["hcontent_file"], item["file_url"]) == (
        1,
        "0",
        "",
        "",
    )
    assert "file_type" not in item and "filetype" not in item
    assert response == {
        "result": 1,
        "resultcount": 0,
        "collectiondetails": [{"publishedfileid": str(mod(0, 0)), "result": 9}],
    }
