"""Fixtures for the core's tests: a Workshop over the in-memory fakes, with the storage
parametrized over the in-memory, the SQLite and the PostgreSQL implementations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openworkshop import ModState, Settings, Workshop
from openworkshop.ports import Storage
from openworkshop.testing import (
    FakeClock,
    FakeSteamSource,
    MemoryArchiveStore,
    MemoryStorage,
    SteamCatalog,
    sample_catalog,
)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    if request.param == "postgres":
        from openworkshop_postgres import PostgresStorage

        url = request.getfixturevalue("postgres_url")
        return PostgresStorage(url, schema=request.getfixturevalue("postgres_schema"))
    from openworkshop_sqlite import SqliteStorage

    return SqliteStorage(tmp_path / "catalog.sqlite3")


@pytest.fixture
def catalog() -> SteamCatalog:
    return sample_catalog()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def steam(catalog: SteamCatalog) -> FakeSteamSource:
    return FakeSteamSource(catalog)


@pytest.fixture
def archives() -> MemoryArchiveStore:
    return MemoryArchiveStore()


@pytest.fixture
def settings() -> Settings:
    return Settings(gather_window=0.0, max_attempts=3, retry_base=1.0, update_cooldown=3 * 3600)


@pytest.fixture
async def workshop(
    storage: Storage,
    steam: FakeSteamSource,
    archives: MemoryArchiveStore,
    clock: FakeClock,
    settings: Settings,
    tmp_path: Path,
) -> AsyncIterator[Workshop]:
    ws = Workshop(
        storage=storage,
        steam=steam,
        archives=archives,
        clock=clock,
        settings=settings,
        downloads_dir=tmp_path / "downloads",
    )
    await ws.start(workers=False)
    try:
        yield ws
    finally:
        await ws.stop()


async def settle(ws: Workshop, clock: FakeClock, rounds: int = 20) -> None:
    """Run the pipeline until the queue is empty, moving the clock past retry backoffs."""
    for _ in range(rounds):
        await ws.pipeline.drain()
        if await ws.queue_size() == 0 and not await _pages_left(ws):
            return
        clock.advance(3600)
    raise AssertionError("the pipeline did not settle")


async def _pages_left(ws: Workshop) -> bool:
    from openworkshop.query import ModListQuery

    page = await ws.storage.list_mods(ModListQuery.from_params({"page_size": ["50"]}).criteria)
    return any(m.state is ModState.AVAILABLE for m in page.items)
