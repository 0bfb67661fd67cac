"""Each transition of a mod is a method returning the evolved mod, checked by the state
machine, and the pipeline writes each with ONE storage write."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import pytest

from openworkshop import ModState, Queued, Workshop
from openworkshop.domain import Archive, ItemDetails, Mod
from openworkshop.errors import IllegalTransition
from openworkshop.ports import Storage, Transition
from openworkshop.settings import Settings
from openworkshop.testing import (
    FakeClock,
    FakeSteamSource,
    MemoryArchiveStore,
    MemoryStorage,
    SteamCatalog,
)
from tests.core.conftest import settle

pytestmark = pytest.mark.anyio

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
ITEM = ItemDetails(id=1, app_id=10, title="T", description="d", time_updated=7)
ARCHIVE = Archive(key="1/7.zip", size=5, sha256="ab")

MOVES: dict[str, tuple[set[ModState], ModState | None]] = {
    # name: (the states it may start from, the state it ends in; None: the row's own)
    "claimed": ({ModState.QUEUED, ModState.DOWNLOADING, ModState.AVAILABLE}, None),
    "archived": ({ModState.DOWNLOADING}, ModState.AVAILABLE),
    "enriched": ({ModState.AVAILABLE}, ModState.READY),
    "page_postponed": ({ModState.AVAILABLE}, ModState.AVAILABLE),
    "requeued": ({ModState.READY}, ModState.QUEUED),
    "retried": ({ModState.DOWNLOADING}, ModState.QUEUED),
}


def move(mod: Mod, name: str) -> Mod:
    calls: dict[str, Any] = {
        "claimed": lambda: mod.claimed(lease_until=LATER),
        "archived": lambda: mod.archived(ITEM, ARCHIVE, now=NOW, lease_until=LATER),
        "enriched": mod.enriched,
        "page_postponed": lambda: mod.page_postponed(attempts=2, until=LATER),
        "requeued": lambda: mod.requeued(now=NOW),
        "retried": lambda: mod.retried(attempts=1, not_before=LATER),
    }
    result: Mod = calls[name]()
    return result


@pytest.mark.parametrize("name", sorted(MOVES))
@pytest.mark.parametrize("state", list(ModState))
def test_every_transition_from_every_state(name: str, state: ModState) -> None:
    """A transition from a state the machine does not allow raises IllegalTransition
    (requeued and enriched included); an allowed one returns the evolved mod."""
    sources, target = MOVES[name]
    mod = Mod(id=1, state=state, attempts=1)
    if state not in sources:
        with pytest.raises(IllegalTransition):
            move(mod, name)
        return
    evolved = move(mod, name)
    expected = target if target is not None else state
    if name == "claimed" and state is ModState.QUEUED:
        expected = ModState.DOWNLOADING
    assert evolved.state is expected
    assert mod.state is state  # values, never changed in place


def test_what_each_transition_sets() -> None:
    downloading = Mod(id=1, state=ModState.DOWNLOADING, attempts=2, not_before=NOW)
    done = downloading.archived(ITEM, ARCHIVE, now=NOW, lease_until=LATER)
    assert (done.name, done.game_id, done.archive, done.size, done.time_updated) == (
        "T",
        10,
        ARCHIVE,
        5,
        7,
    )
    assert (done.attempts, done.not_before, done.lease_until, done.date_checked) == (
        0,
        None,
        LATER,
        NOW,
    )
    ready = done.enriched()
    assert (ready.attempts, ready.lease_until) == (0, None)
    again = ready.requeued(now=LATER)
    assert (again.date_queued, again.date_checked, again.archive) == (LATER, LATER, ARCHIVE)
    assert downloading.failed(now=NOW) is None  # no archive: it leaves the catalog
    back = again.claimed(lease_until=LATER).failed(now=LATER)
    assert back is not None and (back.state, back.archive) == (ModState.READY, ARCHIVE)
    assert ready.damaged() is None
    assert again.damaged() == attrs.evolve(again, archive=None)
    with pytest.raises(IllegalTransition):
        ready.failed(now=NOW)


class CountingStorage:
    """A MemoryStorage that counts the writes of each mod, by method."""

    def __init__(self) -> None:
        self._inner = MemoryStorage()
        self.writes: Counter[tuple[int, str]] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def apply(self, transition: Transition) -> bool:
        self.writes[(transition.mod_id, "apply")] += 1
        return await self._inner.apply(transition)

    async def claim(self, *args: Any, **kwargs: Any) -> list[Mod]:
        taken = await self._inner.claim(*args, **kwargs)
        for mod in taken:
            self.writes[(mod.id, "claim")] += 1
        return taken

    async def put_mod(self, mod: Mod, **kwargs: Any) -> bool:
        self.writes[(mod.id, "put_mod")] += 1
        return await self._inner.put_mod(mod, **kwargs)

    async def set_mod_tags(self, mod_id: int, *args: Any) -> None:
        self.writes[(mod_id, "set_mod_tags")] += 1
        await self._inner.set_mod_tags(mod_id, *args)

    async def set_dependencies(self, mod_id: int, *args: Any) -> None:
        self.writes[(mod_id, "set_dependencies")] += 1
        await self._inner.set_dependencies(mod_id, *args)

    async def set_resources(self, mod_id: int, *args: Any, **kwargs: Any) -> None:
        self.writes[(mod_id, "set_resources")] += 1
        await self._inner.set_resources(mod_id, *args, **kwargs)


async def test_one_write_per_transition(
    catalog: SteamCatalog, clock: FakeClock, settings: Settings, tmp_path: Path
) -> None:
    """A mod from request to ready: a request (1 write), a claim, the archive (1), the
    page with its tags, dependencies and resources (1); nothing written beside them."""
    storage = CountingStorage()
    mod_id = next(
        i for i, item in catalog.items.items() if item.visible and item.download_error is None
    )
    workshop = Workshop(
        storage=storage,  # type: ignore[arg-type]
        steam=FakeSteamSource(catalog),
        archives=MemoryArchiveStore(),
        clock=clock,
        settings=settings,
        downloads_dir=tmp_path / "downloads",
    )
    async with workshop:
        assert isinstance(await workshop.request_download(mod_id), Queued)
        await settle(workshop, clock)
        got = await workshop.storage.get_mod(mod_id)
        assert got is not None and got.state is ModState.READY
        assert (await workshop.storage.mod_tags([mod_id], []))[mod_id]
    assert {k: n for k, n in storage.writes.items() if k[0] == mod_id} == {
        (mod_id, "apply"): 3,
        (mod_id, "claim"): 1,
    }


async def test_the_workshop_does_no_io_until_started(
    storage: Storage,
    steam: FakeSteamSource,
    archives: MemoryArchiveStore,
    clock: FakeClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Constructing a Workshop makes no folder (without one given, its temporary download
    folder is made by start() and removed by stop()) and opens nothing."""
    import tempfile

    made: list[str] = []
    real = tempfile.TemporaryDirectory

    def tracking(*args: Any, **kwargs: Any) -> Any:
        folder = real(*args, **kwargs)
        made.append(folder.name)
        return folder

    monkeypatch.setattr(tempfile, "TemporaryDirectory", tracking)
    workshop = Workshop(storage=storage, steam=steam, archives=archives, clock=clock)
    assert made == [] and workshop.downloads_dir is None
    async with workshop:
        assert made == [str(workshop.downloads_dir)]
        assert workshop.pipeline.downloads_dir == workshop.downloads_dir
        assert await asyncio.to_thread(os.path.isdir, made[0])
    assert not await asyncio.to_thread(os.path.exists, made[0])
    assert workshop.downloads_dir is None
