"""``Recent``: a value is loaded once, kept for its age, then loaded again (on the fake clock)."""

from __future__ import annotations

import pytest

from openworkshop.testing import FakeClock
from openworkshop_web.recent import Recent

pytestmark = pytest.mark.anyio


async def test_a_value_is_kept_for_its_age_then_loaded_again() -> None:
    clock = FakeClock()
    loads: list[str] = []

    async def load() -> str:
        loads.append("x")
        return f"v{len(loads)}"

    recent: Recent[str, str] = Recent(10.0, clock.monotonic, size=2)
    assert await recent.get("a", load) == "v1"
    clock.advance(9.9)
    assert await recent.get("a", load) == "v1"  # within its age: not read again
    clock.advance(0.1)
    assert await recent.get("a", load) == "v2"  # 10 s old: read again
    assert await recent.get("b", load) == "v3"
    assert await recent.get("c", load) == "v4"  # a third key: the oldest ("a") goes
    assert await recent.get("a", load) == "v5"
    assert len(loads) == 5
