"""The Workshop service's flows against the in-memory fakes (and the SQLite storage)."""

from __future__ import annotations

import asyncio
import io
import os
import zipfile

import attrs
import pytest

from openworkshop import FailureReason, ModState, Queued, Workshop
from openworkshop.errors import (
    AlreadyProcessing,
    AlreadyUpToDate,
    CheckedRecently,
    ModDamaged,
    ModNotFound,
    ModNotOnServer,
    ModNotOnSteam,
    ModStillLoading,
    NotReady,
    NotUpdatable,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from openworkshop.query import (
    ConditionQuery,
    GameInfoQuery,
    ModInfoQuery,
    ModListQuery,
    ResourcesQuery,
)
from openworkshop.service import ArchiveHandle
from openworkshop.testing import FakeClock, FakeSteamSource, MemoryArchiveStore, SteamCatalog
from openworkshop.testing.sample import PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID
from tests.core.conftest import settle

pytestmark = pytest.mark.anyio


def mod_ids(catalog: SteamCatalog, app_id: int | None = None) -> list[int]:
    return [
        i
        for i, item in catalog.items.items()
        if item.visible and item.download_error is None and app_id in (None, item.details.app_id)
    ]


def archive_files(handle: ArchiveHandle) -> dict[str, bytes]:
    with handle.open() as raw, zipfile.ZipFile(io.BytesIO(raw.read())) as archive:
        for info in archive.infolist():
            assert info.compress_type == zipfile.ZIP_BZIP2
        return {name: archive.read(name) for name in archive.namelist()}


def catalog_files(catalog: SteamCatalog, mod_id: int) -> dict[str, bytes]:
    return {path: b"".join(chunks) for path, chunks in catalog.items[mod_id].iter_files()}


async def test_request_to_ready(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """request → 3 (visible at once) → … → 0; the archive holds the item's files."""
    mod_id = mod_ids(catalog)[3]
    answer = await workshop.request_download(mod_id)
    assert isinstance(answer, Queued)
    assert answer.body() == {
        "message": "request added to queue",
        "error_id": 0,
        "unsuccessful_attempts": False,
        "updating": False,
    }
    assert await workshop.conditions(ConditionQuery(mod_ids=(mod_id,))) == {mod_id: ModState.QUEUED}
    assert await workshop.queue_size() == 1
    with pytest.raises(ModStillLoading):
        await workshop.cached(mod_id)
    await settle(workshop, clock)
    info = await workshop.mod_info(ModInfoQuery(mod_id=mod_id, dependencies=True, game=True))
    assert info.mod is not None and info.mod.state is ModState.READY
    item = catalog.items[mod_id]
    assert info.mod.name == item.details.title
    assert info.mod.size == item.details.file_size
    assert info.mod.game_id == item.details.app_id
    assert (
        info.game is not None and info.game.name == catalog.apps[item.details.app_id].details.name
    )
    assert info.dependencies == (list(item.dependencies), len(item.dependencies))
    handle = await workshop.cached(mod_id)
    assert archive_files(handle) == catalog_files(catalog, mod_id)
    assert steam.calls == {"details": 1, "app": 1, "download": 1, "extras": 1}
    tags = await workshop.storage.mod_tags([mod_id], [])
    assert [t.name for t in tags[mod_id]] == list(dict.fromkeys(item.details.tags))
    resources = await workshop.list_resources(ResourcesQuery(mod_ids=(mod_id,)))
    assert [r.url for r in resources.items] == [item.details.preview_url, *item.screenshots]
    assert await workshop.queue_size() == 0


async def test_concurrent_requests_merge(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """50 concurrent requests for one mod make one piece of work and one of each call."""
    mod_id = mod_ids(catalog)[0]
    answers = await asyncio.gather(
        *(workshop.request_download(mod_id) for _ in range(50)), return_exceptions=True
    )
    assert sum(isinstance(a, Queued) for a in answers) == 1
    assert sum(isinstance(a, AlreadyProcessing) for a in answers) == 49
    await settle(workshop, clock)
    assert steam.calls["details"] == 1 and steam.calls["download"] == 1


async def test_requests_close_together_share_calls(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """30 mods of 3 games: one details call, two steamcmd sessions (25 + 5), one store call
    per game, one page per mod."""
    ids = mod_ids(catalog)[:30]
    for mod_id in ids:
        assert isinstance(await workshop.request_download(mod_id), Queued)
    await settle(workshop, clock)
    games = {catalog.items[i].details.app_id for i in ids}
    assert steam.calls["details"] == 1
    assert sorted(len(batch) for batch in steam.downloaded) == [5, 25]
    assert steam.calls["app"] == len(games)
    assert steam.calls["extras"] == 30
    states = await workshop.conditions(ConditionQuery(mod_ids=tuple(ids)))
    assert set(states.values()) == {ModState.READY}


async def test_keyed_api_fetches_no_page(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """With extras in the details (the keyed API), no workshop page is fetched."""
    steam.with_key = True
    ids = mod_ids(catalog)[:5]
    for mod_id in ids:
        await workshop.request_download(mod_id)
    await settle(workshop, clock)
    assert steam.calls["extras"] == 0
    deps = await workshop.storage.dependencies(ids[2], 20)
    assert deps[0] == list(catalog.items[ids[2]].dependencies)


async def test_cached_mod_costs_steam_nothing_within_cooldown(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    mod_id = mod_ids(catalog)[1]
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    before = dict(steam.calls)
    clock.advance(3 * 3600 - 60)
    for _ in range(20):
        answer = await workshop.request_download(mod_id)
        assert isinstance(answer, ArchiveHandle)
        await workshop.cached(mod_id)
    assert steam.calls == before


async def test_stale_check_without_update_serves_cache(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """After the cooldown, one details call; same version → served, and the cooldown restarts."""
    mod_id = mod_ids(catalog)[1]
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    clock.advance(3 * 3600 + 1)
    assert isinstance(await workshop.request_download(mod_id), ArchiveHandle)
    assert steam.calls["details"] == 2
    assert isinstance(await workshop.request_download(mod_id), ArchiveHandle)
    assert steam.calls["details"] == 2


async def test_update_keeps_old_archive_until_new_one(
    workshop: Workshop,
    catalog: SteamCatalog,
    steam: FakeSteamSource,
    clock: FakeClock,
    archives: MemoryArchiveStore,
) -> None:
    """A newer version re-enters 3 → 2 → 1 → 0 while /download serves the old archive."""
    mod_id = mod_ids(catalog)[2]
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    old = await workshop.cached(mod_id)
    clock.advance(3 * 3600 + 1)
    new_time = catalog.items[mod_id].details.time_updated + 100
    catalog.publish_update(mod_id, files={"About/About.xml": "v2"}, time_updated=new_time)
    answer = await workshop.request_download(mod_id)
    assert isinstance(answer, Queued) and answer.updating
    assert await workshop.conditions(ConditionQuery(mod_ids=(mod_id,))) == {mod_id: ModState.QUEUED}
    during = await workshop.cached(mod_id)
    assert during.archive == old.archive
    with pytest.raises(AlreadyProcessing):
        await workshop.request_download(mod_id)
    await settle(workshop, clock)
    new = await workshop.cached(mod_id)
    assert new.archive.sha256 != old.archive.sha256
    assert archive_files(new) == {"About/About.xml": b"v2", **{
        k: v for k, v in catalog_files(catalog, mod_id).items() if k != "About/About.xml"}}  # fmt: skip
    assert await archives.keys() == [new.archive.key] + [
        k for k in await archives.keys() if not k.startswith(f"{mod_id}/")
    ]
    assert new.mod.time_updated == new_time


async def test_update_endpoint_rules(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """/update/steam: not here → 404 id1; within cooldown → 425; up to date → 208; newer → 202;
    gone from Steam → 404 id3."""
    mod_id = mod_ids(catalog)[4]
    with pytest.raises(NotUpdatable):
        await workshop.request_update(mod_id)
    await workshop.request_download(mod_id)
    with pytest.raises(NotUpdatable):  # queued, not in state 0
        await workshop.request_update(mod_id)
    await settle(workshop, clock)
    with pytest.raises(CheckedRecently) as info:
        await workshop.request_update(mod_id)
    assert 0 < info.value.retry_after <= 3 * 3600
    clock.advance(3 * 3600)
    with pytest.raises(AlreadyUpToDate):
        await workshop.request_update(mod_id)
    with pytest.raises(CheckedRecently):
        await workshop.request_update(mod_id)
    clock.advance(3 * 3600)
    catalog.publish_update(mod_id, files={"x.txt": "new"}, time_updated=2_000_000_000)
    queued = await workshop.request_update(mod_id)
    assert queued.updating
    await settle(workshop, clock)
    clock.advance(3 * 3600)
    catalog.items[mod_id] = attrs.evolve(catalog.items[mod_id], visibility=2)
    with pytest.raises(ModNotOnSteam):
        await workshop.request_update(mod_id)
    assert (await workshop.cached(mod_id)).mod.id == mod_id  # still served


async def test_damaged_archive(
    workshop: Workshop, catalog: SteamCatalog, clock: FakeClock, archives: MemoryArchiveStore
) -> None:
    """A row whose archive is gone is removed and reported damaged, then 'not on server'."""
    mod_id = mod_ids(catalog)[5]
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    handle = await workshop.cached(mod_id)
    archives.damage(handle.archive.key)
    with pytest.raises(ModDamaged):
        await workshop.cached(mod_id)
    with pytest.raises(ModNotOnServer):
        await workshop.cached(mod_id)
    assert await workshop.storage.get_mod(mod_id) is None


async def test_reconcile_on_start(
    workshop: Workshop, catalog: SteamCatalog, clock: FakeClock, archives: MemoryArchiveStore
) -> None:
    """Rows without archives and archives without rows are both removed."""
    a, b = mod_ids(catalog)[6:8]
    for mod_id in (a, b):
        await workshop.request_download(mod_id)
    await settle(workshop, clock)
    archives.damage((await workshop.cached(a)).archive.key)
    await archives.put("999/stray.zip", lambda out: out.write(b"PK"))
    archives.writers_died()  # its writer crashed before recording it
    assert await workshop.reconcile() == (1, 1)
    assert await workshop.storage.get_mod(a) is None
    assert await archives.keys() == [(await workshop.cached(b)).archive.key]


async def test_reconcile_spares_an_archive_another_process_is_recording(
    workshop: Workshop, clock: FakeClock, archives: MemoryArchiveStore
) -> None:
    """An unclaimed archive whose writer lives may be between storing it and recording it
    in the row: it stays, however old; once its writer is dead, it goes."""
    from openworkshop.pipeline import archive_key

    key = archive_key(4242, 1_700_000_000, clock.now())
    await archives.put(key, lambda out: out.write(b"PK"))
    clock.advance(10 * workshop.settings.lease)
    assert await workshop.reconcile() == (0, 0)
    assert await archives.keys() == [key]
    archives.writers_died()
    assert await workshop.reconcile() == (0, 1)
    assert await archives.keys() == []


async def test_private_mod_fails_for_good(
    workshop: Workshop, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """Not found is permanent: no retry, no row, the reason kept; next request is a 404 with
    the reason until the cooldown passes, then it may be tried again."""
    answer = await workshop.request_download(PRIVATE_MOD_ID)
    assert isinstance(answer, Queued)
    await settle(workshop, clock)
    assert steam.calls["details"] == 1 and steam.calls["download"] == 0
    assert await workshop.storage.get_mod(PRIVATE_MOD_ID) is None
    info = await workshop.mod_info(ModInfoQuery(mod_id=PRIVATE_MOD_ID))
    assert info.mod is None and info.failure is not None
    assert info.failure.reason is FailureReason.NOT_FOUND
    with pytest.raises(ModNotFound) as error:
        await workshop.request_download(PRIVATE_MOD_ID)
    assert error.value.body() == {
        "message": "this mod was not found",
        "error_id": 2,
        "reason": "not_found",
    }
    clock.advance(3 * 3600 + 1)
    again = await workshop.request_download(PRIVATE_MOD_ID)
    assert isinstance(again, Queued) and again.unsuccessful_attempts


async def test_access_denied_download_is_permanent(
    workshop: Workshop, steam: FakeSteamSource, clock: FakeClock
) -> None:
    await workshop.request_download(UNFETCHABLE_MOD_ID)
    await settle(workshop, clock)
    assert steam.calls["download"] == 1
    failure = await workshop.storage.get_failure(UNFETCHABLE_MOD_ID)
    assert failure is not None and failure.reason is FailureReason.ACCESS_DENIED


async def test_transient_failures_retry_then_succeed(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """Two timeouts, then success: three sessions, and the mod is ready."""
    mod_id = mod_ids(catalog)[9]
    steam.fail_next("download", FailureReason.TIMEOUT, times=2)
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    assert steam.calls["download"] == 3
    assert (await workshop.storage.get_mod(mod_id)).state is ModState.READY  # type: ignore[union-attr]


async def test_transient_failures_are_bounded(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """max_attempts (3 here) tries, then a final failure that the next request reports."""
    mod_id = mod_ids(catalog)[10]
    steam.fail_next("details", UpstreamUnavailable("boom"), times=1)
    steam.fail_next("download", FailureReason.NO_CONNECTION, times=10)
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    # each attempt looks the details up again; the first attempt failed at that step
    assert (steam.calls["details"], steam.calls["download"]) == (3, 2)
    failure = await workshop.storage.get_failure(mod_id)
    assert failure is not None and failure.reason is FailureReason.NO_CONNECTION
    assert failure.attempts == 3
    again = await workshop.request_download(mod_id)  # transient: may be tried again at once
    assert isinstance(again, Queued) and again.unsuccessful_attempts


async def test_failed_update_keeps_serving_previous_version(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    mod_id = mod_ids(catalog)[11]
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    old = await workshop.cached(mod_id)
    clock.advance(4 * 3600)
    catalog.publish_update(mod_id, files={"a": "b"}, time_updated=2_100_000_000)
    steam.fail_next("download", FailureReason.ACCESS_DENIED)
    assert isinstance(await workshop.request_download(mod_id), Queued)
    await settle(workshop, clock)
    mod = await workshop.storage.get_mod(mod_id)
    assert mod is not None and mod.state is ModState.READY and mod.archive == old.archive


async def test_rate_limit_pauses_all_upstream_work(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """A 429 pauses every upstream call for the cool-off instead of hammering."""
    mod_id = mod_ids(catalog)[12]
    steam.fail_next("details", UpstreamRateLimited())
    await workshop.request_download(mod_id)
    await workshop.pipeline.step()
    assert await workshop.gate.paused_until() is not None
    calls = dict(steam.calls)
    assert not await workshop.pipeline.step()  # paused: nothing happens
    assert steam.calls == calls
    clock.advance(workshop.settings.rate_limit_pause + workshop.settings.retry_base * 4)
    await settle(workshop, clock)
    assert (await workshop.storage.get_mod(mod_id)).state is ModState.READY  # type: ignore[union-attr]


async def test_not_ready_without_steamcmd(workshop: Workshop, steam: FakeSteamSource) -> None:
    """No way to download at all → 'the server is not ready' for a mod it lacks."""
    steam.can_download = False
    with pytest.raises(NotReady):
        await workshop.request_download(123)


async def test_catalog_lists_only_downloadable_mods(
    workshop: Workshop, catalog: SteamCatalog, clock: FakeClock
) -> None:
    ids = mod_ids(catalog, 294100)[:4]
    for mod_id in ids[:3]:
        await workshop.request_download(mod_id)
    await settle(workshop, clock)
    await workshop.request_download(ids[3])  # queued, not listed
    page = await workshop.list_mods(ModListQuery.from_params({"games": ["[294100]"]}).criteria)
    assert page.total == 3 and {m.id for m in page.items} == set(ids[:3])
    game = await workshop.game_info(GameInfoQuery(game_id=294100))
    assert game is not None and game.mods_count == 3


async def test_downloads_and_statistics(
    workshop: Workshop, catalog: SteamCatalog, clock: FakeClock
) -> None:
    """Sending counts a download and files_sent; delays are measured; summary adds up."""
    mod_id = mod_ids(catalog)[13]
    await workshop.request_download(mod_id)
    clock.advance(2)
    await settle(workshop, clock)
    handle = await workshop.cached(mod_id)
    await workshop.sent(handle)
    await workshop.sent(handle)
    await workshop.count_request("/download/")
    assert (await workshop.storage.get_mod(mod_id)).downloads == 2  # type: ignore[union-attr]
    summary = await workshop.summary()
    assert summary.mods == 1 and summary.mods_sent_count == 2 and summary.games == 1
    delays = await workshop.delay_stats()
    assert delays["full"] >= 2000
    await workshop.request_download(mod_id)
    assert (await workshop.delay_stats())["fast"] >= 1
    from openworkshop.query import DayStatsQuery

    rows = {r.type: r.count for r in await workshop.day_stats(DayStatsQuery())}
    assert rows["files_sent"] == 2 and rows["/download/"] == 1 and rows["start"] == 1
    assert rows["download_from_steam_ok"] == 1


async def test_update_that_is_not_newer_is_abandoned(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """Queued as an update, but Steam's version is the archived one by the time a worker
    looks: back to 0 with the same archive, and no download session."""
    mod_id = mod_ids(catalog)[14]
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    old = await workshop.cached(mod_id)
    original = catalog.items[mod_id]
    clock.advance(4 * 3600)
    catalog.publish_update(mod_id, files={"a": "b"}, time_updated=2_100_000_000)
    assert isinstance(await workshop.request_download(mod_id), Queued)
    catalog.items[mod_id] = original  # the author rolled the update back
    sessions = steam.calls["download"]
    await settle(workshop, clock)
    assert steam.calls["download"] == sessions
    mod = await workshop.storage.get_mod(mod_id)
    assert mod is not None and mod.state is ModState.READY and mod.archive == old.archive


async def test_start_sweeps_dead_workers_download_folders(workshop: Workshop) -> None:
    """steamcmd folders whose owner holds no lock are removed (also one named after this
    very process by an older version: a reused pid proves nothing); a live owner's stay."""
    import socket

    root = workshop.downloads_dir
    dead = root / f"{'a' * 32}~{'b' * 32}"
    same_pid = root / f"{socket.gethostname()}~{os.getpid()}~{'c' * 32}"
    live = root / workshop.pipeline.owner.tag()
    for folder in (dead, same_pid, live):
        (folder / "steamapps").mkdir(parents=True)
    assert await workshop.pipeline.sweep() == 2
    assert not dead.exists() and not same_pid.exists() and live.exists()


# --- failures: only Steam's own verdict is "not found" -------------------------------------


async def test_refused_mod_is_queued_again_and_waits_its_cool_off(
    workshop: Workshop, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """steamcmd refused the mod (access denied): the next request is 202 with the reason,
    never "not found"; the mod waits in state 3 (its reason in /info/mod) and a flood of
    requests costs Steam nothing until the cool-off has passed, then exactly one attempt."""
    await workshop.request_download(UNFETCHABLE_MOD_ID)
    await settle(workshop, clock)
    assert (steam.calls["details"], steam.calls["download"]) == (1, 1)
    again = await workshop.request_download(UNFETCHABLE_MOD_ID)
    assert isinstance(again, Queued)
    assert again.body() == {
        "message": "request added to queue",
        "error_id": 0,
        "unsuccessful_attempts": True,
        "updating": False,
        "reason": "access_denied",
    }
    condition = await workshop.conditions(ConditionQuery(mod_ids=(UNFETCHABLE_MOD_ID,)))
    assert condition == {UNFETCHABLE_MOD_ID: ModState.QUEUED}
    info = await workshop.mod_info(ModInfoQuery(mod_id=UNFETCHABLE_MOD_ID))
    assert info.mod is not None and info.mod.state is ModState.QUEUED
    assert info.failure is not None and info.failure.reason is FailureReason.ACCESS_DENIED
    for _ in range(20):  # the flood: "already being processed", with the reason
        with pytest.raises(AlreadyProcessing) as error:
            await workshop.request_download(UNFETCHABLE_MOD_ID)
        assert error.value.body()["reason"] == "access_denied"
        await workshop.pipeline.drain()
    clock.advance(3 * 3600 - 60)
    await workshop.pipeline.drain()
    assert (steam.calls["details"], steam.calls["download"]) == (1, 1)
    clock.advance(61)  # the cool-off has passed: one attempt
    await workshop.pipeline.drain()
    assert (steam.calls["details"], steam.calls["download"]) == (2, 2)
    assert isinstance(await workshop.request_download(UNFETCHABLE_MOD_ID), Queued)
    await workshop.pipeline.drain()
    assert steam.calls["download"] == 2


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(("download", FailureReason.LOGIN_REQUIRED), id="wrong-password"),
        pytest.param(("details", "rejected key"), id="rejected-web-api-key"),
    ],
)
async def test_a_login_failure_never_makes_a_mod_look_missing(
    workshop: Workshop,
    catalog: SteamCatalog,
    steam: FakeSteamSource,
    clock: FakeClock,
    fault: tuple[str, object],
) -> None:
    """A wrong server password (or a rejected Web API key) is the server's problem, not
    the mod's: the next request queues it again with the reason, never a 404."""
    from openworkshop.errors import SteamConfigurationError

    call, error = fault
    steam.fail_next(call, SteamConfigurationError(error) if isinstance(error, str) else error)
    mod_id = mod_ids(catalog)[15]
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    failure = await workshop.storage.get_failure(mod_id)
    assert failure is not None and failure.reason is FailureReason.LOGIN_REQUIRED
    again = await workshop.request_download(mod_id)
    assert isinstance(again, Queued) and again.unsuccessful_attempts
    assert again.reason == "login_required"
    clock.advance(3 * 3600 + 1)  # once the cool-off is over, it downloads as any other
    await settle(workshop, clock)
    assert (await workshop.storage.get_mod(mod_id)).state is ModState.READY  # type: ignore[union-attr]


async def test_only_steams_details_say_not_found(
    workshop: Workshop, catalog: SteamCatalog, clock: FakeClock
) -> None:
    """Banned in Steam's details: 404 with the reason. steamcmd's "File Not Found" for an item
    the details list: 202 again with the reason, the mod is not declared missing."""
    banned, gone = mod_ids(catalog)[16:18]
    item = catalog.items[banned]
    catalog.items[banned] = attrs.evolve(item, details=attrs.evolve(item.details, banned=True))
    catalog.items[gone] = attrs.evolve(catalog.items[gone], download_error="File Not Found")
    await workshop.request_download(banned)
    await workshop.request_download(gone)
    await settle(workshop, clock)
    with pytest.raises(ModNotFound) as error:
        await workshop.request_download(banned)
    assert error.value.body()["reason"] == "banned"
    again = await workshop.request_download(gone)
    assert isinstance(again, Queued) and again.reason == "file_not_found"


async def test_update_of_a_mod_steam_banned_is_not_on_steam(
    workshop: Workshop, catalog: SteamCatalog, clock: FakeClock
) -> None:
    """/update/steam: a banned mod is Steam's "not found" (error_id 3), not an update."""
    mod_id = mod_ids(catalog)[18]
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    clock.advance(4 * 3600)
    item = catalog.items[mod_id]
    catalog.items[mod_id] = attrs.evolve(
        item, details=attrs.evolve(item.details, banned=True, time_updated=2_100_000_000)
    )
    with pytest.raises(ModNotOnSteam):
        await workshop.request_update(mod_id)


async def test_a_full_disk_is_retried_and_never_not_found(
    workshop: Workshop,
    catalog: SteamCatalog,
    steam: FakeSteamSource,
    archives: MemoryArchiveStore,
    clock: FakeClock,
) -> None:
    """An archive that cannot be written (no space left) is a transient failure: retried
    with backoff, ready once space returns; after the last attempt the next request is 202
    again, never a 404."""
    first, second = mod_ids(catalog)[19:21]
    archives.failing_puts = 1
    await workshop.request_download(first)
    await settle(workshop, clock)
    assert steam.calls["download"] == 2
    assert (await workshop.storage.get_mod(first)).state is ModState.READY  # type: ignore[union-attr]
    archives.failing_puts = workshop.settings.max_attempts
    await workshop.request_download(second)
    await settle(workshop, clock)
    failure = await workshop.storage.get_failure(second)
    assert failure is not None and failure.reason is FailureReason.IO_ERROR
    assert failure.attempts == workshop.settings.max_attempts
    again = await workshop.request_download(second)
    assert isinstance(again, Queued) and again.reason == "io_error"
    await settle(workshop, clock)
    assert (await workshop.storage.get_mod(second)).state is ModState.READY  # type: ignore[union-attr]
