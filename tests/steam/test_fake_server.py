"""The fake Steam answers like Steam (docs/steam.md and the captures), probed with raw HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from openworkshop.testing import SteamCatalog
from openworkshop.testing.sample import PRIVATE_MOD_ID
from openworkshop_steam.fake import FakeSteam

from .catalogs import make_item
from .conftest import API_KEY

pytestmark = pytest.mark.anyio


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def error_bodies(captures: Path) -> list[str]:
    text = (captures / "webapi/webapi_error_bodies.txt").read_text()
    return [line for line in text.splitlines() if line.startswith("<html>")]


def fixture(captures: Path, name: str) -> Any:
    return json.loads((captures / "webapi" / name).read_text())


def first_public(catalog: SteamCatalog) -> int:
    return next(i.id for i in catalog.items.values() if i.visible)


V1 = "/ISteamRemoteStorage/GetPublishedFileDetails/v1/"


async def test_v1_without_itemcount(
    fake: FakeSteam, http: aiohttp.ClientSession, captures: Path
) -> None:
    """Steam's exact HTML 400, also for a JSON body (which has no itemcount form field)."""
    for kwargs in ({"data": {"publishedfileids[0]": "1"}}, {"json": {"publishedfileids": [1]}}):
        async with http.post(fake.api_url + V1, **kwargs) as response:
            assert response.status == 400
            assert await response.text() == error_bodies(captures)[0]
    async with http.get(fake.api_url + V1) as response:
        assert response.status == 405


async def test_v1_item_shape(
    fake: FakeSteam, http: aiohttp.ClientSession, catalog: SteamCatalog, captures: Path
) -> None:
    """The key order and types of the 2026 capture: file_size a string, banned an int."""
    real = fixture(captures, "GetPublishedFileDetails.v1.stellaris_1780481482.json")
    mod_id = first_public(catalog)
    form = {"itemcount": "2", "publishedfileids[0]": str(mod_id), "publishedfileids[1]": "9999"}
    async with http.post(fake.api_url + V1, data=form) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
        body = await response.json()
    assert list(body["response"]) == list(real["response"])
    ours, missing = body["response"]["publishedfiledetails"]
    theirs = real["response"]["publishedfiledetails"][0]
    assert list(ours) == list(theirs)
    assert {k: type(v) for k, v in ours.items()} == {k: type(v) for k, v in theirs.items()}
    assert ours["file_size"] == str(catalog.items[mod_id].details.file_size)
    assert (
        missing
        == fixture(captures, "GetPublishedFileDetails.v1.missing_or_private.json")["response"][
            "publishedfiledetails"
        ][0]
    )


async def test_v1_private_and_friends_only(
    fake: FakeSteam, http: aiohttp.ClientSession, catalog: SteamCatalog
) -> None:
    catalog.add_item(make_item(801, visibility=1))
    catalog.add_item(make_item(803, visibility=3))  # unlisted: visible to anyone with the id
    form = {"itemcount": "3"} | {
        f"publishedfileids[{i}]": str(v) for i, v in enumerate([PRIVATE_MOD_ID, 801, 803])
    }
    async with http.post(fake.api_url + V1, data=form) as response:
        items = (await response.json())["response"]["publishedfiledetails"]
    assert [i["result"] for i in items] == [9, 9, 1]
    assert items[0] == {"publishedfileid": str(PRIVATE_MOD_ID), "result": 9}


async def test_collection_shapes(
    fake: FakeSteam, http: aiohttp.ClientSession, catalog: SteamCatalog, captures: Path
) -> None:
    """Built like the fixture's collection, the fake answers exactly the fixture."""
    for child in (2419266395, 2419266500):
        catalog.add_item(make_item(child))
    catalog.add_item(make_item(3533988679, is_collection=True))
    children = (2419266395, 2419266500, 3533988679)
    catalog.add_item(make_item(104604903, is_collection=True, dependencies=children))
    url = fake.api_url + "/ISteamRemoteStorage/GetCollectionDetails/v1/"
    form = {"collectioncount": "1", "publishedfileids[0]": "104604903"}
    async with http.post(url, data=form) as response:
        body = await response.json()
    assert body == fixture(captures, "GetCollectionDetails.v1.collection.json")
    async with http.post(
        url, data={"collectioncount": "1", "publishedfileids[0]": "2009463077"}
    ) as response:
        assert await response.json() == fixture(
            captures, "GetCollectionDetails.v1.not_a_collection_or_private.json"
        )
    async with http.post(url, data={"publishedfileids[0]": "1"}) as response:
        assert response.status == 400 and "'collectioncount' is missing" in await response.text()


SERVICE = "/IPublishedFileService/GetDetails/v1/"


@pytest.mark.parametrize("key", [None, "", "WRONG"])
async def test_service_key_check(
    fake: FakeSteam, http: aiohttp.ClientSession, captures: Path, key: str | None
) -> None:
    """Without a valid key: Steam's 401 body, verbatim."""
    params = {"publishedfileids[0]": "1"} | ({} if key is None else {"key": key})
    async with http.get(fake.api_url + SERVICE, params=params) as response:
        assert response.status == 401
        assert await response.text() == error_bodies(captures)[3]


async def test_service_item_shape(
    fake: FakeSteam, http: aiohttp.ClientSession, catalog: SteamCatalog, captures: Path
) -> None:
    """Proto names and types like the captures; children, previews, tags with display_name."""
    real = fixture(captures, "IPublishedFileService.GetDetails.v1.distance_3274152841.item.json")
    item = next(i for i in catalog.items.values() if i.dependencies and i.screenshots)
    params = {
        "key": API_KEY,
        "publishedfileids[0]": str(item.id),
        "publishedfileids[1]": "1254141687",
        "includechildren": "true",
        "includeadditionalpreviews": "true",
        "includetags": "true",
    }
    async with http.get(fake.api_url + SERVICE, params=params) as response:
        body = await response.json()
    assert list(body) == ["response"] and list(body["response"]) == ["publishedfiledetails"]
    ours, missing = body["response"]["publishedfiledetails"]
    assert (
        missing
        == fixture(captures, "IPublishedFileService.GetDetails.v1.missing_item.json")["response"][
            "publishedfiledetails"
        ][0]
    )
    assert set(ours) <= set(real) | {"children", "previews"}
    shared_keys = [k for k in real if k in ours]
    assert [k for k in ours if k in real] == shared_keys  # the same relative order
    for key in shared_keys:
        assert type(ours[key]) is type(real[key]), key
    assert ours["banned"] is False and ours["file_type"] == 0
    assert ours["children"] == [
        {"publishedfileid": str(d), "sortorder": n, "file_type": 0}
        for n, d in enumerate(item.dependencies)
    ]
    assert [p["url"] for p in ours["previews"]] == list(item.screenshots)
    assert ours["tags"] == [{"tag": t, "display_name": t} for t in item.details.tags]


async def test_service_flags_and_input_json(
    fake: FakeSteam, http: aiohttp.ClientSession, catalog: SteamCatalog
) -> None:
    item = next(i for i in catalog.items.values() if i.dependencies and i.screenshots)
    params = {"key": API_KEY, "input_json": json.dumps({"publishedfileids": [str(item.id)]})}
    async with http.get(fake.api_url + SERVICE, params=params) as response:
        [ours] = (await response.json())["response"]["publishedfiledetails"]
    assert ours["publishedfileid"] == str(item.id)
    assert not {"children", "previews", "tags"} & set(ours)  # only when asked for


async def test_appdetails(fake: FakeSteam, http: aiohttp.ClientSession, captures: Path) -> None:
    real = json.loads((captures / "store/appdetails.1361210.trimmed.json").read_text())
    async with http.get(
        fake.store_url + "/api/appdetails", params={"appids": "294100"}
    ) as response:
        data = (await response.json())["294100"]["data"]
    assert set(data) <= set(real["1361210"]["data"]) | {
        "release_date",
        "background",
        "content_descriptors",
    }
    assert all(isinstance(g["id"], str) for g in data["genres"])
    assert all(isinstance(c["id"], int) for c in data["categories"])
    async with http.get(
        fake.store_url + "/api/appdetails", params={"appids": "99999999999"}
    ) as response:
        assert await response.json() == json.loads(
            (captures / "store/appdetails.missing.json").read_text()
        )


async def test_appdetails_several_apps(fake: FakeSteam, http: aiohttp.ClientSession) -> None:
    """Several appids work only with filters=price_overview; else HTTP 400 and ``null``."""
    url = fake.store_url + "/api/appdetails"
    async with http.get(url, params={"appids": "294100,322330"}) as response:
        assert (response.status, await response.text()) == (400, "null")
    params = {"appids": "294100,322330", "filters": "price_overview"}
    async with http.get(url, params=params) as response:
        assert response.status == 200 and set(await response.json()) == {"294100", "322330"}


async def test_error_shell(fake: FakeSteam, http: aiohttp.ClientSession, captures: Path) -> None:
    """Missing, private and malformed ids: the error shell, with HTTP 200."""
    url = fake.community_url + "/sharedfiles/filedetails/"
    for raw, wording in (
        (str(PRIVATE_MOD_ID), "There was a problem accessing the item.  Please try again."),
        ("5", "There was a problem accessing the item.  Please try again."),
        ("abc", "That item does not exist.  It may have been removed by the author."),
    ):
        async with http.get(url, params={"id": raw}) as response:
            text = await response.text()
        assert response.status == 200
        assert "<title>Steam Community :: Error</title>" in text and wording in text


async def test_item_page_markers(
    fake: FakeSteam, http: aiohttp.ClientSession, catalog: SteamCatalog
) -> None:
    """The markers scrapers rely on, in the reconstruction's order."""
    item = next(i for i in catalog.items.values() if i.dependencies and i.screenshots)
    async with http.get(
        fake.community_url + "/workshop/filedetails/", params={"id": str(item.id)}
    ) as response:
        text = await response.text()
        assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    markers = [
        "<title>Steam Workshop::",
        '<div class="breadcrumbs">',
        '<div class="workshopItemTitle">',
        "var rgFullScreenshotURLs",
        '<div class="workshopTags">',
        '<div class="detailsStatLeft">File Size </div>',
        'id="RequiredItems"',
        "<!-- created by -->",
        '<div class="workshopItemDescription" id="highlightContent">',
        f"var publishedfileid = '{item.id}';",
    ]
    positions = [text.index(m) for m in markers]
    assert positions == sorted(positions)
    assert "&amp;imh=5000" in text  # escaped inside the script, as Steam does


async def test_faults_for_the_next_calls(fake: FakeSteam, http: aiohttp.ClientSession) -> None:
    fake.inject("appdetails", "status", status=502, times=2)
    statuses = []
    for _ in range(3):
        async with http.get(fake.store_url + "/api/appdetails", params={"appids": "1"}) as response:
            statuses.append(response.status)
    assert statuses == [502, 502, 200]
    assert fake.calls["appdetails"] == 3
    async with http.get(fake.base_url + "/_fake/calls") as response:
        assert (await response.json())["appdetails"] == 3


async def test_faults_with_a_seeded_probability(
    catalog: SteamCatalog, http: aiohttp.ClientSession
) -> None:
    """The same seed gives the same pattern of failures."""
    patterns = []
    for _ in range(2):
        async with FakeSteam(catalog, seed=42) as fake:
            fake.inject("*", "status", probability=0.5)
            pattern = []
            for _ in range(20):
                async with http.get(
                    fake.store_url + "/api/appdetails", params={"appids": "1"}
                ) as r:
                    pattern.append(r.status)
            patterns.append(pattern)
    assert patterns[0] == patterns[1]
    assert 0 < patterns[0].count(503) < 20


async def test_catalog_endpoint(
    fake: FakeSteam, http: aiohttp.ClientSession, catalog: SteamCatalog
) -> None:
    async with http.get(fake.catalog_url) as response:
        assert SteamCatalog.from_json(await response.text()).items == catalog.items


async def test_unknown_fault_endpoint(fake: FakeSteam) -> None:
    with pytest.raises(ValueError, match="unknown endpoint"):
        fake.inject("nope", "reset")
