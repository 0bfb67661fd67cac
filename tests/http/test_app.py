"""create_app: the route table covers the original's endpoints and statistics types, and the
lifespan starts and stops the workshop when asked to."""

from __future__ import annotations

from pathlib import Path

import pytest

from openworkshop import Workshop
from openworkshop.testing import FakeSteamSource, MemoryArchiveStore, MemoryStorage
from openworkshop_http import HttpSettings, create_app
from openworkshop_http.api import STATISTICS_TYPES
from openworkshop_http.app import ENDPOINTS

pytestmark = pytest.mark.anyio


def test_every_statistics_endpoint_type_has_its_route() -> None:
    # GET and POST /plan share one type
    assert {endpoint.statistics for endpoint in ENDPOINTS} == set(STATISTICS_TYPES)
    original = [e for e in ENDPOINTS if not e.launcher]
    assert len(original) == 20 and all(t.endswith("/") for t in STATISTICS_TYPES)
    assert len(set(STATISTICS_TYPES)) == len(STATISTICS_TYPES)


async def _lifespan(app, events: list[str]) -> list[str]:
    """Drive the ASGI lifespan protocol: startup, then shutdown; return what was sent."""
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive():
        message = next(incoming)
        events.append(message["type"])
        return message

    async def send(message):
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    return sent


@pytest.mark.parametrize("manage", [True, False])
async def test_lifespan_starts_and_stops_the_workshop(tmp_path: Path, manage: bool) -> None:
    workshop = Workshop(
        storage=MemoryStorage(),
        steam=FakeSteamSource(),
        archives=MemoryArchiveStore(),
        downloads_dir=tmp_path,
    )
    seen: list[bool] = []
    original_start = workshop.start

    async def start(**kwargs):
        await original_start(**kwargs)
        seen.append(workshop.started)

    workshop.start = start  # type: ignore[method-assign]
    app = create_app(workshop, HttpSettings(), manage_lifespan=manage)
    sent = await _lifespan(app, [])
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert seen == ([True] if manage else [])
    assert workshop.started is False
