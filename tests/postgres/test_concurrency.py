"""Several stores (each its own pool of connections: to PostgreSQL, as many processes) on one
database at once: the schema made once, claims never shared, events numbered without a gap
in commit order, call slots counted together, errors the core's."""

from __future__ import annotations

import asyncio
import datetime as dt

import psycopg
import pytest

from openworkshop.domain import Archive, Game, Mod
from openworkshop.errors import StorageError, StorageUnavailable
from openworkshop.ports import Transition
from openworkshop.states import ModState
from openworkshop_postgres import PostgresStorage

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


async def opened(url: str, schema: str, count: int) -> list[PostgresStorage]:
    stores = [PostgresStorage(url, schema=schema, max_size=4) for _ in range(count)]
    await asyncio.gather(*(s.open() for s in stores))
    return stores


async def close_all(stores: list[PostgresStorage]) -> None:
    await asyncio.gather(*(s.close() for s in stores))


async def test_stores_opening_at_once_make_the_schema_once(
    postgres_url: str, postgres_schema: str
) -> None:
    """Eight stores open a fresh schema together: none fails, the tables are there once, and
    each store then reads what another wrote."""
    stores = await opened(postgres_url, postgres_schema, 8)
    try:
        assert await stores[0].put_mod(Mod(id=7, state=ModState.READY), expect=None)
        for store in stores:
            assert (await store.get_mod(7)) is not None
    finally:
        await close_all(stores)
    with psycopg.connect(postgres_url) as conn:
        (tables,) = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename = 'mods'",
            [postgres_schema],
        ).fetchone()  # type: ignore[misc]
    assert tables == 1


async def test_claimers_never_share_a_mod(postgres_url: str, postgres_schema: str) -> None:
    stores = await opened(postgres_url, postgres_schema, 4)
    try:
        for ident in range(1, 201):
            mod = Mod.requested(ident, now=T0 + dt.timedelta(seconds=ident))
            assert await stores[0].apply(Transition.of(None, mod))
        now, until = T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2)

        async def worker(store: PostgresStorage) -> list[int]:
            taken: list[int] = []
            while batch := await store.claim(ModState.QUEUED, 7, now=now, lease_until=until):
                taken += [m.id for m in batch]
            return taken

        results = await asyncio.gather(*(worker(s) for s in stores for _ in range(2)))
        every = [i for taken in results for i in taken]
        assert sorted(every) == list(range(1, 201))  # each mod once, none left out
        assert await stores[0].queue_size() == 200  # (all downloading now)
    finally:
        await close_all(stores)


async def test_events_are_numbered_without_gaps_in_commit_order(
    postgres_url: str, postgres_schema: str
) -> None:
    """Writers on four stores at once; a reader following the feed by its cursor meanwhile
    sees every event once, numbered 1, 2, 3 … with no gap (no number commits after a
    larger one)."""
    stores = await opened(postgres_url, postgres_schema, 4)
    done = asyncio.Event()
    seen: list[int] = []

    async def write(store: PostgresStorage, start: int) -> None:
        for ident in range(start, start + 25):
            archive = Archive(key=f"{ident}/a.zip", size=1, sha256="0" * 64)
            mod = Mod(id=ident, name=f"m{ident}", state=ModState.READY, archive=archive)
            assert await store.apply(Transition.of(None, mod, at=T0))
            await store.put_game(Game(id=ident, name=f"g{ident}"), [])

    async def follow(store: PostgresStorage) -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            batch = await store.read_events(cursor, 1000)
            for event in batch.events:
                seen.append(event.seq)
                cursor = event.seq
            if finished and not batch.events:
                return
            await asyncio.sleep(0)

    try:
        reader = asyncio.create_task(follow(stores[0]))
        await asyncio.gather(*(write(s, 1 + 1000 * i) for i, s in enumerate(stores)))
        done.set()
        await reader
        batch = await stores[1].read_events(0, 10_000)
        assert [e.seq for e in batch.events] == list(range(1, 201))
        assert batch.latest == 200
        assert seen == list(range(1, 201))
    finally:
        await close_all(stores)


async def test_call_slots_are_counted_by_every_store(
    postgres_url: str, postgres_schema: str
) -> None:
    stores = await opened(postgres_url, postgres_schema, 4)
    minute = T0
    try:
        taken = await asyncio.gather(
            *(s.take_call_slot(minute, 10) for s in stores for _ in range(10))
        )
        assert sum(taken) == 10
        assert await stores[2].take_call_slot(minute + dt.timedelta(minutes=1), 10)
    finally:
        await close_all(stores)


async def test_foreign_errors_are_the_cores(postgres_url: str, postgres_schema: str) -> None:
    """A value PostgreSQL refuses: a plain StorageError; a server nobody answers at: the
    transient StorageUnavailable; a bad URL: StorageError at once."""
    store = PostgresStorage(postgres_url, schema=postgres_schema)
    await store.open()
    try:
        with pytest.raises(StorageError):
            await store.put_mod(Mod(id=1, size=2**70), expect=None)
        assert await store.get_mod(1) is None
        with pytest.raises(StorageError):
            await store.put_mod(Mod(id=2, name="\ud800"), expect=None)
        # a text holding NUL is kept as it is (PostgreSQL's text cannot hold one)
        assert await store.put_mod(
            Mod(id=3, name="a\x00b\uffffc", state=ModState.READY), expect=None
        )
        stored = await store.get_mod(3)
        assert stored is not None and stored.name == "a\x00b\uffffc"
    finally:
        await store.close()
    nowhere = PostgresStorage("postgresql://postgres@/postgres?host=/nonexistent", timeout=2)
    with pytest.raises(StorageUnavailable, match="nonexistent"):
        await nowhere.open()
    with pytest.raises(StorageError, match="not a PostgreSQL URL"):
        PostgresStorage("postgresql://[::1")


async def test_a_work_signal_wakes_the_workers_of_every_store(
    postgres_url: str, postgres_schema: str
) -> None:
    """NOTIFY on the schema's channel: a worker waiting on another store (another process) is
    woken at once, and the store that sent it keeps it for its own next wait."""
    stores = await opened(postgres_url, postgres_schema, 3)
    try:
        waiting = [asyncio.ensure_future(s.wait_for_work(60)) for s in stores[1:]]
        await asyncio.sleep(0)  # they wait now
        await stores[0].signal_work()
        assert await asyncio.wait_for(asyncio.gather(*waiting), 60) == [True, True]
        assert await stores[0].wait_for_work(60)  # its own, kept for the next wait
    finally:
        await close_all(stores)
