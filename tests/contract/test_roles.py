"""Every store implements every storage role of the ports, and the composite ``Storage``."""

from __future__ import annotations

from typing import Protocol

import pytest

from openworkshop.domain import Failure, FailureReason, Mod
from openworkshop.ports import (
    CatalogReader,
    CatalogWriter,
    DownloadQueue,
    EventLog,
    GameRegistry,
    ItemMemory,
    Lifecycle,
    ProgressBoard,
    SharedFlags,
    StatisticsStore,
    Storage,
    Transition,
    WorkSignal,
)
from tests.contract.support import T0

pytestmark = pytest.mark.anyio

PARTS = [
    DownloadQueue,
    CatalogReader,
    GameRegistry,
    CatalogWriter,
    StatisticsStore,
    SharedFlags,
    ItemMemory,
    EventLog,
    ProgressBoard,
    WorkSignal,
]
ROLES = [Lifecycle, *PARTS, Storage]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.__name__)
async def test_the_store_plays_the_role(storage: Storage, role: type) -> None:
    assert isinstance(storage, role)


def test_the_roles_are_small() -> None:
    """No role but the composite carries more than a dozen methods; the composite is the
    roles, and nothing else."""
    methods = {
        role: {n for n in vars(role) if not n.startswith("_") and callable(getattr(role, n))}
        for role in ROLES
    }
    for role in ROLES[:-1]:
        assert len(methods[role]) <= 12, (role.__name__, sorted(methods[role]))
    assert {b for b in Storage.__bases__ if b is not Protocol} == set(ROLES[:-1])
    union = set().union(*(methods[r] for r in ROLES[:-1]))
    assert union == {n for n in dir(Storage) if not n.startswith("_")}


def test_a_transition_names_one_mod() -> None:
    """A transition writes the row and the failure of the mod it names, no other."""
    with pytest.raises(ValueError):
        Transition(mod_id=1, expect=None, after=Mod(id=2))
    failure = Failure(mod_id=2, reason=FailureReason.TIMEOUT, attempts=1, date=T0)
    with pytest.raises(ValueError):
        Transition(mod_id=1, expect=None, after=None, failure=failure)
