"""The storage contract runs on every implementation of the port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openworkshop.ports import Storage
from openworkshop.testing import MemoryStorage


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "memory":
        store: Storage = MemoryStorage()
    elif request.param == "sqlite":
        from openworkshop_sqlite import SqliteStorage

        store = SqliteStorage(tmp_path / "catalog.sqlite3")
    else:
        from openworkshop_postgres import PostgresStorage

        url = request.getfixturevalue("postgres_url")
        store = PostgresStorage(url, schema=request.getfixturevalue("postgres_schema"))
    await store.open()
    try:
        yield store
    finally:
        await store.close()
