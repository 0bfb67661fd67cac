"""SteamWebSource over real loopback HTTP against the fake Steam: batching, the keyed path,
the page, the store, collections, and every foreign error turned into the core's."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web

from openworkshop.domain import AppDetails, DownloadItem, FailureReason, ItemExtras
from openworkshop.errors import SteamConfigurationError, UpstreamRateLimited, UpstreamUnavailable
from openworkshop.owners import OWNERS
from openworkshop.ports import SteamSource
from openworkshop.settings import read_settings
from openworkshop.testing import SteamCatalog
from openworkshop.testing.sample import PRIVATE_MOD_ID
from openworkshop_steam import DEFAULT_USER_AGENT, SteamSettings, SteamWebSource
from openworkshop_steam.fake import ENV_HANG, ENV_PASSWORD, FakeSteam, Fault
from openworkshop_steam.source import _retry_after
from tests.http.conftest import free_port

from .catalogs import alive, make_item
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
        extras = await source.extras(item.id, preview_url=item.details.preview_url)
        assert extras is not None
        assert extras.dependencies == item.dependencies
        assert extras.screenshots == item.screenshots
        assert extras.tags == item.details.tags
        assert extras.description is not None and "<b>Enjoy</b>" in extras.description
    assert fake.calls["page"] == 2
    assert dict(fake.requests[0].query)["id"] == str(with_shots.id)


async def test_page_of_a_private_item(source: SteamWebSource, catalog: SteamCatalog) -> None:
    """The HTTP 200 error shell means not found."""
    assert await source.extras(PRIVATE_MOD_ID) is None


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
    "page": lambda s, c: s.extras(next(iter(c.items))),
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
    """5xx, 429, resets, truncated and garbage bodies, timeouts: only the core's errors, and
    each attempt is one call to Steam (aiohttp never resends a GET behind the gate's back)."""
    fake.inject(endpoint, Fault(**fault))
    async with make_source(http_timeout=2.0) as source:
        with pytest.raises(error) as caught:
            await CALLS[endpoint](source, catalog)
        assert not isinstance(caught.value, aiohttp.ClientError)
        if isinstance(caught.value, UpstreamRateLimited):
            assert caught.value.retry_after == 42
        fake.clear_faults()
        await CALLS[endpoint](source, catalog)  # the same source recovers
    assert fake.calls[endpoint] == 2


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
    source = SteamWebSource.from_settings(read_settings(SteamSettings, env))
    async with source:
        assert source.can_download
        assert await source.app(294100) == catalog.apps[294100].details
        await source.details([1])
    assert fake.calls["service_details"] == 1
    assert "API_KEY" not in repr(source) and API_KEY not in repr(source)


# --- hostile replies through the real aiohttp source -------------------------------------

HOSTILE_TITLE = b"Sad \\ud83d face\\u0000 \xff\xfe"
"""A JSON string's inside: a lone surrogate escape, an escaped NUL, invalid UTF-8 bytes."""
CLEAN_TITLE = "Sad \ufffd face \ufffd\ufffd"


@pytest.fixture
async def hostile() -> AsyncIterator[str]:
    """A tiny Steam on 127.0.0.1 whose every answer carries hostile text; its base URL."""

    def raw(body: bytes, content_type: str) -> web.Response:
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def details(request: web.Request) -> web.Response:
        return raw(
            b'{"response":{"result":1,"resultcount":2,"publishedfiledetails":['
            b'{"publishedfileid":"7","result":1,"consumer_app_id":294100,"file_size":"1",'
            b'"title":"' + HOSTILE_TITLE + b'","description":"d\\u0001",'
            b'"tags":[{"tag":"\\udc00"}]},'
            b'{"publishedfileid":"8","result":1,"consumer_app_id":294100,"title":"fine"}]}}',
            "application/json; charset=UTF-8",
        )

    async def service(request: web.Request) -> web.Response:
        return raw(
            b'{"response":{"publishedfiledetails":[{"publishedfileid":"7","result":1,'
            b'"consumer_appid":294100,"file_type":0,"title":"' + HOSTILE_TITLE + b'",'
            b'"file_description":"x\\u0000y","children":[],"previews":[],"tags":[]}]}}',
            "application/json; charset=UTF-8",
        )

    async def appdetails(request: web.Request) -> web.Response:
        return raw(
            b'{"294100":{"success":true,"data":{"type":"game","steam_appid":294100,'
            b'"name":"' + HOSTILE_TITLE + b'","genres":[{"id":"1","description":"\\ud83d"}]}}}',
            "application/json; charset=UTF-8",
        )

    async def page(request: web.Request) -> web.Response:
        return raw(
            b'<html><head><title>Steam Workshop::x</title></head><body><div class="work'
            b'shopItemDetailsHeader"><div class="workshopItemTitle">t</div></div><div class='
            b'"workshopTags"><a href="#">A\x00&#1;\xff</a></div><div class="workshopItem'
            b'Description" id="highlightContent">d\x00&#2;\xed\xa0\xbd</div></body></html>',
            "text/html; charset=UTF-8",
        )

    async def broken(request: web.Request) -> web.Response:
        body = b"<html>\xff user bob at 10.1.2.3:27017 said SECRET-BYTES</html>"
        return web.Response(status=int(request.match_info["status"]), body=body)

    app = web.Application()
    app.router.add_post("/ISteamRemoteStorage/GetPublishedFileDetails/v1/", details)
    app.router.add_get("/IPublishedFileService/GetDetails/v1/", service)
    app.router.add_get("/api/appdetails", appdetails)
    app.router.add_get("/sharedfiles/filedetails/", page)
    app.router.add_route("*", "/broken/{status}/{tail:.*}", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def storable(*texts: str) -> None:
    """Strict UTF-8 (what SQLite and the JSON encoder are given) takes every text."""
    for text in texts:
        text.encode("utf-8")
        assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in text), repr(text)


async def test_hostile_text_is_cleaned_at_the_edge(hostile: str) -> None:
    """Lone surrogates, NUL and invalid UTF-8 in every kind of answer: the batch is read
    (not failed as no_connection) and every text the core gets is valid Unicode."""
    async with SteamWebSource(api_url=hostile, store_url=hostile, community_url=hostile) as source:
        found = await source.details([7, 8])
        item, fine = found[7], found[8]
        assert item is not None and fine is not None and fine.title == "fine"
        assert (item.title, item.description, item.tags) == (CLEAN_TITLE, "d", ("\ufffd",))
        app = await source.app(294100)
        assert app is not None and (app.name, app.genres) == (CLEAN_TITLE, ((1, "\ufffd"),))
        extras = await source.extras(7)
        assert extras is not None and extras.tags == ("A\ufffd",)
        assert extras.description is not None
        storable(item.title, item.description, *item.tags, app.name, extras.description)
    async with SteamWebSource(api_url=hostile, api_key=API_KEY) as source:
        keyed = (await source.details([7]))[7]
        assert keyed is not None and (keyed.title, keyed.description) == (CLEAN_TITLE, "xy")


@pytest.mark.parametrize("status", [500, 503, 400])
async def test_error_replies_are_not_shown(
    hostile: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    """An error's message may become a mod's public failure detail: the reply's bytes go
    to the log, the message says only what failed."""
    async with SteamWebSource(api_url=f"{hostile}/broken/{status}") as source:
        with pytest.raises(UpstreamUnavailable) as caught:
            await source.details([1])
    assert str(caught.value) == f"GetPublishedFileDetails: Steam answered HTTP {status}"
    assert "SECRET-BYTES" in caplog.text  # the operator still sees it


async def test_connection_errors_name_no_host_or_port(make_source: Make) -> None:
    async with make_source(api_url="http://127.0.0.1:9", http_timeout=2) as source:
        with pytest.raises(UpstreamUnavailable) as caught:
            await source.details([1])
    assert str(caught.value) == "GetPublishedFileDetails: cannot reach Steam"


async def test_wrong_base_url_names_no_url(make_source: Make, fake: FakeSteam) -> None:
    async with make_source(api_url=fake.base_url + "/nope") as source:
        with pytest.raises(SteamConfigurationError) as caught:
            await source.details([1])
    assert "127.0.0.1" not in str(caught.value) and "/nope" not in str(caught.value)


def test_settings_repr_shows_no_secret() -> None:
    settings = SteamSettings(steam_api_key=API_KEY, steam_username="bob", steam_password="hunter2")
    assert API_KEY not in repr(settings) and "hunter2" not in repr(settings)


# --- steamcmd: its environment, the runscript, what it says publicly ------------------------


def downloadable(catalog: SteamCatalog, count: int) -> list[DownloadItem]:
    items = [i for i in catalog.items.values() if i.visible and not i.download_error]
    return [DownloadItem(app_id=i.details.app_id, mod_id=i.id) for i in items[:count]]


async def test_steamcmd_gets_a_clean_environment(
    make_source: Make,
    catalog: SteamCatalog,
    sessions: Callable[[], list[dict[str, Any]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server's OPENWORKSHOP_* settings (the password, the key) and anything else it has
    stay out of steamcmd's environment; PATH, HOME and the locale reach it."""
    monkeypatch.setenv("OPENWORKSHOP_STEAM_PASSWORD", "hunter2")
    monkeypatch.setenv("OPENWORKSHOP_STEAM_API_KEY", API_KEY)
    monkeypatch.setenv("OPENWORKSHOP_FAKE_STEAMCMD_GLUED", "1")  # not baked in: must not pass
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "cloud-secret")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    extra = {"OPENWORKSHOP_FAKE_STEAMCMD_ITEM_DELAY": "0"}
    async with make_source(username="bob", password="hunter2", steamcmd_env=extra) as source:
        outcomes = await source.download(downloadable(catalog, 1), tmp_path / "dl")
    assert all(o.ok for o in outcomes.values())
    async with make_source() as source:  # anonymous sessions too
        await source.download(downloadable(catalog, 1), tmp_path / "dl2")
    for session in sessions():
        environ: dict[str, str] = session["environ"]
        baked = {"CATALOG", "LOGIN_DELAY", "ITEM_DELAY", "SESSION_LOG", "HOME"}
        foreign = {
            name
            for name in environ
            if name.startswith("OPENWORKSHOP_")
            and name.removeprefix("OPENWORKSHOP_FAKE_STEAMCMD_") not in baked
        }
        assert foreign == set(), foreign
        assert not any("hunter2" in v or API_KEY in v for v in environ.values())
        assert "AWS_SECRET_ACCESS_KEY" not in environ
        assert environ["PATH"] == os.environ["PATH"] and environ["LC_ALL"] == "C.UTF-8"
        assert environ.get("HOME") == os.environ.get("HOME")


async def test_runscript_is_removed_once_steamcmd_has_read_it(
    make_source: Make,
    catalog: SteamCatalog,
    sessions: Callable[[], list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    """While steamcmd still runs (here: hangs on its first item), the file with the password
    is already gone; the session ends with no runscript folder left."""
    scripts = tmp_path / "scripts"
    async with make_source(
        username="bob",
        password="hunter2",
        steamcmd_env={ENV_HANG: "1"},
        steamcmd_timeout=120,
        runscript_dir=scripts,
    ) as source:
        task = asyncio.create_task(source.download(downloadable(catalog, 1), tmp_path / "dl"))
        deadline = time.monotonic() + 60
        while not any("child_pid" in s for s in sessions()):  # gate: it hangs on the item
            assert time.monotonic() < deadline and not task.done()
            await asyncio.sleep(0.02)
        [session] = sessions()
        assert session["login"] == "bob" and alive(session["pid"])
        script = Path(session["runscript"])
        assert script.parent.parent == scripts
        # read, then removed: not on disk while steamcmd runs
        assert not await asyncio.to_thread(script.exists)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # nothing but the owner locks (openworkshop.owners) of the live processes
    assert [p.name for p in scripts.iterdir()] == [OWNERS]


def hostile_steamcmd(folder: Path) -> Path:
    """A steamcmd stand-in whose output names the account, SteamIDs and an IP:port."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "steamcmd"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "lines = open(sys.argv[2]).read().splitlines()\n"
        "items = [l.split()[2] for l in lines if l.startswith('workshop_download_item')]\n"
        "print(\"Logging in user 'Bob' [U:1:123] to Steam Public...OK\")\n"
        "print('Waiting for user info...OK')\n"
        "print('Connected to 10.1.2.3:27017 as 76561197960265851 (bob, password hunter2)')\n"
        "for n, i in enumerate(items):\n"
        "    if n == 0:\n"
        "        print(f'ERROR! Download item {i} failed (bob 76561197960265851 10.1.2.3:27017).')\n"
        "    elif n == 1:\n"
        "        print(f'ERROR! Download item {i} failed (Access Denied).')\n"
        "print('Unloading Steam API...OK bob [U:1:123] 10.1.2.3:27017')\n"
    )
    script.chmod(0o755)
    return script


LEAKS = ("bob", "hunter2", "[U:1:", "7656119", "10.1.2.3", "27017")


async def test_failure_details_never_carry_steamcmd_output(
    make_source: Make, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The public detail is a fixed text per reason; the raw output reaches the log only,
    without the account name, password, SteamIDs or addresses."""
    steamcmd = hostile_steamcmd(tmp_path / "bin")
    items = [DownloadItem(app_id=294100, mod_id=i) for i in (1, 2, 3)]
    with caplog.at_level(logging.WARNING):
        async with make_source(steamcmd=str(steamcmd), username="bob", password="hunter2") as s:
            outcomes = await s.download(items, tmp_path / "dl")
    details = {mod_id: (o.reason, o.detail) for mod_id, o in outcomes.items()}
    assert details == {
        1: (FailureReason.UNKNOWN, "steamcmd could not download the item"),
        2: (FailureReason.ACCESS_DENIED, "Access Denied"),
        3: (FailureReason.UNKNOWN, "steamcmd said nothing about the item (exit 0)"),
    }
    assert "Connected to *** as ***" in caplog.text  # the operator gets the output…
    for leak in LEAKS:  # …without what would name the account or the host
        assert leak not in caplog.text.lower(), leak


async def test_login_failure_detail_names_no_account(
    make_source: Make, catalog: SteamCatalog, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The real login transcript says "Logging in user 'bob' [U:1:N]": none of it is public."""
    with caplog.at_level(logging.WARNING):
        async with make_source(
            username="bob", password="wrong", steamcmd_env={ENV_PASSWORD: "right"}
        ) as source:
            outcomes = await source.download(downloadable(catalog, 2), tmp_path / "dl")
    assert {(o.reason, o.detail) for o in outcomes.values()} == {
        (FailureReason.LOGIN_REQUIRED, "login failed: Invalid Password")
    }
    assert "Logging in user '***' *** to Steam Public" in caplog.text
    assert "bob" not in caplog.text and "wrong" not in caplog.text


async def test_info_mod_shows_no_account_over_http(
    fake: FakeSteam, catalog: SteamCatalog, tmp_path: Path
) -> None:
    """``openworkshop serve`` with an account, against the fake Steam and a steamcmd whose
    output names the account: ``/info/mod``'s failure is the fixed text, and the server's
    log has the output without the password."""
    steamcmd = hostile_steamcmd(tmp_path / "bin")
    [item] = downloadable(catalog, 1)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENWORKSHOP_")}
    env.update(fake.environment())
    env.update(
        {
            "OPENWORKSHOP_STEAMCMD": str(steamcmd),
            "OPENWORKSHOP_STEAM_USERNAME": "bob",
            "OPENWORKSHOP_STEAM_PASSWORD": "hunter2",
            "OPENWORKSHOP_MAX_ATTEMPTS": "1",  # the first failure is final and kept
            "OPENWORKSHOP_GATHER_WINDOW": "0.05",
        }
    )
    log = tmp_path / "serve.log"
    script = Path(sys.executable).with_name("openworkshop")
    args = ["serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]
    with log.open("wb") as out:
        server = await asyncio.create_subprocess_exec(
            str(script), *args, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            while True:  # gate: the server answers
                assert server.returncode is None and time.monotonic() < deadline
                try:
                    async with http.get(f"{base}/info/queue/size") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            async with http.get(f"{base}/download/steam/{item.mod_id}") as response:
                assert response.status == 202, await response.text()
            while True:  # gate: the failure is recorded
                assert time.monotonic() < deadline
                async with http.get(f"{base}/info/mod/{item.mod_id}") as response:
                    text = await response.text()
                    failure = (await response.json()).get("failure")
                if failure:
                    break
                await asyncio.sleep(0.1)
    finally:
        server.terminate()
        await server.wait()
    assert failure["reason"] == "unknown", failure
    assert "steamcmd could not download the item" in text
    for leak in LEAKS:
        assert leak not in text.lower(), leak
    served = await asyncio.to_thread(log.read_text)
    assert "Connected to *** as ***" in served and "hunter2" not in served
