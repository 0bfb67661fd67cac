"""SteamWebSource over real loopback HTTP against the fake Steam: batching, the keyed path,
the page, the store, collections, and every foreign error turned into the core's."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest

from openworkshop.domain import AppDetails, ItemExtras
from openworkshop.errors import SteamConfigurationError, UpstreamRateLimited, UpstreamUnavailable
from openworkshop.ports import SteamSource
from openworkshop.settings import Settings
from openworkshop.testing import SteamCatalog
from openworkshop.testing.sample import PRIVATE_MOD_ID
from openworkshop_steam import DEFAULT_USER_AGENT, SteamWebSource
from openworkshop_steam.fake import FakeSteam, Fault
from openworkshop_steam.source import _retry_after

from .catalogs import make_item
from .conftest import API_KEY

pytestmark = pytest.mark.anyio

Make = Callable[..., SteamWebSource]


def public_ids(catalog: SteamCatalog) -> list[int]:
    return [i.id for i in catalog.items.values() if i.visible]


async def test_implements_the_port(source: SteamWebSource) -> None:
    assert isinstance(source, SteamSource)
    assert (source.max_details_batch, source.max_download_batch) == (100, 25)
    assert source.can_download
    assert not SteamWebSource(steamcmd="no-such-steamcmd-here").can_download


async def test_one_post_for_100_ids(
    source: SteamWebSource, fake: FakeSteam, catalog: SteamCatalog
) -> None:
    """100 ids, one form POST with itemcount=100; details equal the catalog's."""
    ids = public_ids(catalog)[:100]
    found = await source.details(ids)
    assert fake.calls["details"] == 1
    request = fake.requests[-1]
    assert request.method == "POST"
    assert dict(request.form)["itemcount"] == "100"
    assert request.ids() == ids
    assert dict(request.headers)["User-Agent"] == DEFAULT_USER_AGENT
    assert dict(request.headers)["Content-Type"] == "application/x-www-form-urlencoded"
    assert found == {i: catalog.items[i].details for i in ids}


async def test_150_ids_two_calls(
    source: SteamWebSource, fake: FakeSteam, catalog: SteamCatalog
) -> None:
    ids = [*public_ids(catalog)[:120], PRIVATE_MOD_ID, *range(1, 30)]
    assert len(ids) == 150
    found = await source.details(ids)
    assert fake.calls["details"] == 2
    assert [len(r.ids()) for r in fake.requests] == [100, 50]
    assert list(found) == ids
    assert found[PRIVATE_MOD_ID] is None and found[1] is None
    assert sum(v is not None for v in found.values()) == 120


async def test_duplicate_ids_asked_once(
    source: SteamWebSource, fake: FakeSteam, catalog: SteamCatalog
) -> None:
    first = public_ids(catalog)[0]
    found = await source.details([first, first, first])
    assert list(found) == [first] and fake.requests[-1].ids() == [first]


async def test_published_update_is_seen(source: SteamWebSource, catalog: SteamCatalog) -> None:
    """The fake serves the live catalog: an author's update shows in the next call."""
    mod_id = public_ids(catalog)[3]
    catalog.publish_update(mod_id, files={"new.txt": "v2"}, time_updated=1900000000)
    found = await source.details([mod_id])
    assert found[mod_id] is not None and found[mod_id].time_updated == 1900000000
    assert found[mod_id].file_size == 2 + sum(catalog.items[mod_id].blobs.values())


async def test_keyed_details_carry_extras(
    make_source: Make, fake: FakeSteam, catalog: SteamCatalog
) -> None:
    """With a key: IPublishedFileService/GetDetails, extras included, no page fetched."""
    ids = public_ids(catalog)[:100]
    async with make_source(api_key=API_KEY) as source:
        found = await source.details(ids)
        for mod_id in ids:
            item = catalog.items[mod_id]
            got = found[mod_id]
            assert got is not None
            assert attrs.evolve(got, extras=None) == item.details
            assert got.extras == ItemExtras(
                dependencies=item.dependencies,
                screenshots=item.screenshots,
                tags=item.details.tags,
                description=item.details.description,
            )
            assert await source.extras(got) == got.extras
    assert fake.calls["service_details"] == 1 and fake.calls["details"] == 0
    assert fake.calls["page"] == 0
    request = fake.requests[0]
    assert request.method == "GET" and dict(request.query)["key"] == API_KEY
    assert dict(request.query)["includechildren"] == "true"


async def test_keyed_missing_and_private(make_source: Make, fake: FakeSteam) -> None:
    async with make_source(api_key=API_KEY) as source:
        assert await source.details([PRIVATE_MOD_ID, 5]) == {PRIVATE_MOD_ID: None, 5: None}


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key_is_a_configuration_error(
    make_source: Make, fake: FakeSteam, status: int
) -> None:
    """A bad key is a clear configuration error, never a silent fallback to the page."""
    if status == 401:
        key = "BADKEY"  # the fake answers Steam's real 401 body
    else:
        key = API_KEY
        fake.inject("service_details", "status", status=403)
    async with make_source(api_key=key) as source:
        with pytest.raises(SteamConfigurationError, match="OPENWORKSHOP_STEAM_API_KEY") as caught:
            await source.details([1])
    assert key not in str(caught.value)  # the key never shows in messages
    assert fake.calls["details"] == 0 and fake.calls["page"] == 0


async def test_page_extras(source: SteamWebSource, fake: FakeSteam, catalog: SteamCatalog) -> None:
    """Without a key, extras come from the page: dependencies, screenshots, tags."""
    with_shots = next(i for i in catalog.items.values() if i.screenshots and i.dependencies)
    without = next(i for i in catalog.items.values() if i.visible and not i.screenshots)
    for item in (with_shots, without):
        extras = await source.extras(item.details)
        assert extras is not None
        assert extras.dependencies == item.dependencies
        assert extras.screenshots == item.screenshots
        assert extras.tags == item.details.tags
        assert extras.description is not None and "<b>Enjoy</b>" in extras.description
    assert fake.calls["page"] == 2
    assert dict(fake.requests[0].query)["id"] == str(with_shots.id)


async def test_page_of_a_private_item(source: SteamWebSource, catalog: SteamCatalog) -> None:
    """The HTTP 200 error shell means not found."""
    assert await source.extras(catalog.items[PRIVATE_MOD_ID].details) is None


async def test_app(source: SteamWebSource, fake: FakeSteam, catalog: SteamCatalog) -> None:
    assert await source.app(294100) == catalog.apps[294100].details
    assert await source.app(4242) is None
    assert [dict(r.query) for r in fake.requests] == [
        {"appids": "294100", "l": "english"},
        {"appids": "4242", "l": "english"},
    ]


async def test_app_genres(source: SteamWebSource, catalog: SteamCatalog) -> None:
    app = await source.app(322330)
    assert isinstance(app, AppDetails) and app.genres == ((1, "Indie"), (25, "Adventure"))


async def test_collections(source: SteamWebSource, fake: FakeSteam, catalog: SteamCatalog) -> None:
    """Nested collections are expanded; a collection inside itself only once."""
    for mod_id in (11, 12, 13, 14):
        catalog.add_item(make_item(mod_id))
    catalog.add_item(make_item(900, is_collection=True, dependencies=(11, 901, 12)))
    catalog.add_item(make_item(901, is_collection=True, dependencies=(13, 900, 14, 11)))
    found = await source.collection_children([900, 11, PRIVATE_MOD_ID])
    assert found == {900: (11, 13, 14, 12), 11: None, PRIVATE_MOD_ID: None}
    assert fake.calls["collection"] == 2  # the top level, then the nested one
    assert dict(fake.requests[0].form)["collectioncount"] == "3"


FAULTS: list[tuple[dict[str, Any], type[Exception]]] = [
    ({"kind": "status", "status": 503}, UpstreamUnavailable),
    ({"kind": "status", "status": 500}, UpstreamUnavailable),
    ({"kind": "rate_limit", "retry_after": 42}, UpstreamRateLimited),
    ({"kind": "reset"}, UpstreamUnavailable),
    ({"kind": "truncate"}, UpstreamUnavailable),
    ({"kind": "garbage"}, UpstreamUnavailable),
    # an answer that would come long after the timeout (the fake drops the handler when we
    # hang up): the timeout wins however slow the machine is, and answers without a fault
    # still come well within it
    ({"kind": "latency", "seconds": 600.0}, UpstreamUnavailable),
]
CALLS: dict[str, Callable[[SteamWebSource, SteamCatalog], Any]] = {
    "details": lambda s, c: s.details([next(iter(c.items))]),
    "appdetails": lambda s, c: s.app(294100),
    "page": lambda s, c: s.extras(next(iter(c.items.values())).details),
    "collection": lambda s, c: s.collection_children([1]),
}


@pytest.mark.parametrize("endpoint", list(CALLS))
@pytest.mark.parametrize(
    ("fault", "error"), FAULTS, ids=lambda v: v.get("kind") if isinstance(v, dict) else ""
)
async def test_faults_become_core_errors(
    make_source: Make,
    fake: FakeSteam,
    catalog: SteamCatalog,
    endpoint: str,
    fault: dict[str, Any],
    error: type[Exception],
) -> None:
    """5xx, 429, resets, truncated and garbage bodies, timeouts: only the core's errors."""
    fake.inject(endpoint, Fault(**fault))
    async with make_source(http_timeout=2.0) as source:
        with pytest.raises(error) as caught:
            await CALLS[endpoint](source, catalog)
        assert not isinstance(caught.value, aiohttp.ClientError)
        if isinstance(caught.value, UpstreamRateLimited):
            assert caught.value.retry_after == 42
        fake.clear_faults()
        await CALLS[endpoint](source, catalog)  # the same source recovers
    assert fake.calls[endpoint] >= 2


async def test_keyed_faults(make_source: Make, fake: FakeSteam) -> None:
    fake.inject("service_details", "garbage", times=1)
    fake.inject("service_details", "status", status=502, times=1)
    async with make_source(api_key=API_KEY) as source:
        with pytest.raises(UpstreamUnavailable):
            await source.details([1])
        with pytest.raises(UpstreamUnavailable):
            await source.details([1])
        assert await source.details([1]) == {1: None}


async def test_rate_limit_without_retry_after(source: SteamWebSource, fake: FakeSteam) -> None:
    fake.inject("appdetails", "rate_limit", retry_after=None)
    with pytest.raises(UpstreamRateLimited) as caught:
        await source.app(294100)
    assert caught.value.retry_after is None


def test_retry_after_forms() -> None:
    """Retry-After is seconds or an HTTP date."""
    later = email.utils.formatdate(time.time() + 120, usegmt=True)
    assert 100 < (_retry_after(later) or 0) <= 120
    assert _retry_after("7") == 7.0
    assert _retry_after("soon") is None and _retry_after(None) is None


async def test_refused_connection(make_source: Make) -> None:
    async with make_source(api_url="http://127.0.0.1:9", http_timeout=2) as source:
        with pytest.raises(UpstreamUnavailable, match="GetPublishedFileDetails"):
            await source.details([1])


async def test_wrong_base_url(make_source: Make, fake: FakeSteam) -> None:
    """A stand-in at the wrong path answers 404: that is the configuration, say so."""
    async with make_source(api_url=fake.base_url + "/nope") as source:
        with pytest.raises(SteamConfigurationError, match="base URL"):
            await source.details([1])


async def test_given_session_is_used_and_left_open(fake: FakeSteam, catalog: SteamCatalog) -> None:
    async with aiohttp.ClientSession() as session:
        source = SteamWebSource(
            api_url=fake.api_url,
            community_url=fake.community_url,
            store_url=fake.store_url,
            session=session,
            user_agent="Launcher/1.0",
        )
        assert await source.app(294100) is not None
        await source.close()
        assert not session.closed
        assert dict(fake.requests[-1].headers)["User-Agent"] == "Launcher/1.0"


async def test_close_and_reopen(source: SteamWebSource) -> None:
    await source.close()
    assert await source.app(294100) is not None  # a new session is opened on demand


async def test_from_settings(fake: FakeSteam, steamcmd: Path, catalog: SteamCatalog) -> None:
    """The OPENWORKSHOP_* settings point the source anywhere: here, at the fake."""
    env = {**fake.environment(), "OPENWORKSHOP_STEAMCMD": str(steamcmd)}
    env["OPENWORKSHOP_STEAM_API_KEY"] = API_KEY
    source = SteamWebSource.from_settings(Settings.from_env(env))
    async with source:
        assert source.can_download
        assert await source.app(294100) == catalog.apps[294100].details
        await source.details([1])
    assert fake.calls["service_details"] == 1
    assert "API_KEY" not in repr(source) and API_KEY not in repr(source)
