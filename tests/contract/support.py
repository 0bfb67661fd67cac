"""What the contract tests share: a few mods, moments and listing helpers."""

from __future__ import annotations

import datetime as dt

from openworkshop.criteria import ModCriteria, Paging
from openworkshop.domain import Mod
from openworkshop.ports import Storage
from openworkshop.states import ModState

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
READY, AVAILABLE, DOWNLOADING, QUEUED = (
    ModState.READY,
    ModState.AVAILABLE,
    ModState.DOWNLOADING,
    ModState.QUEUED,
)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def mod(ident: int, **fields: object) -> Mod:
    fields.setdefault("name", f"Mod {ident}")
    fields.setdefault("game_id", 10)
    fields.setdefault("state", READY)
    return Mod(id=ident, **fields)  # type: ignore[arg-type]


async def put(storage: Storage, *mods: Mod) -> None:
    for m in mods:
        assert await storage.put_mod(m, expect=None)


def mods_query(**fields: object) -> ModCriteria:
    fields.setdefault("page", Paging(page_size=50))
    return ModCriteria(**fields)  # type: ignore[arg-type]


async def listed(storage: Storage, **fields: object) -> list[int]:
    return [m.id for m in (await storage.list_mods(mods_query(**fields))).items]
