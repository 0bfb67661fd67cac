"""The item memory's promises (``ItemMemory``): what Steam said of items, held by every
store."""

from __future__ import annotations

import datetime as dt

import pytest

from openworkshop.domain import KnownItem
from openworkshop.ports import ItemMemory
from tests.contract.support import T0

pytestmark = pytest.mark.anyio

BIG = 2**64 - 1


async def test_items_are_remembered_as_told_and_replaced(storage: ItemMemory) -> None:
    """Each record reads back field for field (ids above 2**63, children in order, ``None``
    children apart from none); a second record of an id replaces the first; ids never
    told are left out."""
    collection = KnownItem(
        id=BIG, name="A collection", is_collection=True, children=(3, 1, BIG - 1), checked=T0
    )
    mod = KnownItem(id=7, name="Mod", size=1234, children=None, checked=T0)
    bare = KnownItem(id=8, children=(), checked=T0)
    missing = KnownItem(id=9, found=False, checked=T0)
    await storage.remember_items([collection, mod, bare, missing])
    assert await storage.known_items([BIG, 7, 8, 9, 10]) == {
        BIG: collection,
        7: mod,
        8: bare,
        9: missing,
    }
    later = T0 + dt.timedelta(hours=4)
    again = KnownItem(id=7, name="Mod v2", size=99, children=(8,), checked=later)
    await storage.remember_items([again])
    assert await storage.known_items([7]) == {7: again}
    assert await storage.known_items([]) == {}
    await storage.remember_items([])


async def test_many_items_in_one_call(storage: ItemMemory) -> None:
    """A plan's worth of records (more than one SQL batch of ids) in one call each way."""
    items = [KnownItem(id=i, children=(i + 1,), checked=T0) for i in range(1, 1201)]
    await storage.remember_items(items)
    found = await storage.known_items([i.id for i in items])
    assert found == {i.id: i for i in items}
