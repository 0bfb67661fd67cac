"""The pipeline end to end: SQLite storage, the real Steam adapter, archives on disk, and the
fake Steam over loopback with real fake-steamcmd processes."""

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
from openworkshop.testing import SteamCatalog, sample_catalog
from openworkshop.testing.sample import PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID
from openworkshop_sqlite import SqliteStorage
from openworkshop_steam import SteamWebSource
from openworkshop_steam.fake.cli import RunningFakeSteam, start_fake_steam
from openworkshop_steam.fake.steamcmd import read_sessions

pytestmark = pytest.mark.anyio

KEY = "E2EKEY000000000000000000000000000"


@attrs.define
class Rig:
    workshop: Workshop
    fake: RunningFakeSteam
    catalog: SteamCatalog
    data: Path

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
    workshop = Workshop(
        storage=SqliteStorage(tmp_path / "catalog.sqlite3"),
        steam=source,
        archives=FileArchiveStore(tmp_path / "archives"),
        settings=Settings(gather_window=0.2, **settings),  # type: ignore[arg-type]
        downloads_dir=tmp_path / "downloads",
    )
    try:
        async with workshop:
            yield Rig(workshop=workshop, fake=fake, catalog=catalog, data=tmp_path)
    finally:
        await source.close()
        await fake.stop()


@pytest.fixture
async def rig(tmp_path: Path, catalog: SteamCatalog) -> AsyncIterator[Rig]:
    async for made in make_rig(tmp_path, catalog, update_cooldown=1.0):
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
    await wait_for(rig.workshop, [mod_id])
    old = await rig.workshop.cached(mod_id)
    rig.catalog.publish_update(
        mod_id, files={"About/About.xml": "version 2"}, time_updated=2_000_000_000
    )
    served = await rig.workshop.request_download(mod_id)
    assert isinstance(served, ArchiveHandle)  # within the cooldown: no check, old archive
    await asyncio.sleep(1.1)
    answer = await rig.workshop.request_download(mod_id)
    assert isinstance(answer, Queued) and answer.updating
    assert (await rig.workshop.cached(mod_id)).archive == old.archive
    await asyncio.sleep(0.05)
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
        await wait_for(rig.workshop, ids)
        calls = rig.fake.steam.calls
        assert calls["page"] == 0 and calls["details"] == 0
        assert calls["service_details"] == 1
        with_deps = next(i for i in ids if catalog.items[i].dependencies)
        deps, count = await rig.workshop.storage.dependencies(with_deps, 20)
        assert deps == list(catalog.items[with_deps].dependencies) and count == len(deps)
