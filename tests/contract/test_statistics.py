"""The statistics store's promises (``StatisticsStore``), held by every store."""

from __future__ import annotations

import datetime as dt

import pytest

from openworkshop.domain import Game, Genre
from openworkshop.ports import CatalogSummary, Storage
from tests.contract.support import AVAILABLE, QUEUED, at, mod, put

pytestmark = pytest.mark.anyio


async def test_downloads_and_request_dates(storage: Storage) -> None:
    """add_download counts and stamps the request; unknown ids ignored."""
    await put(storage, mod(1, downloads=3))
    await storage.add_download(1, now=at(1))
    await storage.add_download(1, now=at(2))
    await storage.add_download(99, now=at(2))
    got = await storage.get_mod(1)
    assert got is not None and (got.downloads, got.date_request) == (5, at(2))


async def test_counters_by_hour_and_day(storage: Storage) -> None:
    """count adds to the hour and the day of its moment; zero rows are not reported."""
    day = dt.date(2026, 3, 1)
    await storage.count("/list/mods/", at=dt.datetime(2026, 3, 1, 5, 59, 59, tzinfo=dt.UTC))
    await storage.count("/list/mods/", at=dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC), n=2)
    await storage.count("start", at=dt.datetime(2026, 3, 1, 4, 10, tzinfo=dt.UTC))
    await storage.count("files_sent", at=dt.datetime(2026, 3, 1, 23, 10, tzinfo=dt.UTC), n=4)
    await storage.count("files_sent", at=dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC))
    moscow = dt.timezone(dt.timedelta(hours=3))
    await storage.count("start", at=dt.datetime(2026, 3, 3, 1, 0, tzinfo=moscow))  # 2nd, 22:00 UTC
    await storage.count("zero", at=dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC), n=0)

    def hour(h: int, d: dt.date = day) -> dt.datetime:
        return dt.datetime(d.year, d.month, d.day, h, tzinfo=dt.UTC)

    rows = await storage.hour_stats(day, 0, 23)
    assert [(r.at, r.type, r.count) for r in rows] == [
        (hour(4), "start", 1),
        (hour(5), "/list/mods/", 3),
        (hour(23), "files_sent", 4),
    ]
    assert [r.type for r in await storage.hour_stats(day, 5, 5)] == ["/list/mods/"]
    assert await storage.hour_stats(day, 6, 22) == []
    second = dt.date(2026, 3, 2)
    assert [(r.at, r.type) for r in await storage.hour_stats(second, 0, 23)] == [
        (hour(0, second), "files_sent"),
        (hour(22, second), "start"),
    ]
    days = await storage.day_stats(day, second)
    midnight = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert [(r.at, r.type, r.count) for r in days] == [
        (midnight, "/list/mods/", 3),
        (midnight, "files_sent", 4),
        (midnight, "start", 1),
        (midnight + dt.timedelta(days=1), "files_sent", 1),
        (midnight + dt.timedelta(days=1), "start", 1),
    ]
    assert await storage.day_stats(dt.date(2026, 3, 4), dt.date(2026, 3, 9)) == []


async def test_delays_newest_first(storage: Storage) -> None:
    """The last samples of a kind, newest first."""
    for ms in (10, 20, 30):
        await storage.add_delay("fast", ms, at=at(ms))
    await storage.add_delay("full", 999, at=at(0))
    assert await storage.delays("fast", 2) == [30, 20]
    assert await storage.delays("fast", 20) == [30, 20, 10]
    assert await storage.delays("full", 20) == [999]
    assert await storage.delays("none", 20) == []
    assert await storage.delays("fast", 0) == []


async def test_summary_counts_the_catalog(storage: Storage) -> None:
    """/statistics/info/all: downloadable mods, games, genres, tags, dependents, days, sent."""
    assert await storage.summary() == CatalogSummary(
        mods=0, games=0, genres=0, mods_tags=0, mods_dependencies=0, statistics_days=0,
        mods_sent_count=0,
    )  # fmt: skip
    await put(storage, mod(1), mod(2, state=AVAILABLE), mod(3, state=QUEUED))
    await storage.put_game(Game(id=10), [Genre(id=1, name="a"), Genre(id=2, name="b")])
    await storage.set_mod_tags(1, 10, ["x", "y"])
    await storage.set_mod_tags(3, 11, ["x"])
    await storage.set_dependencies(1, [2])
    await storage.set_dependencies(3, [1, 2])
    await storage.set_dependencies(2, [])
    await storage.count("files_sent", at=at(0), n=3)
    await storage.count("files_sent", at=at(60 * 24))
    await storage.count("start", at=at(60 * 48))
    assert await storage.summary() == CatalogSummary(
        mods=2, games=1, genres=2, mods_tags=3, mods_dependencies=2, statistics_days=3,
        mods_sent_count=4,
    )  # fmt: skip
