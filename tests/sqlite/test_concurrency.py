"""Several writers on one file: threads, processes, and a process killed mid-transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from openworkshop.criteria import ModCriteria
from openworkshop.domain import Game, Mod
from openworkshop.states import ModState
from openworkshop_sqlite import SqliteStorage
from tests.sqlite.audit import audit

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
CHILD = Path(__file__).with_name("child.py")
WRITERS = 8


async def seed(path: Path, *mods: Mod) -> None:
    storage = SqliteStorage(path)
    await storage.open()
    await storage.put_game(Game(id=10, name="RimWorld"), [])
    for mod in mods:
        assert await storage.put_mod(mod, expect=None)
    await storage.close()


async def totals(path: Path, mod_id: int) -> tuple[int, int, int]:
    """The mod's downloads, its game's download counter, and the day's files_sent."""
    storage = SqliteStorage(path)
    await storage.open()
    try:
        mod = await storage.get_mod(mod_id)
        game = await storage.get_game(10)
        (day,) = await storage.day_stats(T0.date(), T0.date())
        assert mod is not None and game is not None
        return mod.downloads, game.mods_downloads, day.count
    finally:
        await storage.close()


async def test_tasks_sharing_one_storage_lose_no_increment(tmp_path: Path) -> None:
    """Many concurrent requests through one storage: every download is counted."""
    path = tmp_path / "db.sqlite3"
    await seed(path, Mod(id=1, game_id=10, state=ModState.READY))
    storage = SqliteStorage(path)
    await storage.open()

    async def hammer() -> None:
        for _ in range(25):
            await storage.add_download(1, now=T0)
            await storage.count("files_sent", at=T0)

    await asyncio.gather(*(hammer() for _ in range(WRITERS)))
    await storage.close()
    assert await totals(path, 1) == (200, 200, 200)


def test_threads_with_their_own_storage_lose_no_increment(tmp_path: Path) -> None:
    """8 threads, each with its own storage (own writer connection) on one file."""
    path = tmp_path / "db.sqlite3"
    asyncio.run(seed(path, Mod(id=1, game_id=10, state=ModState.READY)))
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    async def writer() -> None:
        storage = SqliteStorage(path, readers=1)
        await storage.open()
        barrier.wait()
        for _ in range(40):
            await storage.add_download(1, now=T0)
            await storage.count("files_sent", at=T0)
        await storage.close()

    def run() -> None:
        try:
            asyncio.run(writer())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert asyncio.run(totals(path, 1)) == (320, 320, 320)
    assert audit(path) == []


def start(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def release(go: Path, children: list[subprocess.Popen[str]]) -> None:
    """Let the children go once every one of them is ready."""
    deadline = time.monotonic() + 30
    while len(list(go.parent.glob("ready-*"))) < len(children):
        assert time.monotonic() < deadline, "children did not start"
        assert all(c.poll() is None for c in children), "a child died"
        time.sleep(0.01)
    go.touch()


def finish(children: list[subprocess.Popen[str]]) -> list[str]:
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        outputs.append(out)
    return outputs


def test_processes_lose_no_increment(tmp_path: Path) -> None:
    """8 processes counting downloads of one mod at once: none is lost."""
    path, go = tmp_path / "db.sqlite3", tmp_path / "go"
    asyncio.run(seed(path, Mod(id=1, game_id=10, state=ModState.READY, downloads=5)))
    children = [start("downloads", path, go, 1, 30) for _ in range(WRITERS)]
    release(go, children)
    finish(children)
    assert asyncio.run(totals(path, 1)) == (245, 245, 240)
    assert audit(path) == []


def test_two_processes_never_claim_the_same_mod(tmp_path: Path) -> None:
    """Two workers claiming from one queue take every mod exactly once between them."""
    path, go = tmp_path / "db.sqlite3", tmp_path / "go"
    mods = [
        Mod(id=i, game_id=10, state=ModState.QUEUED, date_queued=T0 - dt.timedelta(seconds=i))
        for i in range(1, 301)
    ]
    asyncio.run(seed(path, *mods))
    children = [start("claim", path, go) for _ in range(2)]
    release(go, children)
    first, second = (json.loads(out) for out in finish(children))
    assert first and second, "both workers took part"
    assert not set(first) & set(second)
    assert sorted(first + second) == list(range(1, 301))


def test_writer_killed_mid_transaction_leaves_a_whole_file(tmp_path: Path) -> None:
    """SIGKILL during a long write: the file checks out, the write in flight left nothing,
    every earlier one is whole."""
    path = tmp_path / "db.sqlite3"
    asyncio.run(seed(path, Mod(id=1, game_id=10, state=ModState.READY)))
    batch, base = 10_000, 10_000_000
    rng = random.Random(3)
    for attempt in range(2):
        first = base * (attempt + 1)
        child = start("churn", path, batch, first)
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() == "loading 1":  # batch 0 is committed, batch 1 is being written
                break
        time.sleep(rng.uniform(0.01, 0.1))
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=10)
        assert child.returncode == -signal.SIGKILL
        assert audit(path) == []
        with sqlite3.connect(path) as conn:
            sizes = dict(
                conn.execute(
                    "SELECT (id - ?) / ?, count(*) FROM mods WHERE id >= ? AND id < ? GROUP BY 1",
                    [first, batch, first, first + base],
                ).fetchall()
            )
        assert sizes == {0: batch}, sizes

    async def still_works() -> None:
        storage = SqliteStorage(path)
        await storage.open()
        assert await storage.put_mod(Mod(id=7, name="after", game_id=10), expect=None)
        page = await storage.list_mods(ModCriteria(name="batch 0 mod 9999"))
        assert page.total == 2
        assert await storage.queue_size() == 1
        await storage.close()

    asyncio.run(still_works())
    assert audit(path) == []
