"""The pages over a real ``Workshop`` (SQLite, archives on disk, the in-memory fake Steam) through
the ASGI app: what they show, that Steam's text reaches them escaped, that the queueing form
acts only on POST, and that pages are not counted as API requests."""

from __future__ import annotations

import datetime as dt
import re

import attrs
import httpx
import pytest

from openworkshop import ModState
from openworkshop.query import HourStatsQuery, ModInfoQuery
from openworkshop_web import PREFIX
from openworkshop_web.pages import FILTERS_MAX_AGE
from tests.http.conftest import Api, MakeApi

pytestmark = pytest.mark.anyio

EN = {"Accept-Language": "en-US,en;q=0.9"}


async def test_every_page_answers_html_in_the_chosen_language(api: Api) -> None:
    ids = api.mod_ids()[:3]
    await api.cache(ids)
    game_id = api.catalog.items[ids[0]].details.app_id
    for path in ("/", f"/mods/{ids[0]}", "/games", f"/games/{game_id}", "/stats"):
        for language, word in (("en", "Statistics"), ("ru", "Статистика")):
            answer = await api.client.get(PREFIX + path, headers={"Accept-Language": language})
            assert answer.status_code == 200, (path, answer.text[:300])
            assert answer.headers["content-type"] == "text/html; charset=utf-8"
            assert answer.headers["content-language"] == language
            assert f'<html lang="{language}">' in answer.text and word in answer.text
    bare = await api.client.get(PREFIX)
    assert bare.status_code == 307 and bare.headers["location"] == PREFIX + "/"
    assert (await api.client.get("/")).headers["location"] == "/docs"  # the API's root stays


async def test_catalog_shows_what_the_api_lists_for_the_same_query(api: Api) -> None:
    ids = api.mod_ids()[:6]
    await api.cache(ids)
    mod = api.catalog.items[ids[0]].details
    word = mod.title.split()[0]
    page = await api.client.get(f"{PREFIX}/", params={"q": word, "sort": "NAME"}, headers=EN)
    listed = (await api.client.get("/list/mods/", params={"q": word, "sort": "NAME"})).json()
    assert listed["results"]
    for row in listed["results"]:
        assert f'data-mod-id="{row["id"]}"' in page.text
    order = [page.text.index(f'data-mod-id="{r["id"]}"') for r in listed["results"]]
    assert order == sorted(order)
    assert f'Found: <span id="total">{listed["database_size"]}</span>' in page.text
    # RELEVANCE without a search is the default order (the API would refuse it)
    plain = await api.client.get(f"{PREFIX}/", params={"sort": "RELEVANCE", "reverse": "1"})
    assert plain.status_code == 200 and 'id="total"' in plain.text
    bad = await api.client.get(f"{PREFIX}/", params={"sort": "NOPE"})
    assert bad.status_code == 422  # the API's error for the same parameter


async def test_steam_text_reaches_the_page_escaped(api: Api) -> None:
    """A name and description from Steam with HTML and script in them: shown as text, the
    BBCode rendered, no script or handler on the page."""
    mod_id = api.mod_ids()[0]
    await api.cache([mod_id])
    storage = api.workshop.storage
    mod = await storage.get_mod(mod_id)
    assert mod is not None
    hostile = attrs.evolve(
        mod,
        name='<script>alert("name")</script>',
        short_description='<b onmouseover="alert(4)">short</b>',
        description="[b]bold[/b]<img src=x onerror=alert(1)>[url=javascript:alert(2)]x[/url]"
        '[url=https://a.org/" onclick="alert(3)]y[/url]',
    )
    assert await storage.put_mod(hostile, expect=mod.state)
    for path in (f"/mods/{mod_id}", "/"):
        page = (await api.client.get(PREFIX + path, headers=EN)).text
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "<b onmouseover" not in page
        assert re.search(r"&lt;script&gt;alert\((&#34;|&quot;)name\1\)&lt;/script&gt;", page)
    page = (await api.client.get(f"{PREFIX}/mods/{mod_id}", headers=EN)).text
    assert "<strong>bold</strong>&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript' not in page and 'onclick="alert' not in page


async def test_a_mod_not_here_offers_the_button_and_the_form_queues_it(api: Api) -> None:
    mod_id = api.mod_ids()[0]
    page = await api.client.get(f"{PREFIX}/mods/{mod_id}", headers=EN)
    assert page.status_code == 404 and 'id="queue-button"' in page.text
    assert "not on the server yet" in page.text
    # the form acts on POST only: GET and HEAD (no side effects) are refused
    for method in ("GET", "HEAD"):
        refused = await api.client.request(method, f"{PREFIX}/mods/{mod_id}/download")
        assert refused.status_code == 405
    assert (await api.workshop.mod_info(ModInfoQuery(mod_id=mod_id))).mod is None
    posted = await api.client.post(f"{PREFIX}/mods/{mod_id}/download")
    assert posted.status_code == 303
    assert posted.headers["location"].endswith(f"{PREFIX}/mods/{mod_id}")
    states = await api.workshop.wait_until([mod_id], [ModState.READY], timeout=30)
    assert states[mod_id] is ModState.READY
    again = await api.client.post(f"{PREFIX}/mods/{mod_id}/download")  # already here: fine
    assert again.status_code == 303
    page = await api.client.get(f"{PREFIX}/mods/{mod_id}", headers=EN)
    assert page.status_code == 200 and f'href="/download/{mod_id}"' in page.text
    assert 'id="queue-button"' not in page.text


async def test_the_form_is_rate_limited_like_the_api(make_api: MakeApi) -> None:
    api = await make_api(client_rate=1)
    first, second = api.mod_ids()[:2]
    assert (await api.client.post(f"{PREFIX}/mods/{first}/download")).status_code == 303
    limited = await api.client.post(f"{PREFIX}/mods/{second}/download")
    assert limited.status_code == 429 and "retry-after" in limited.headers


async def test_pages_are_not_counted_as_api_requests(api: Api) -> None:
    await api.cache(api.mod_ids()[:1])
    before = await api.workshop.hour_stats(HourStatsQuery())
    for path in ("/", "/games", "/stats", f"/mods/{api.mod_ids()[0]}", "/static/style.css"):
        assert (await api.client.get(PREFIX + path)).status_code == 200
    after = await api.workshop.hour_stats(HourStatsQuery())
    assert {(r.type, r.count) for r in after} == {(r.type, r.count) for r in before}


async def test_statistics_plot_the_counts_with_translated_types(api: Api) -> None:
    for _ in range(3):
        await api.client.get("/list/mods/")
    page = (await api.client.get(f"{PREFIX}/stats", headers=EN)).text
    assert 'data-series="Requests to /list/mods/"' in page
    # one point in each plot: this hour, and today
    assert page.count("<title>Requests to /list/mods/ · ") == 2
    now = api.clock.now()
    assert f"<title>Requests to /list/mods/ · {now:%H}: 3</title>" in page
    assert f"<title>Requests to /list/mods/ · {now:%m-%d}: 3</title>" in page
    ru = (await api.client.get(f"{PREFIX}/stats", headers={"Accept-Language": "ru"})).text
    assert 'data-series="Запросы к /list/mods/"' in ru
    day = (api.clock.now() - dt.timedelta(days=400)).date().isoformat()
    empty = (await api.client.get(f"{PREFIX}/stats", params={"date": day}, headers=EN)).text
    assert "No data for this period." in empty
    bad = await api.client.get(f"{PREFIX}/stats", params={"date": "tomorrow"})
    assert bad.status_code == 422


async def test_assets_are_served_from_the_package(api: Api) -> None:
    page = (await api.client.get(f"{PREFIX}/stats")).text
    for asset in ("style.css", "progress.js"):
        answer = await api.client.get(f"{PREFIX}/static/{asset}")
        assert answer.status_code == 200 and answer.content
    # nothing on a page comes from another host but Steam's pictures (img, escaped URLs)
    assert "//cdn" not in page and '<script src="http' not in page
    assert isinstance(httpx.URL(f"http://x{PREFIX}/static/style.css"), httpx.URL)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
async def test_the_games_offered_as_filters_are_read_again_after_ten_seconds(
    make_api: MakeApi, storage: str
) -> None:
    """The catalog keeps its list of games for FILTERS_MAX_AGE seconds (of the workshop's
    clock): with a store that has no catalog version (the memory store) a game that arrives
    meanwhile is offered once they have passed; with one (SQLite) at once, since a page may
    be kept (kept.py) and must not mix old filters with new rows."""
    api = await make_api(storage=storage)
    by_game: dict[int, int] = {}
    for mod_id in api.mod_ids():
        by_game.setdefault(api.catalog.items[mod_id].details.app_id, mod_id)
    (first_game, first), (second_game, second) = list(by_game.items())[:2]
    await api.cache([first])
    page = (await api.client.get(f"{PREFIX}/")).text
    assert f'<option value="{first_game}"' in page
    await api.cache([second])
    offered = f'<option value="{second_game}"' in (await api.client.get(f"{PREFIX}/")).text
    assert offered is (storage == "sqlite")
    api.clock.advance(FILTERS_MAX_AGE)
    assert f'<option value="{second_game}"' in (await api.client.get(f"{PREFIX}/")).text
