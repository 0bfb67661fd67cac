"""A mod whose data the storage refuses (a title with a lone surrogate, which is not UTF-8)
is a failed attempt like any other: attempts rise with backoff, it ends failed after
``max_attempts``, steamcmd is not run for it every lease forever, and no archive is left
that no row claims."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from openworkshop import FailureReason, FileArchiveStore, ModState, Queued, Settings, Workshop
from openworkshop.testing import FakeClock, FakeSteamSource, sample_catalog
from openworkshop_sqlite import SqliteStorage
from tests.core.conftest import settle

pytestmark = pytest.mark.anyio

POISON = "\ud83d broken emoji"


async def test_a_title_the_storage_refuses_ends_failed(tmp_path: Path) -> None:
    """Three attempts (three steamcmd sessions), then a final failure with the reason kept;
    the store holds no archive; the next request queues the mod again, never "not found"."""
    catalog = sample_catalog()
    mod_id = next(
        i for i, item in catalog.items.items() if item.visible and not item.download_error
    )
    item = catalog.items[mod_id]
    catalog.items[mod_id] = attrs.evolve(item, details=attrs.evolve(item.details, title=POISON))
    steam = FakeSteamSource(catalog)
    clock = FakeClock()
    archives = FileArchiveStore(tmp_path / "archives")
    settings = Settings(gather_window=0.0, max_attempts=3, retry_base=1.0)
    workshop = Workshop(
        storage=SqliteStorage(tmp_path / "catalog.sqlite3"),
        steam=steam,
        archives=archives,
        clock=clock,
        settings=settings,
        downloads_dir=tmp_path / "downloads",
    )
    await workshop.start(workers=False)
    try:
        await workshop.request_download(mod_id)
        attempts = []
        for _ in range(10):
            await workshop.pipeline.drain()
            mod = await workshop.storage.get_mod(mod_id)
            if mod is None:
                break
            assert mod.state is ModState.QUEUED and mod.not_before is not None
            attempts.append(mod.attempts)
            clock.advance(3600)
        assert attempts == [1, 2], "each attempt counts, with backoff in between"
        assert steam.calls["download"] == 3
        failure = await workshop.storage.get_failure(mod_id)
        assert failure is not None and failure.attempts == 3
        assert failure.reason is FailureReason.UNKNOWN
        assert "surrogate" in failure.detail
        assert await archives.keys() == []
        assert list((tmp_path / "archives").rglob("*.zip")) == []
        await settle(workshop, clock)  # nothing left to do: no lease to take over
        assert steam.calls["download"] == 3
        again = await workshop.request_download(mod_id)
        assert isinstance(again, Queued) and again.reason == "unknown"
    finally:
        await workshop.stop()
