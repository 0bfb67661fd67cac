"""Every error of the driver becomes the core's StorageError at the adapter's edge, with the
distinction that matters: a full disk (StorageFull) and a busy or failing file
(StorageUnavailable) are transient, a damaged file is StorageCorrupt, a value SQLite refuses
(a text with a lone surrogate) is a plain StorageError. All with real SQLite errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openworkshop.domain import Mod
from openworkshop.errors import StorageCorrupt, StorageError, StorageFull
from openworkshop.states import ModState
from openworkshop_sqlite import SqliteStorage

pytestmark = pytest.mark.anyio

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    store = SqliteStorage(tmp_path / "catalog.sqlite3", readers=1)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def limit_pages(storage: SqliteStorage, extra: int | None) -> None:
    """Cap the writer's file at its current size plus ``extra`` pages (None: no cap)."""

    def work(db: object) -> None:
        conn = db.conn  # type: ignore[attr-defined]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        cap = 4_294_967_294 if extra is None else pages + extra
        conn.execute(f"PRAGMA max_page_count = {cap}")

    await storage._connections.write(work)


async def test_a_full_database_is_storage_full_and_passes(storage: SqliteStorage) -> None:
    """SQLITE_FULL (a size cap standing in for a full disk) is StorageFull, transient; the
    failed write leaves nothing behind, and writes work again once there is room."""
    await limit_pages(storage, 2)
    written = 0
    with pytest.raises(StorageFull) as error:
        for n in range(1000):
            await storage.set_flag(f"filler-{n}", "x" * 1500)
            written += 1
    assert error.value.transient
    assert "full" in str(error.value)
    assert await storage.get_flag(f"filler-{written}") is None
    await limit_pages(storage, None)
    await storage.set_flag(f"filler-{written}", "x" * 1500)
    assert await storage.get_flag(f"filler-{written}") == "x" * 1500


async def test_a_lone_surrogate_is_a_storage_error(storage: SqliteStorage) -> None:
    """A text that is not UTF-8 is refused as a StorageError (not UnicodeEncodeError), not
    transient (the same write cannot succeed later), and nothing is written."""
    mod = Mod(id=42, name="\ud83d mod", state=ModState.QUEUED, date_queued=NOW)
    with pytest.raises(StorageError) as error:
        await storage.put_mod(mod, expect=None)
    assert not error.value.transient
    assert isinstance(error.value.__cause__, UnicodeEncodeError)
    assert await storage.get_mod(42) is None


async def test_a_file_that_is_no_database_is_storage_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "not-a-db.sqlite3"
    path.write_bytes(b"this is not an SQLite file, whatever its name says" * 100)
    store = SqliteStorage(path, readers=1)
    with pytest.raises(StorageCorrupt) as error:
        await store.open()
    assert not error.value.transient
