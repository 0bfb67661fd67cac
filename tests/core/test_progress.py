"""Live progress (``progress.py``): a large item downloaded slowly (a held fake download, the
pipeline's ticks given one at a time, the fake clock) shows its place in the queue, then bytes
that rise against Steam's size with an estimate, then packing, parsing and ready; a failure
and an unknown id end as ``failed`` and ``missing``. No wall-clock wait decides anything."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from openworkshop import ModState, Settings, Workshop
from openworkshop.domain import Archive, ItemDetails
from openworkshop.ports import Storage
from openworkshop.progress import ModProgress, Phase, Progress, mod_progress
from openworkshop.query import ModInfoQuery, ProgressQuery
from openworkshop.testing import (
    CatalogItem,
    FakeClock,
    FakeSteamSource,
    MemoryArchiveStore,
    SteamCatalog,
)
from openworkshop.testing.sample import PRIVATE_MOD_ID
from tests.gathering import Ticks

pytestmark = pytest.mark.anyio

BIG_ID = 3_100_000_001
BIG_SIZE = 3 << 20


class HeldArchives(MemoryArchiveStore):
    """An archive store whose next ``put`` waits until the test lets it pack."""

    def __init__(self) -> None:
        super().__init__()
        self.reached = asyncio.Event()
        self.go = asyncio.Event()

    async def put(self, key: str, build: Callable[[IO[bytes]], None]) -> Archive:
        self.reached.set()
        await self.go.wait()
        return await super().put(key, build)


@pytest.fixture
def archives() -> HeldArchives:
    return HeldArchives()


@pytest.fixture
def catalog(catalog: SteamCatalog) -> SteamCatalog:
    app_id = next(iter(catalog.apps))
    catalog.add_item(
        CatalogItem(
            details=ItemDetails(
                id=BIG_ID,
                app_id=app_id,
                title="A large mod",
                file_size=BIG_SIZE,
                hcontent_file="42",
                time_created=1600000000,
                time_updated=1600000100,
            ),
            blobs={"Data/a.bin": BIG_SIZE // 2, "Data/b.bin": BIG_SIZE - BIG_SIZE // 2},
        )
    )
    return catalog


async def progress_of(workshop: Workshop, *ids: int) -> dict[int, ModProgress]:
    return await workshop.progress(ProgressQuery(mod_ids=ids))


async def test_a_slow_download_rises_to_ready(
    workshop: Workshop, steam: FakeSteamSource, archives: HeldArchives, clock: FakeClock
) -> None:
    ticks = Ticks()
    workshop.pipeline.ticking = ticks.wait
    other = next(i for i in steam.catalog.items if i not in (BIG_ID, PRIVATE_MOD_ID))
    await workshop.request_download(BIG_ID)
    clock.advance(1)
    await workshop.request_download(other)
    seen: list[ModProgress] = []

    queued = await progress_of(workshop, BIG_ID, other)
    assert (queued[BIG_ID].phase, queued[BIG_ID].position) == (Phase.QUEUED, 1)
    assert (queued[other].phase, queued[other].position) == (Phase.QUEUED, 2)
    seen.append(queued[BIG_ID])

    hold = steam.hold(BIG_ID, at=0.5)
    step = asyncio.ensure_future(workshop.pipeline.step())
    await asyncio.wait_for(hold.reached.wait(), 60)  # half of its bytes are on disk
    await ticks.parked()
    clock.advance(10)
    await ticks.step()  # measured now: half, 10 s after the download began
    (half,) = (await progress_of(workshop, BIG_ID)).values()
    assert (half.phase, half.condition) == (Phase.DOWNLOADING, ModState.DOWNLOADING)
    assert (half.done, half.total) == (BIG_SIZE // 2, BIG_SIZE)
    assert half.eta == pytest.approx(10.0)
    seen.append(half)
    info = await workshop.mod_info(ModInfoQuery.from_params(str(BIG_ID), {}))
    assert info.progress == half

    hold.go.set()
    await asyncio.wait_for(archives.reached.wait(), 60)  # downloaded; packing waits
    await ticks.step()
    (packing,) = (await progress_of(workshop, BIG_ID)).values()
    assert (packing.phase, packing.condition) == (Phase.PACKING, ModState.DOWNLOADING)
    seen.append(packing)

    archives.go.set()
    assert await asyncio.wait_for(step, 60)
    done = await progress_of(workshop, BIG_ID, other)
    assert done[BIG_ID] == ModProgress(mod_id=BIG_ID, phase=Phase.READY, condition=ModState.READY)
    assert done[other].phase is Phase.READY
    seen.append(done[BIG_ID])
    assert [p.phase for p in seen] == [Phase.QUEUED, Phase.DOWNLOADING, Phase.PACKING, Phase.READY]
    assert await workshop.board.progress_records([BIG_ID, other]) == {}
    info = await workshop.mod_info(ModInfoQuery.from_params(str(BIG_ID), {}))
    assert info.progress is None  # only while the mod is on its way


async def test_a_failure_and_an_unknown_id(workshop: Workshop, steam: FakeSteamSource) -> None:
    """A mod Steam refuses ends ``failed`` with the failure's reason; an id the server never
    heard of is ``missing``."""
    await workshop.request_download(PRIVATE_MOD_ID)
    while await workshop.pipeline.step():
        pass
    found = await progress_of(workshop, PRIVATE_MOD_ID, 123)
    assert found[PRIVATE_MOD_ID] == ModProgress(
        mod_id=PRIVATE_MOD_ID, phase=Phase.FAILED, reason="not_found"
    )
    assert found[123] == ModProgress(mod_id=123, phase=Phase.MISSING)


def test_the_estimate_needs_a_rate() -> None:
    """No bytes yet, no time passed, or no total: no estimate; otherwise what is left at the
    rate so far."""
    start = FakeClock().now()
    later = FakeClock().now().replace(second=20)
    base = Progress(mod_id=1, phase=Phase.DOWNLOADING, started=start, updated=later)
    assert base.eta() is None
    import attrs

    assert attrs.evolve(base, done=10, total=None).eta() is None
    assert attrs.evolve(base, done=10, total=40, updated=start).eta() is None
    assert attrs.evolve(base, done=10, total=40).eta() == pytest.approx(60.0)
    assert attrs.evolve(base, done=50, total=40).eta() == 0.0
    with pytest.raises(ValueError):
        Progress(mod_id=1, phase=Phase.QUEUED, started=start, updated=start)
    # a record's bytes never show past its total
    shown = mod_progress(1, _downloading(), record=attrs.evolve(base, done=50, total=40))
    assert (shown.done, shown.total) == (40, 40)


def _downloading():  # type: ignore[no-untyped-def]
    from openworkshop.domain import Mod

    return Mod(id=1, state=ModState.DOWNLOADING)


async def test_a_request_in_one_workshop_wakes_the_worker_of_another(
    storage: Storage, steam: FakeSteamSource, tmp_path: Path
) -> None:
    """Two workshops on one storage (an API node and a worker): a request queued through the
    first wakes the second's worker through the storage's work signal, not its next look at
    the queue."""
    node, worker = (
        Workshop(
            storage=storage,
            steam=steam,
            archives=MemoryArchiveStore(),
            clock=FakeClock(),
            settings=Settings(gather_window=0.0),
            downloads_dir=tmp_path / name,
        )
        for name in ("node", "worker")
    )
    await storage.open()
    try:
        listening = asyncio.ensure_future(worker.pipeline._listen())
        await asyncio.sleep(0)
        assert not worker.pipeline.wakeup.is_set()
        mod_id = next(i for i in steam.catalog.items if i not in (BIG_ID, PRIVATE_MOD_ID))
        await node.request_download(mod_id)
        await asyncio.wait_for(worker.pipeline.wakeup.wait(), 60)
        listening.cancel()
    finally:
        await storage.close()
