"""The storage contract runs on every implementation of the port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openworkshop.ports import Storage
from openworkshop.testing import MemoryStorage


@pytest.fixture(params=["memory", "sqlite"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "memory":
        store: Storage = MemoryStorage()
    else:
        from openworkshop_sqlite import SqliteStorage

        store = SqliteStorage(tmp_path / "catalog.sqlite3")
    await store.open()
    try:
        yield store
    finally:
        await store.close()
