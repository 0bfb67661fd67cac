"""The fake Steam failing 30% of calls in every way it can: every request still ends in
state 0 or a clear failure, and no mod costs more upstream calls than the retry bound."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import attrs
import pytest

from openworkshop import FileArchiveStore, ModState, Settings, Workshop
from openworkshop.domain import FailureReason
from openworkshop.testing import sample_catalog
from openworkshop_sqlite import SqliteStorage
from openworkshop_steam import SteamWebSource
from openworkshop_steam.fake.cli import start_fake_steam
from openworkshop_steam.fake.steamcmd import read_sessions

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MAX_ATTEMPTS = 4
FAULTS = ("status", "rate_limit", "reset", "truncate", "garbage")


async def test_thirty_percent_faults(tmp_path: Path) -> None:
    catalog = sample_catalog(mods_per_game=12, seed=5)
    ids = [i for i, item in catalog.items.items() if item.visible and not item.download_error]
    ids = ids[:30]
    # steamcmd's own failures: a few items that always time out or fail
    for mod_id, error in zip(ids[:3], ("Timeout", "No Connection", "Failure"), strict=True):
        catalog.items[mod_id] = attrs.evolve(catalog.items[mod_id], download_error=error)
    running = await start_fake_steam(
        catalog=catalog, steamcmd_dir=tmp_path / "steamcmd", login_delay=0.05
    )
    fake = running.steam
    for endpoint in ("details", "appdetails", "page"):
        for kind in FAULTS:  # 5 kinds × 6% = 30% of the calls of each endpoint
            fake.inject(endpoint, kind, probability=0.06, retry_after=0.2, status=503)
        fake.inject(endpoint, "latency", probability=0.3, seconds=0.05)
    source = SteamWebSource(
        api_url=fake.api_url,
        community_url=fake.community_url,
        store_url=fake.store_url,
        steamcmd=str(running.steamcmd),
        steamcmd_env={"OPENWORKSHOP_FAKE_STEAMCMD_ITEM_DELAY": "0.01"},
        http_timeout=5,
    )
    settings = Settings(
        gather_window=0.05,
        max_attempts=MAX_ATTEMPTS,
        retry_base=0.05,
        rate_limit_pause=0.3,
        upstream_per_minute=100_000,
    )
    workshop = Workshop(
        storage=SqliteStorage(tmp_path / "catalog.sqlite3"),
        steam=source,
        archives=FileArchiveStore(tmp_path / "archives"),
        settings=settings,
        downloads_dir=tmp_path / "downloads",
    )
    try:
        async with workshop:
            for wave in range(0, len(ids), 3):  # in waves, so there are many batches
                await asyncio.gather(*(workshop.request_download(i) for i in ids[wave : wave + 3]))
                await asyncio.sleep(0.15)
            states = await workshop.wait_until(ids, [ModState.READY], timeout=120)
            outcomes: dict[int, str] = {}
            for mod_id, state in states.items():
                if state is ModState.READY:
                    outcomes[mod_id] = "ready"
                    continue
                assert state is None, f"{mod_id} stuck in {state}"
                failure = await workshop.storage.get_failure(mod_id)
                assert failure is not None, f"{mod_id} vanished without a reason"
                outcomes[mod_id] = failure.reason.value
            for mod_id in ids[:3]:  # steamcmd failures end clearly
                # ... unless the last attempt never reached steamcmd: its details call was
                # answered with an injected rate limit, and that is the reason kept
                last = [r for r in fake.requests if r.endpoint == "details" and mod_id in r.ids()]
                if last and last[-1].fault == "rate_limit":
                    assert outcomes[mod_id] == FailureReason.RATE_LIMITED.value
                    continue
                assert outcomes[mod_id] in {
                    FailureReason.TIMEOUT.value,
                    FailureReason.NO_CONNECTION.value,
                    FailureReason.UNKNOWN.value,
                }
            assert Counter(outcomes.values())["ready"] >= 20
            # no upstream call went out for a mod more often than the retry bound allows
            asked: Counter[int] = Counter()
            pages: Counter[int] = Counter()
            for request in fake.requests:
                if request.endpoint == "details":
                    asked.update(request.ids())
                elif request.endpoint == "page":
                    pages.update(request.ids())
            sessions: Counter[int] = Counter()
            for session in read_sessions(running.session_log):
                sessions.update(int(i) for i in session["items"])
            for mod_id in ids:
                assert asked[mod_id] <= MAX_ATTEMPTS, (mod_id, asked[mod_id])
                assert sessions[mod_id] <= MAX_ATTEMPTS, (mod_id, sessions[mod_id])
                assert pages[mod_id] <= MAX_ATTEMPTS, (mod_id, pages[mod_id])
            retried = [i for i in ids[3:] if asked[i] > 1 or pages[i] > 1 or sessions[i] > 1]
            assert retried, "no fault hit a mod: the test proved nothing"
    finally:
        await source.close()
        await running.stop()
