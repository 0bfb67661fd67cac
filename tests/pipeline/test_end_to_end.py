"""The pipeline end to end: SQLite storage, the real Steam adapter, archives on disk, and the
fake Steam over loopback with real fake-steamcmd processes.

What is batched is decided by an explicit gate (``AllRequestsIn``), opened when every request
of a test is in, and time by a fake clock: nothing depends on the machine's speed."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from openworkshop import FileArchiveStore, ModState, Queued, Settings, Workshop
from openworkshop.domain import FailureReason
from openworkshop.owners import OWNERS
from openworkshop.service import ArchiveHandle
from openworkshop.testing import FakeClock, SteamCatalog, sample_catalog
from openworkshop.testing.sample import PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID
from openworkshop_sqlite import SqliteStorage
from openworkshop_steam import SteamWebSource
from openworkshop_steam.fake.cli import RunningFakeSteam, start_fake_steam
from openworkshop_steam.fake.steamcmd import read_sessions

from ..gathering import AllRequestsIn

pytestmark = pytest.mark.anyio

KEY = "E2EKEY000000000000000000000000000"


@attrs.define
class Rig:
    workshop: Workshop
    fake: RunningFakeSteam
    catalog: SteamCatalog
    data: Path
    all_in: AllRequestsIn
    clock: FakeClock

    def sessions(self) -> list[dict[str, object]]:
        return read_sessions(self.fake.session_log)


@pytest.fixture
def catalog() -> SteamCatalog:
    return sample_catalog()


async def make_rig(
    tmp_path: Path, catalog: SteamCatalog, *, key: str | None = None, **settings: object
) -> AsyncIterator[Rig]:
    fake = await start_fake_steam(
        catalog=catalog, steamcmd_dir=tmp_path / "steamcmd", login_delay=0.05, api_keys=[KEY]
    )
    steam = fake.steam
    source = SteamWebSource(
        api_url=steam.api_url,
        community_url=steam.community_url,
        store_url=steam.store_url,
        steamcmd=str(fake.steamcmd),
        api_key=key,
        steamcmd_env={"OPENWORKSHOP_FAKE_STEAMCMD_ITEM_DELAY": "0.01"},
    )
    clock = FakeClock()
    workshop = Workshop(
        storage=SqliteStorage(tmp_path / "catalog.sqlite3"),
        steam=source,
        archives=FileArchiveStore(tmp_path / "archives"),
        clock=clock,
        settings=Settings(**{"gather_window": 0.2, **settings}),  # type: ignore[arg-type]
        downloads_dir=tmp_path / "downloads",
    )
    all_in = AllRequestsIn()
    workshop.pipeline.gathering = all_in.wait
    try:
        async with workshop:
            yield Rig(
                workshop=workshop,
                fake=fake,
                catalog=catalog,
                data=tmp_path,
                all_in=all_in,
                clock=clock,
            )
    finally:
        await source.close()
        await fake.stop()


@pytest.fixture
async def rig(tmp_path: Path, catalog: SteamCatalog) -> AsyncIterator[Rig]:
    async for made in make_rig(tmp_path, catalog, update_cooldown=3600.0):
        yield made


def fetchable(catalog: SteamCatalog) -> list[int]:
    return [i for i, item in catalog.items.items() if item.visible and not item.download_error]


def unzip(handle: ArchiveHandle) -> dict[str, bytes]:
    assert handle.path is not None
    with zipfile.ZipFile(handle.path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def files_of(catalog: SteamCatalog, mod_id: int) -> dict[str, bytes]:
    return {path: b"".join(chunks) for path, chunks in catalog.items[mod_id].iter_files()}


async def wait_for(
    workshop: Workshop, ids: list[int], timeout: float = 60
) -> dict[int, ModState | None]:
    states = await workshop.wait_until(ids, [ModState.READY], timeout=timeout)
    return states


async def test_thirty_mods_share_calls(rig: Rig) -> None:
    """30 requests close together: one details POST, two steamcmd logins (25 + 5), one store
    call per game, one page per mod; every archive holds exactly the item's files."""
    ids = fetchable(rig.catalog)[:30]
    answers = await asyncio.gather(*(rig.workshop.request_download(i) for i in ids))
    assert all(isinstance(a, Queued) for a in answers)
    rig.all_in.open()
    states = await wait_for(rig.workshop, ids)
    assert set(states.values()) == {ModState.READY}
    calls = rig.fake.steam.calls
    assert calls["details"] == 1
    assert sorted(len(s["items"]) for s in rig.sessions()) == [5, 25]  # type: ignore[arg-type]
    assert calls["appdetails"] == len({rig.catalog.items[i].details.app_id for i in ids})
    assert calls["page"] == 30
    for mod_id in ids:
        handle = await rig.workshop.cached(mod_id)
        assert unzip(handle) == files_of(rig.catalog, mod_id)
    downloads = rig.data / "downloads"
    leftovers = [p for p in downloads.rglob("*") if p.is_file() and OWNERS not in p.parts]
    assert leftovers == []  # steamcmd's folder is cleaned after packing (the lock is the owner's)


async def test_failures_end_clearly(rig: Rig) -> None:
    """A private item and one steamcmd refuses end as failures with reasons; no row, no file."""
    for mod_id in (PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID):
        assert isinstance(await rig.workshop.request_download(mod_id), Queued)
    rig.all_in.open()
    await wait_for(rig.workshop, [PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID])
    storage = rig.workshop.storage
    assert await storage.get_mod(PRIVATE_MOD_ID) is None
    assert await storage.get_mod(UNFETCHABLE_MOD_ID) is None
    private = await storage.get_failure(PRIVATE_MOD_ID)
    denied = await storage.get_failure(UNFETCHABLE_MOD_ID)
    assert private is not None and private.reason is FailureReason.NOT_FOUND
    assert denied is not None and denied.reason is FailureReason.ACCESS_DENIED
    assert await rig.workshop.archives.keys() == []


async def test_update_end_to_end(rig: Rig) -> None:
    """After the cooldown a newer version is fetched while the old archive is served."""
    mod_id = fetchable(rig.catalog)[3]
    await rig.workshop.request_download(mod_id)
    rig.all_in.open()
    await wait_for(rig.workshop, [mod_id])
    old = await rig.workshop.cached(mod_id)
    rig.catalog.publish_update(
        mod_id, files={"About/About.xml": "version 2"}, time_updated=2_000_000_000
    )
    served = await rig.workshop.request_download(mod_id)
    assert isinstance(served, ArchiveHandle)  # within the cooldown: no check, old archive
    rig.all_in.close()  # the update waits until the old archive is seen served
    rig.clock.advance(3601)
    answer = await rig.workshop.request_download(mod_id)
    assert isinstance(answer, Queued) and answer.updating
    assert (await rig.workshop.cached(mod_id)).archive == old.archive
    rig.all_in.open()
    await wait_for(rig.workshop, [mod_id])
    new = await rig.workshop.cached(mod_id)
    assert new.archive != old.archive
    assert unzip(new)["About/About.xml"] == b"version 2"
    assert old.path is not None and not old.path.exists()


async def test_keyed_api_fetches_no_pages(tmp_path: Path, catalog: SteamCatalog) -> None:
    """With a Web API key: one GetDetails call for the batch, dependencies and screenshots
    from it, and no workshop page at all."""
    async for rig in make_rig(tmp_path, catalog, key=KEY):
        ids = fetchable(catalog)[:10]
        await asyncio.gather(*(rig.workshop.request_download(i) for i in ids))
        rig.all_in.open()
        await wait_for(rig.workshop, ids)
        calls = rig.fake.steam.calls
        assert calls["page"] == 0 and calls["details"] == 0
        assert calls["service_details"] == 1
        with_deps = next(i for i in ids if catalog.items[i].dependencies)
        deps, count = await rig.workshop.storage.dependencies(with_deps, 20)
        assert deps == list(catalog.items[with_deps].dependencies) and count == len(deps)


async def test_requests_arriving_slowly_share_one_batch(
    tmp_path: Path, catalog: SteamCatalog
) -> None:
    """Requests that arrive one by one, however slowly, go out as one batch once the test says
    they are all in: the pipeline's round waits at the gate, not for a window of time."""
    async for rig in make_rig(tmp_path, catalog, gather_window=0.0):
        ids = fetchable(catalog)[:8]
        async with asyncio.timeout(30):
            await rig.all_in.reached()  # a round is waiting to claim
        for mod_id in ids:
            assert isinstance(await rig.workshop.request_download(mod_id), Queued)
        rig.all_in.open()
        states = await wait_for(rig.workshop, ids)
        assert set(states.values()) == {ModState.READY}
        assert rig.fake.steam.calls["details"] == 1
        assert [len(s["items"]) for s in rig.sessions()] == [8]  # type: ignore[arg-type]
