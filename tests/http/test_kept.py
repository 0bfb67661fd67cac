"""Kept answers (``kept.py``): sent again while nothing was written, never after a write."""

from __future__ import annotations

import attrs
import pytest

from openworkshop import Mod, ModState
from openworkshop_sqlite import SqliteStorage
from tests.http.conftest import Api, MakeApi

pytestmark = pytest.mark.anyio

LISTING = "/list/mods/?page_size=50&sort=NAME"


MOD_IDS = [2_000_000_000 + n for n in range(5)]


@pytest.fixture
async def cached(make_api: MakeApi) -> Api:
    """Five mods at rest, written straight to the storage, and no download workers: nothing
    writes in the background (the statistics are flushed by the fake clock, which stands
    still), so every write a test sees is its own."""
    api = await make_api(can_download=False)
    for n, mod_id in enumerate(MOD_IDS):
        mod = Mod(id=mod_id, name=f"Mod {n}", state=ModState.READY, size=n)
        assert await api.workshop.storage.put_mod(mod, expect=None)
    return api


async def test_a_repeated_answer_is_kept_and_the_same(cached: Api) -> None:
    mod_id = MOD_IDS[0]
    for url in (LISTING, f"/info/mod/{mod_id}", "/list/mods/?q=a&sort=RELEVANCE"):
        first = await cached.client.get(url)
        hits = cached.app.state.kept.hits
        again = await cached.client.get(url)
        assert cached.app.state.kept.hits == hits + 1, url
        assert again.content == first.content, url
        assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
        assert again.headers["access-control-allow-origin"] == "*"


async def test_a_kept_answer_is_counted_in_the_statistics(cached: Api) -> None:
    """Counting is a statistics write: it ends the kept answers only once it is flushed, so
    the three requests below are one built answer and two kept ones."""
    mod_id = MOD_IDS[0]
    before = cached.app.state.kept.hits
    for _ in range(3):
        await cached.client.get(f"/info/mod/{mod_id}")
        await cached.client.get(LISTING)
    assert cached.app.state.kept.hits == before + 4
    counts = {r["type"]: r["count"] for r in (await cached.client.get("/statistics/hour")).json()}
    assert counts["/info/mod/"] == 3 and counts["/list/mods/"] == 3, counts


async def test_statistics_written_keep_the_answers_but_a_download_counted_ends_them(
    cached: Api,
) -> None:
    """The buffered request counters are flushed every 2 s: that write shows in no kept
    answer, so they stay; a download counted changes a mod's ``downloads``: they go."""
    url = f"/info/mod/{MOD_IDS[0]}"
    await cached.client.get(url)
    await cached.workshop.record.flush()  # the request counters: a quiet write
    hits = cached.app.state.kept.hits
    await cached.client.get(url)
    assert cached.app.state.kept.hits == hits + 1
    await cached.workshop.storage.add_download(MOD_IDS[0], now=cached.clock.now())
    assert (await cached.client.get(url)).json()["result"]["downloads"] == 1
    assert cached.app.state.kept.hits == hits + 1


async def test_a_new_mod_shows_in_the_next_listing(cached: Api) -> None:
    before = (await cached.client.get(LISTING)).json()
    await cached.client.get(LISTING)  # kept now
    model = await cached.workshop.storage.get_mod(MOD_IDS[0])
    new = attrs.evolve(model, id=3_000_000_001, name="AAA the newest mod")
    assert await cached.workshop.storage.put_mod(new, expect=None)
    after = (await cached.client.get(LISTING)).json()
    assert after["database_size"] == before["database_size"] + 1
    assert after["results"][0]["id"] == new.id


async def test_a_changed_mod_shows_in_the_next_info(cached: Api) -> None:
    mod_id = MOD_IDS[0]
    url = f"/info/mod/{mod_id}"
    await cached.client.get(url)
    assert (await cached.client.get(url)).json()["result"]["name"] != "Renamed"  # kept
    mod = await cached.workshop.storage.get_mod(mod_id)
    assert mod.state is ModState.READY
    assert await cached.workshop.storage.put_mod(
        attrs.evolve(mod, name="Renamed"), expect=ModState.READY
    )
    assert (await cached.client.get(url)).json()["result"]["name"] == "Renamed"


async def test_a_write_through_another_connection_shows_too(cached: Api) -> None:
    """Another process's write to the same file (here: another storage on it, with its own
    connections, as a second process has) ends the kept answers as well."""
    mod_id = MOD_IDS[1]
    url = f"/info/mod/{mod_id}"
    await cached.client.get(url)
    await cached.client.get(url)
    other = SqliteStorage(cached.workshop.storage.path)
    await other.open()
    try:
        mod = await other.get_mod(mod_id)
        assert await other.put_mod(attrs.evolve(mod, name="Elsewhere"), expect=ModState.READY)
    finally:
        await other.close()
    assert (await cached.client.get(url)).json()["result"]["name"] == "Elsewhere"


async def test_a_mod_not_at_rest_is_not_kept(make_api: MakeApi) -> None:
    """A queued mod's answer may change without a write (a download's progress): it is
    built every time. (No workers: the row stays queued.)"""
    api = await make_api(can_download=False)
    queued = Mod(id=3_000_000_002, name="Waiting", state=ModState.QUEUED)
    assert await api.workshop.storage.put_mod(queued, expect=None)
    url = f"/info/mod/{queued.id}"
    await api.client.get(url)
    hits = api.app.state.kept.hits
    assert (await api.client.get(url)).json()["result"]["condition"] == ModState.QUEUED
    assert api.app.state.kept.hits == hits


async def test_off_keeps_nothing(make_api: MakeApi) -> None:
    api = await make_api(answer_cache_mb=0, can_download=False)
    assert await api.workshop.storage.put_mod(Mod(id=1, state=ModState.READY), expect=None)
    for _ in range(3):
        await api.client.get(LISTING)
    assert api.app.state.kept.hits == 0 and len(api.app.state.kept) == 0


def test_the_store_is_bounded_least_recently_used_first() -> None:
    from openworkshop_http.kept import CONTENT_TYPE, ENTRY_OVERHEAD, AnswerCache

    body = b"x" * 1000
    cache = AnswerCache(max_bytes=10 * (1000 + 12 + ENTRY_OVERHEAD))
    for n in range(10):
        cache.put(f"/info/mod/{n:02}", 1, body, "/info/mod/")  # keys of 12 characters
    assert len(cache) == 10
    assert cache.get("/info/mod/00", 1) is not None  # now the most recently used
    cache.put("/info/mod/10", 1, body, "/info/mod/")
    assert len(cache) == 10
    assert cache.get("/info/mod/01", 1) is None  # the least recently used went
    assert cache.get("/info/mod/00", 1) == (body, "/info/mod/", (CONTENT_TYPE,))
    assert cache.get("/info/mod/00", 2) is None  # another version: nothing is sent
    cache.put("/info/mod/11", 2, body, "/info/mod/")
    assert len(cache) == 1  # a new version empties the store
    cache.put("/huge", 2, b"x" * cache.max_bytes, "/list/mods/")
    assert cache.get("/huge", 2) is None  # a body past an eighth of the store is not kept


async def test_a_kept_answer_is_logged(cached: Api, caplog: pytest.LogCaptureFixture) -> None:
    url = f"/info/mod/{MOD_IDS[0]}"
    await cached.client.get(url)
    hits = cached.app.state.kept.hits
    with caplog.at_level("INFO", logger="openworkshop.access"):
        answer = await cached.client.get(url)
    assert cached.app.state.kept.hits == hits + 1
    lines = [r.getMessage() for r in caplog.records if r.name == "openworkshop.access"]
    assert len(lines) == 1
    assert lines[-1].split('"')[1] == f"GET {url}"
    assert f" 200 {len(answer.content)} " in lines[-1]


async def test_the_catalog_page_is_kept_per_language_and_never_stale(cached: Api) -> None:
    """The web catalog's page is kept like the JSON listing, one per language (its key has
    the language ``Accept-Language`` picks), with its own headers; it is not counted in the
    statistics; a new mod shows in the next page, and so does a new game in its filter."""
    kept = cached.app.state.kept
    en, ru = {"Accept-Language": "en-US,en"}, {"Accept-Language": "ru"}
    first = await cached.client.get("/web/", headers=en)
    assert first.status_code == 200 and first.headers["content-language"] == "en"
    hits = kept.hits
    again = await cached.client.get("/web/", headers=en)
    assert kept.hits == hits + 1
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["content-language"] == "en" and again.headers["vary"] == "Accept-Language"
    russian = await cached.client.get("/web/", headers=ru)
    assert russian.headers["content-language"] == "ru" and russian.content != first.content
    counts = {r["type"] for r in (await cached.client.get("/statistics/hour")).json()}
    assert not any(t.startswith("/web") for t in counts)
    import datetime as dt

    from openworkshop import Game

    game = Game(id=777, name="A new game", creation_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    await cached.workshop.storage.put_game(game, [])
    mod = Mod(id=2_000_000_099, name="Zebra newly here", state=ModState.READY, game_id=777)
    assert await cached.workshop.storage.put_mod(mod, expect=None)
    page = (await cached.client.get("/web/", headers=en)).text
    assert "Zebra newly here" in page and "A new game" in page
