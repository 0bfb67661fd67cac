"""The client against a real server process with the fake Steam, through a recording proxy:
dependency chains, resumed transfers, refused archives, updates, progress, cancellation.

Through the ``proxy`` the server looks like one of the original Open Workshop API (the
launcher endpoints hidden), so those run the client's fallback path (``/info/mod``
dependencies, ``/download/steam`` + ``/condition/mod``, ``/download``); test_plans.py runs the
launcher path (``/plan``), test_bulk_check.py ``POST /check/mods`` (which ``update`` and
``status`` use)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from openworkshop.testing.sample import PRIVATE_MOD_ID
from openworkshop_client import (
    ChecksumMismatch,
    Client,
    DiskFull,
    Done,
    Event,
    Extracting,
    Failed,
    InstallFailed,
    Manifest,
    ModRefused,
    ModRequired,
    Phase,
    Queued,
    Skipped,
    Transferring,
    UnsafeArchive,
    Verifying,
)
from tests.client.conftest import (
    BIG,
    CANCELLED,
    CHAIN,
    COLLECTION,
    CORRUPT,
    DISK_FULL,
    HOSTILE,
    KEPT,
    PARALLEL,
    SLOW,
    UNCHANGED,
    UPDATED,
    Server,
    files_in,
    files_of,
    server_etag,
)
from tests.client.proxy import Proxy

pytestmark = pytest.mark.anyio


def _snapshot(folder: Path) -> dict[str, bytes]:
    return files_in(folder) if folder.exists() else {}


async def test_install_puts_a_dependency_chain_in_place_dependencies_first(
    server: Server, proxy: Proxy, tmp_path: Path
) -> None:
    """Asked for the top of a chain of three, the client installs all three, each
    dependency before the mod that requires it; the files are the fake Steam's; the manifest
    records each mod's id, version and the sha256 the server announced."""
    events: list[Event] = []
    folder = tmp_path / "mods"
    async with Client(proxy.url) as client:
        installed = await client.install([CHAIN[0]], into=folder, progress=events.append)
    assert [m.id for m in installed] == [CHAIN[2], CHAIN[1], CHAIN[0]]
    done = [e.mod_id for e in events if isinstance(e, Done)]
    assert done == [CHAIN[2], CHAIN[1], CHAIN[0]]
    for mod_id in CHAIN:
        assert files_in(folder / str(mod_id)) == files_of(server.catalog, mod_id)
    manifest = Manifest.load(folder)
    assert set(manifest.mods) == set(CHAIN)
    for mod_id in CHAIN:
        mod = manifest.mods[mod_id]
        assert mod.sha256 == server_etag(server, mod_id)
        assert mod.version  # the server's date_update
    assert manifest.mods[CHAIN[0]].direct and not manifest.mods[CHAIN[2]].direct
    assert manifest.mods[CHAIN[1]].dependencies == (CHAIN[2],)
    assert sorted(p.name for p in folder.iterdir()) == sorted([".openworkshop", *map(str, CHAIN)])
    assert not list((folder / ".openworkshop").glob("tmp-*"))

    # installing again fetches nothing: every archive is checked with If-None-Match
    before = len(proxy.downloads())
    async with Client(proxy.url) as client:
        again: list[Event] = []
        await client.install([CHAIN[0]], into=folder, progress=again.append)
    assert len(proxy.downloads()) == before
    assert {e.mod_id for e in again if isinstance(e, Skipped)} == set(CHAIN)


async def test_a_collection_needs_the_launcher_endpoints(proxy: Proxy, tmp_path: Path) -> None:
    """The original API cannot expand a collection: the client says so, with the server's
    reason, and installs nothing (the collection endpoints are the launcher endpoints')."""
    folder = tmp_path / "mods"
    async with Client(proxy.url) as client:
        with pytest.raises(InstallFailed) as raised:
            await client.install([COLLECTION], into=folder)
    error = raised.value.failures[COLLECTION]
    assert isinstance(error, ModRefused)
    assert "is a collection" in str(error) and "name the collection's mods" in str(error)
    assert _snapshot(folder) == {}


async def test_a_mod_steam_refuses_fails_with_the_servers_reason(
    server: Server, tmp_path: Path
) -> None:
    events: list[Event] = []
    async with Client(server.url) as client:
        with pytest.raises(InstallFailed) as raised:
            await client.install([PRIVATE_MOD_ID], into=tmp_path / "mods", progress=events.append)
    error = raised.value.failures[PRIVATE_MOD_ID]
    assert isinstance(error, ModRefused) and error.reason == "not_found"
    failed = [e for e in events if isinstance(e, Failed)]
    assert [(e.mod_id, e.reason) for e in failed] == [(PRIVATE_MOD_ID, "not_found")]


async def test_an_interrupted_transfer_resumes_where_it_stopped(
    server: Server, proxy: Proxy, tmp_path: Path
) -> None:
    """The proxy cuts the archive after 1 MB; the client asks for the rest with Range and
    If-Range (the ETag), and no byte crosses the wire twice."""
    proxy.cut_after[BIG] = 1_000_000
    folder = tmp_path / "mods"
    async with Client(proxy.url) as client:
        await client.install([BIG], into=folder)
    assert files_in(folder / str(BIG)) == files_of(server.catalog, BIG)
    first, second = proxy.downloads(BIG)
    assert (first.status, first.range, first.body_bytes) == (200, None, 1_000_000)
    etag = server_etag(server, BIG)
    assert (second.status, second.range, second.if_range) == (206, "bytes=1000000-", f'"{etag}"')
    size = int(httpx.head(f"{server.url}/download/{BIG}").headers["content-length"])
    sent_twice = first.body_bytes + second.body_bytes - size
    assert sent_twice == 0
    assert Manifest.load(folder).mods[BIG].sha256 == etag
    assert not list((folder / ".openworkshop" / "partial").iterdir())


async def test_a_corrupted_archive_is_refused(server: Server, proxy: Proxy, tmp_path: Path) -> None:
    """One byte flipped on the way: the sha256 is not the ETag's, nothing is installed and
    the bad bytes are not kept for a resume."""
    proxy.corrupt.add(CORRUPT)
    folder = tmp_path / "mods"
    async with Client(proxy.url) as client:
        with pytest.raises(InstallFailed) as raised:
            await client.install([CORRUPT], into=folder)
    assert isinstance(raised.value.failures[CORRUPT], ChecksumMismatch)
    assert not (folder / str(CORRUPT)).exists()
    assert Manifest.load(folder).mods == {}
    assert not list((folder / ".openworkshop" / "partial").iterdir())


def _zip(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink is not None:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("entries", "symlink"),
    [
        ({"ok.txt": b"fine", "../../escaped.txt": b"evil"}, None),
        ({"ok.txt": b"fine", "/tmp/escaped-openworkshop.txt": b"evil"}, None),
        ({"ok.txt": b"fine"}, "link"),
    ],
    ids=["zip-slip", "absolute", "symlink"],
)
async def test_a_hostile_archive_cannot_write_outside_the_folder(
    server: Server, proxy: Proxy, tmp_path: Path, entries: dict[str, bytes], symlink: str | None
) -> None:
    """An archive with a valid sha256 that would write outside its folder is refused
    before a byte of it is extracted."""
    proxy.replace[HOSTILE] = _zip(entries, symlink)
    folder = tmp_path / "deep" / "mods"
    async with Client(proxy.url) as client:
        with pytest.raises(InstallFailed) as raised:
            await client.install([HOSTILE], into=folder)
    assert isinstance(raised.value.failures[HOSTILE], UnsafeArchive)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "deep" / "escaped.txt").exists()
    assert not Path("/tmp/escaped-openworkshop.txt").exists()
    assert sorted(p.name for p in folder.iterdir()) == [".openworkshop"]
    assert not list((folder / ".openworkshop").glob("tmp-*"))


def _wait_for_etag_change(server: Server, mod_id: int, old: str) -> None:
    deadline = time.monotonic() + 60
    while server_etag(server, mod_id) == old:
        assert time.monotonic() < deadline, "the server did not fetch the new version"
        time.sleep(0.1)


async def test_update_replaces_exactly_the_mod_the_server_has_a_new_version_of(
    server: Server, proxy: Proxy, tmp_path: Path
) -> None:
    folder = tmp_path / "mods"
    async with Client(proxy.url) as client:
        await client.install([UPDATED, UNCHANGED], into=folder)
        kept_inode = (folder / str(UNCHANGED) / "About" / "About.xml").stat().st_ino
        assert await client.update(folder) == []  # nothing changed yet

        old = server_etag(server, UPDATED)
        item = server.catalog.items[UPDATED]
        server.catalog.publish_update(
            UPDATED,
            files={"About/About.xml": "<ModMetaData><name>v2</name></ModMetaData>\n"},
            time_updated=item.details.time_updated + 1000,
        )
        asked = httpx.get(f"{server.url}/update/steam/{UPDATED}")
        assert asked.status_code == 202, asked.text
        _wait_for_etag_change(server, UPDATED, old)

        statuses = {s.mod.id: s.state for s in await client.status(folder)}
        assert statuses == {UPDATED: "outdated", UNCHANGED: "current"}
        before = len(proxy.downloads())
        updated = await client.update(folder)
    assert [m.id for m in updated] == [UPDATED]
    assert [s.mod_id for s in proxy.downloads()[before:]] == [UPDATED]
    assert files_in(folder / str(UPDATED)) == files_of(server.catalog, UPDATED)
    assert (folder / str(UNCHANGED) / "About" / "About.xml").stat().st_ino == kept_inode
    manifest = Manifest.load(folder)
    assert manifest.mods[UPDATED].sha256 == server_etag(server, UPDATED) != old


async def test_the_progress_of_a_slow_download_rises_to_done(
    server: Server, proxy: Proxy, tmp_path: Path
) -> None:
    """The proxy holds the transfer after its first KiB until the test has seen it; the
    mod's events never go back a phase, its bytes only grow, and it ends done."""
    gate = asyncio.Event()
    proxy.hold[SLOW] = gate
    events: list[Event] = []
    async with Client(proxy.url) as client:
        async for event in client.events(client.install, [SLOW], into=tmp_path / "mods"):
            events.append(event)
            if isinstance(event, Transferring) and event.done >= 1024 and not gate.is_set():
                assert event.total is not None and event.done < event.total
                gate.set()
    assert gate.is_set()
    assert isinstance(events[0], Queued)
    phases = [e.phase for e in events]
    assert phases == sorted(phases)
    transferred = [e for e in events if isinstance(e, Transferring)]
    assert [e.done for e in transferred] == sorted(e.done for e in transferred)
    assert transferred[-1].done == transferred[-1].total
    assert any(isinstance(e, Verifying) for e in events)
    assert any(isinstance(e, Extracting) for e in events)
    assert isinstance(events[-1], Done) and events[-1].phase is Phase.DONE


async def test_a_cancelled_install_leaves_the_folder_as_it_was(
    server: Server, proxy: Proxy, tmp_path: Path
) -> None:
    folder = tmp_path / "mods"
    async with Client(proxy.url) as client:
        await client.install([KEPT], into=folder)
        before = _snapshot(folder)
        proxy.hold[CANCELLED] = asyncio.Event()  # never set: the transfer stays held
        events = client.events(client.install, [CANCELLED], into=folder)
        async with contextlib.aclosing(events):
            async for event in events:
                if isinstance(event, Transferring) and event.done >= 1024:
                    break  # leaving the loop cancels the install
        assert not client._tasks  # cancelled and finished, with the client still open
    after = _snapshot(folder)
    partial = ".openworkshop/partial/"
    assert {k: v for k, v in after.items() if not k.startswith(partial)} == before
    assert not list((folder / ".openworkshop").glob("tmp-*"))
    assert set(Manifest.load(folder).mods) == {KEPT}

    # the bytes that came before the cancellation are kept and the next run resumes there
    kept = (folder / ".openworkshop" / "partial" / f"{CANCELLED}.part").stat().st_size
    assert kept >= 1024
    del proxy.hold[CANCELLED]
    async with Client(proxy.url) as client:
        await client.install([CANCELLED], into=folder)
    resumed = proxy.downloads(CANCELLED)[-1]
    assert (resumed.status, resumed.range) == (206, f"bytes={kept}-")
    assert files_in(folder / str(CANCELLED)) == files_of(server.catalog, CANCELLED)
    assert set(Manifest.load(folder).mods) == {KEPT, CANCELLED}


async def test_remove_refuses_a_required_mod_then_removes(server: Server, tmp_path: Path) -> None:
    folder = tmp_path / "mods"
    async with Client(server.url) as client:
        await client.install([CHAIN[1]], into=folder)
        with pytest.raises(ModRequired) as raised:
            await client.remove([CHAIN[2]], folder)
        assert raised.value.required_by == {CHAIN[2]: [CHAIN[1]]}
        assert await client.remove([CHAIN[1], CHAIN[2]], folder) == [CHAIN[1], CHAIN[2]]
        assert await client.status(folder) == []
    assert sorted(p.name for p in folder.iterdir()) == [".openworkshop"]


async def test_transfers_run_at_once_within_the_bound(
    server: Server, proxy: Proxy, tmp_path: Path
) -> None:
    """max_transfers=2 and three mods whose transfers are held: two travel together, the
    third starts only when one of them is let go."""
    gates = {mod_id: asyncio.Event() for mod_id in PARALLEL}
    proxy.hold.update(gates)
    started: list[int] = []
    async with Client(proxy.url, max_transfers=2) as client:
        operation = client.events(client.install, list(PARALLEL), into=tmp_path / "mods")
        async for event in operation:
            if not isinstance(event, Transferring) or event.done < 1024:
                continue
            if event.mod_id not in started:
                started.append(event.mod_id)
                if len(started) == 2:  # both held: the third must not have begun
                    assert proxy.in_flight == 2
                    assert len(proxy.downloads()) == 2
                    gates[started[0]].set()
                if len(started) == 3:
                    for gate in gates.values():
                        gate.set()
    assert len(started) == 3 and proxy.most_in_flight == 2
    assert set(Manifest.load(tmp_path / "mods").mods) == set(PARALLEL)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
async def test_a_full_disk_is_named(server: Server, tmp_path: Path) -> None:
    """Writes that fail with ENOSPC (the partial download is /dev/full) are a DiskFull."""
    folder = tmp_path / "mods"
    partial = folder / ".openworkshop" / "partial"
    partial.mkdir(parents=True)
    (partial / f"{DISK_FULL}.part").symlink_to("/dev/full")
    async with Client(server.url) as client:
        with pytest.raises(InstallFailed) as raised:
            await client.install([DISK_FULL], into=folder)
    error = raised.value.failures[DISK_FULL]
    assert isinstance(error, DiskFull) and "no space left on the disk" in str(error)
    assert not (folder / str(DISK_FULL)).exists() and Manifest.load(folder).mods == {}
