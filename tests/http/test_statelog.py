"""The server's storage logs one line per download state change, at the transition write."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from openworkshop.domain import Failure, FailureReason, Mod
from openworkshop.ports import Transition
from openworkshop.states import ModState
from openworkshop.testing import MemoryStorage
from openworkshop_http.wiring import StateLog

pytestmark = pytest.mark.anyio

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


async def test_one_line_per_state_change_written(caplog: pytest.LogCaptureFixture) -> None:
    """A new row, a claim, a final failure with its removal: one line each; a write that
    loses its compare-and-set, or changes no state, logs nothing."""
    storage = StateLog(MemoryStorage())
    caplog.set_level(logging.INFO, logger="openworkshop.downloads")
    fresh = Mod.requested(1, now=NOW)
    assert await storage.apply(Transition.of(None, fresh))
    assert not await storage.apply(Transition.of(None, fresh))
    (claimed,) = await storage.claim(ModState.QUEUED, 1, now=NOW, lease_until=NOW)
    assert await storage.apply(Transition.of(claimed, claimed.checked(now=NOW)))
    failure = Failure(mod_id=1, reason=FailureReason.BANNED, attempts=1, date=NOW, detail="x")
    assert await storage.apply(Transition.of(claimed, claimed.failed(now=NOW), failure=failure))
    assert [r.getMessage() for r in caplog.records] == [
        "mod 1: new -> queued",
        "mod 1: queued -> downloading",
        "mod 1: failed, banned after 1 attempts (x)",
        "mod 1: removed",
    ]
