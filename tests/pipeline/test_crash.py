"""A real server process killed with SIGKILL while 20 mods are in flight.

After a restart every mod reaches state 0, no partial archive was ever served (every 200
from /download while it ran was a whole archive with the right files), and the archives
equal the fake Steam's files. No temporary file and no unclaimed archive is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from openworkshop.owners import OWNERS, is_alive
from openworkshop.testing import SteamCatalog, sample_catalog
from openworkshop_steam.fake.cli import RunningFakeSteam, start_fake_steam
from openworkshop_steam.fake.steamcmd import read_sessions

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

OPENWORKSHOP = Path(sys.executable).with_name("openworkshop")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def files_of(catalog: SteamCatalog, mod_id: int) -> dict[str, bytes]:
    return {path: b"".join(chunks) for path, chunks in catalog.items[mod_id].iter_files()}


class Server:
    """``openworkshop serve`` in its own process group, on a data folder."""

    def __init__(self, data: Path, env: dict[str, str]) -> None:
        self.data = data
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, session: aiohttp.ClientSession) -> None:
        with (self.data.parent / f"server-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(OPENWORKSHOP),
                    "serve",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data),
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60  # a busy machine starts a server slowly
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{self.base}/info/queue/size") as response:
                    if response.status == 200:
                        return
            assert self.process.poll() is None, "the server exited while starting"
            await asyncio.sleep(0.05)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[tuple[RunningFakeSteam, SteamCatalog]]:
    catalog = sample_catalog(mods_per_game=8, seed=21)
    running = await start_fake_steam(
        catalog=catalog, steamcmd_dir=tmp_path / "steamcmd", login_delay=0.5
    )
    try:
        yield running, catalog
    finally:
        await running.stop()
        # steamcmd runs in its own session: what the kill orphaned is ended here
        subprocess.run(["pkill", "-KILL", "-f", str(running.steamcmd)], check=False)


async def test_sigkill_mid_flight_then_restart(
    tmp_path: Path, fake: tuple[RunningFakeSteam, SteamCatalog]
) -> None:
    running, catalog = fake
    ids = [i for i, item in catalog.items.items() if item.visible and not item.download_error][:20]
    env = {
        **os.environ,
        **running.environment(),
        "OPENWORKSHOP_LEASE": "2",
        "OPENWORKSHOP_GATHER_WINDOW": "0.1",
        "OPENWORKSHOP_FAKE_STEAMCMD_ITEM_DELAY": "0.3",
    }
    data = tmp_path / "data"
    served: list[int] = []
    problems: list[str] = []

    async def poll_downloads(
        session: aiohttp.ClientSession, base: str, stop: asyncio.Event
    ) -> None:
        """Download every mod over and over; any 200 must be a whole, right archive."""
        while not stop.is_set():
            for mod_id in ids:
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{base}/download/{mod_id}") as response:
                        if response.status != 200:
                            continue
                        body = await response.read()
                        try:
                            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                                got = {n: archive.read(n) for n in archive.namelist()}
                        except zipfile.BadZipFile as exc:
                            problems.append(f"{mod_id}: {exc}")
                            continue
                        if got != files_of(catalog, mod_id):
                            problems.append(f"{mod_id}: wrong files")
                        served.append(mod_id)
            await asyncio.sleep(0.02)

    async with aiohttp.ClientSession() as session:
        first = Server(data, env)
        await first.start(session)
        stop = asyncio.Event()
        poller = asyncio.create_task(poll_downloads(session, first.base, stop))
        try:
            for mod_id in ids:
                async with session.get(f"{first.base}/download/steam/{mod_id}") as response:
                    assert response.status == 202, await response.text()
            # wait until a steamcmd session is under way and some mods are downloading
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                async with session.get(f"{first.base}/condition/mod/{json.dumps(ids)}") as r:
                    states = {int(k): v for k, v in (await r.json()).items()}
                if read_sessions(running.session_log) and 2 in states.values():
                    break
                await asyncio.sleep(0.025)
            await asyncio.sleep(1.0)  # mid-download, some maybe packing
            assert len(states) == 20 and 2 in states.values(), states
            first.kill()
        finally:
            stop.set()
            await poller
            first.stop()

        second = Server(data, env)
        await second.start(session)
        stop = asyncio.Event()
        poller = asyncio.create_task(poll_downloads(session, second.base, stop))
        try:
            deadline = time.monotonic() + 100
            while time.monotonic() < deadline:
                async with session.get(f"{second.base}/condition/mod/{json.dumps(ids)}") as r:
                    states = {int(k): v for k, v in (await r.json()).items()}
                if len(states) == 20 and set(states.values()) == {0}:
                    break
                await asyncio.sleep(0.05)
            assert states == dict.fromkeys(ids, 0)
            for mod_id in ids:
                async with session.get(f"{second.base}/download/{mod_id}") as response:
                    assert response.status == 200
                    with zipfile.ZipFile(io.BytesIO(await response.read())) as archive:
                        assert {n: archive.read(n) for n in archive.namelist()} == files_of(
                            catalog, mod_id
                        )
        finally:
            stop.set()
            await poller
            second.stop()

    assert problems == []
    assert served, "the poller never got an archive"
    archives = [p for p in (data / "archives").rglob("*") if p.is_file() and OWNERS not in p.parts]
    assert not [p for p in archives if p.name.startswith(".")], "temporary files were left"
    # one per mod: none unclaimed (the killed writer's orphans went at the restart, though
    # younger than the lease), none missing
    assert len(archives) == 20
    # the killed server's lock files went at the restart; the second's, stopped, is free
    for root in (data / "archives", data / "downloads"):
        owners = list((root / OWNERS).iterdir())
        assert len(owners) <= 1 and not any(is_alive(root, p.stem) for p in owners)
    with sqlite3.connect(data / "openworkshop.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
