"""Every endpoint of the original Open Workshop API and every error it documents, with its status and body."""

from __future__ import annotations

import io
import zipfile

import pytest

from openworkshop import ModState
from openworkshop.errors import UpstreamUnavailable
from openworkshop.testing.sample import PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID
from tests.http.conftest import Api, MakeApi, assert_error

pytestmark = pytest.mark.anyio


def _files(catalog, mod_id: int) -> dict[str, bytes]:
    return {path: b"".join(chunks) for path, chunks in catalog.items[mod_id].iter_files()}


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_BZIP2}
        return {info.filename: archive.read(info) for info in archive.infolist()}


# --- /download/steam/{mod_id} -------------------------------------------------------------


async def test_download_steam_queues_then_sends_the_archive(api: Api) -> None:
    """202 "request added to queue", the mod appears at once with condition 3 (or later), then
    the same URL sends the ZIP whose files are the catalog's."""
    mod_id = api.mod_ids()[0]
    first = await api.client.get(f"/download/steam/{mod_id}")
    assert first.status_code == 202
    assert first.headers["content-type"] == "application/json"
    assert first.headers["retry-after"] == "1"
    assert first.json() == {
        "message": "request added to queue",
        "error_id": 0,
        "unsuccessful_attempts": False,
        "updating": False,
    }
    condition = (await api.client.get(f"/condition/mod/[{mod_id}]")).json()
    assert condition[str(mod_id)] in (0, 1, 2, 3)
    await api.workshop.wait_until([mod_id], [ModState.READY], timeout=30)
    answer = await api.client.get(f"/download/steam/{mod_id}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    assert _unzip(answer.content) == _files(api.catalog, mod_id)


async def test_download_steam_while_processing_is_202_error_id_3(make_api: MakeApi) -> None:
    """A second request for a mod still queued: 202 with the original's body and Retry-After."""
    api = await make_api(can_download=True)
    mod_id = api.mod_ids()[1]
    api.steam.login_delay = 1.0
    assert (await api.client.get(f"/download/steam/{mod_id}")).status_code == 202
    again = await api.client.get(f"/download/steam/{mod_id}")
    assert again.status_code == 202
    assert again.headers["retry-after"] == "1"
    assert again.json() == {"message": "your request is already being processed", "error_id": 3}


async def test_download_steam_of_a_missing_mod_is_404_error_id_2(api: Api) -> None:
    """A private mod: queued, failed for good, then "this mod was not found" with the reason,
    and unsuccessful_attempts in /info/mod."""
    assert (await api.client.get(f"/download/steam/{PRIVATE_MOD_ID}")).status_code == 202
    await api.workshop.wait_until([PRIVATE_MOD_ID], [], timeout=30)
    answer = await api.client.get(f"/download/steam/{PRIVATE_MOD_ID}")
    body = assert_error(answer, 404, 2)
    assert body["message"] == "this mod was not found"
    assert body["reason"]
    info = (await api.client.get(f"/info/mod/{PRIVATE_MOD_ID}")).json()
    assert info["result"] is None
    assert info["unsuccessful_attempts"] is True


async def test_download_steam_without_steamcmd_is_503_error_id_1(make_api: MakeApi) -> None:
    """The original's 103 "not ready" becomes 503 with Retry-After (api.md, decision 1)."""
    api = await make_api(can_download=False)
    answer = await api.client.get(f"/download/steam/{api.mod_ids()[0]}")
    body = assert_error(answer, 503, 1)
    assert body["message"] == "the server is not ready to process requests"
    assert int(answer.headers["retry-after"]) >= 1


async def test_download_steam_after_the_cooldown_queues_a_newer_version(api: Api) -> None:
    """A cached mod older than the cooldown is checked; Steam has a newer version: 202 with
    updating=true, and /download/{id} keeps serving the previous archive meanwhile."""
    mod_id = api.mod_ids()[2]
    await api.cache([mod_id])
    old = await api.client.get(f"/download/{mod_id}")
    api.catalog.publish_update(mod_id, files={"new.txt": "v2"}, time_updated=2_000_000_000)
    api.clock.advance(api.settings.update_cooldown + 1)
    api.steam.login_delay = 0.5
    answer = await api.client.get(f"/download/steam/{mod_id}")
    assert answer.status_code == 202
    assert answer.json()["updating"] is True
    during = await api.client.get(f"/download/{mod_id}")
    assert during.status_code == 200 and during.content == old.content
    await api.workshop.wait_until([mod_id], [ModState.READY], timeout=30)
    after = await api.client.get(f"/download/{mod_id}")
    assert _unzip(after.content) == _files(api.catalog, mod_id)
    assert b"v2" in _unzip(after.content).values()
    assert after.headers["etag"] != old.headers["etag"]


# --- /download/{mod_id} -------------------------------------------------------------------


async def test_download_of_a_mod_not_on_the_server_is_404_error_id_1(api: Api) -> None:
    body = assert_error(await api.client.get("/download/123"), 404, 1)
    assert body["message"] == "the mod is not on the server"


async def test_download_of_a_loading_mod_is_202_error_id_3(api: Api) -> None:
    """Still in state 3 or 2: 202 "this mod is still loading" with Retry-After."""
    api.steam.login_delay = 1.0
    mod_id = api.mod_ids()[3]
    await api.client.get(f"/download/steam/{mod_id}")
    answer = await api.client.get(f"/download/{mod_id}")
    assert answer.status_code == 202
    assert answer.headers["retry-after"] == "1"
    assert answer.json() == {"message": "this mod is still loading", "error_id": 3}


@pytest.mark.parametrize("archives", ["file", "memory"])
async def test_download_of_a_damaged_mod_is_404_error_id_2(
    make_api: MakeApi, archives: str
) -> None:
    """The archive vanished: "the mod is damaged", and the row is gone afterwards."""
    api = await make_api(archives=archives)
    mod_id = api.mod_ids()[0]
    await api.cache([mod_id])
    mod = await api.workshop.storage.get_mod(mod_id)
    await api.archives.remove(mod.archive.key)
    body = assert_error(await api.client.get(f"/download/{mod_id}"), 404, 2)
    assert body["message"] == "the mod is damaged"
    assert_error(await api.client.get(f"/download/{mod_id}"), 404, 1)


async def test_download_sends_the_archive_and_counts_it(api: Api) -> None:
    """200 with the archive; the mod's downloads and mods_sent_count go up by one."""
    mod_id = api.mod_ids()[0]
    await api.cache([mod_id])
    answer = await api.client.get(f"/download/{mod_id}")
    assert answer.status_code == 200
    assert _unzip(answer.content) == _files(api.catalog, mod_id)
    info = (await api.client.get(f"/info/mod/{mod_id}")).json()
    assert info["result"]["downloads"] == 1
    summary = (await api.client.get("/statistics/info/all")).json()
    assert summary["mods_sent_count"] == 1


# --- /update/steam/{mod_id} -----------------------------------------------------------------


async def test_update_of_a_mod_not_here_is_404_error_id_1(api: Api) -> None:
    body = assert_error(await api.client.get("/update/steam/42"), 404, 1)
    assert body["message"] == "mod not found on locale"


async def test_update_within_the_cooldown_is_425_error_id_2(api: Api) -> None:
    mod_id = api.mod_ids()[0]
    await api.cache([mod_id])
    answer = await api.client.get(f"/update/steam/{mod_id}")
    body = assert_error(answer, 425, 2)
    assert body["message"] == "check for relevance was made earlier"
    assert 1 <= int(answer.headers["retry-after"]) <= api.settings.update_cooldown


async def test_update_of_a_mod_gone_from_steam_is_404_error_id_3(api: Api) -> None:
    mod_id = api.mod_ids()[0]
    await api.cache([mod_id])
    del api.catalog.items[mod_id]
    api.clock.advance(api.settings.update_cooldown + 1)
    body = assert_error(await api.client.get(f"/update/steam/{mod_id}"), 404, 3)
    assert body["message"] == "mod not found on steam"


async def test_update_of_an_up_to_date_mod_is_208_error_id_4(api: Api) -> None:
    mod_id = api.mod_ids()[0]
    await api.cache([mod_id])
    api.clock.advance(api.settings.update_cooldown + 1)
    answer = await api.client.get(f"/update/steam/{mod_id}")
    assert answer.status_code == 208
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"message": "mod already update", "error_id": 4}


async def test_update_of_an_outdated_mod_is_202_task_set(api: Api) -> None:
    mod_id = api.mod_ids()[0]
    await api.cache([mod_id])
    api.catalog.publish_update(mod_id, files={"a": "b"}, time_updated=2_000_000_000)
    api.clock.advance(api.settings.update_cooldown + 1)
    answer = await api.client.get(f"/update/steam/{mod_id}")
    assert answer.status_code == 202
    assert answer.json() == {"message": "task of updating is set", "error_id": 0}
    states = await api.workshop.wait_until([mod_id], [ModState.READY], timeout=30)
    assert states[mod_id] is ModState.READY
    assert _unzip((await api.client.get(f"/download/{mod_id}")).content) == _files(
        api.catalog, mod_id
    )


async def test_update_when_steam_cannot_answer_is_503(api: Api) -> None:
    mod_id = api.mod_ids()[0]
    await api.cache([mod_id])
    api.clock.advance(api.settings.update_cooldown + 1)
    api.steam.fail_next("details", UpstreamUnavailable("down"), times=5)
    answer = await api.client.get(f"/update/steam/{mod_id}")
    assert_error(answer, 503, 503)
    assert int(answer.headers["retry-after"]) >= 1


# --- lists ----------------------------------------------------------------------------------


@pytest.fixture
async def cached(api: Api) -> Api:
    """The api with every ordinary sample mod cached."""
    await api.cache(api.mod_ids())
    return api


async def test_list_mods_default_and_field_groups(cached: Api) -> None:
    """Rows are objects with the general fields by default; each flag adds its group; offeset
    and offset both carry the offset."""
    body = (await cached.client.get("/list/mods/")).json()
    assert body["database_size"] == len(cached.mod_ids())
    assert body["offeset"] == body["offset"] == 0
    assert len(body["results"]) == 10
    assert set(body["results"][0]) == {"id", "name", "size", "source", "downloads"}
    url = "/list/mods/?page_size=3&page=1&general=false&dates=true&description=1"
    body = (await cached.client.get(url + "&short_description=TRUE")).json()
    assert body["offeset"] == 3
    assert set(body["results"][0]) == {
        "id", "date_creation", "date_update", "description", "short_description",
    }  # fmt: skip
    assert len(body["results"][0]["date_creation"]) == len("2020-01-01 00:00:00")


async def test_list_mods_sorts_filters_and_aliases(cached: Api) -> None:
    """NAME / iNAME order; games=[..], game=, tags=[..], name=, q=, allowed_ids; the later
    server's sort names are aliases."""

    async def names(sort: str) -> list[str]:
        answer = await cached.client.get(f"/list/mods/?sort={sort}&page_size=50")
        return [r["name"] for r in answer.json()["results"]]

    ascending = await names("NAME")
    assert len(ascending) == len(cached.mod_ids())
    assert ascending == sorted(ascending, key=lambda n: n.lower())
    assert await names("iNAME") == ascending[::-1]
    game = next(iter(cached.catalog.apps))
    by_games = (await cached.client.get(f"/list/mods/?games=[{game}]&page_size=50")).json()
    by_game = (await cached.client.get(f"/list/mods/?game={game}&page_size=50")).json()
    assert by_games == by_game
    assert 0 < by_games["database_size"] < len(cached.mod_ids())
    some = cached.mod_ids()[:2]
    allowed = (await cached.client.get(f"/list/mods/?allowed_ids=[{some[0]},{some[1]}]")).json()
    assert {r["id"] for r in allowed["results"]} == set(some)
    alias = await cached.client.get("/list/mods/?sort=iMOD_DOWNLOADS")
    assert alias.status_code == 200
    title = cached.catalog.items[some[0]].details.title.split()[0]
    found = (await cached.client.get("/list/mods/", params={"q": title})).json()
    assert some[0] in {r["id"] for r in found["results"]}
    tags = (await cached.client.get(f"/list/tags/{game}?page_size=50")).json()["results"]
    tagged = await cached.client.get(f"/list/mods/?tags=[{tags[0]['id']}]")
    assert tagged.status_code == 200 and tagged.json()["database_size"] >= 1


async def test_list_mods_limits_are_the_seeds_413(api: Api) -> None:
    body = assert_error(await api.client.get("/list/mods/?page_size=51"), 413, 1)
    assert body["message"] == "incorrect page size"
    assert_error(await api.client.get("/list/mods/?page_size=0"), 413, 1)
    tags = "[" + ",".join(str(i) for i in range(31)) + "]"
    body = assert_error(await api.client.get(f"/list/mods/?tags={tags}"), 413, 2)
    assert body["message"] == "the maximum complexity of filters is 30 elements in sum"


async def test_list_games(cached: Api) -> None:
    body = (await cached.client.get("/list/games/?statistics=true&dates=true")).json()
    assert body["database_size"] == len(cached.catalog.apps)
    assert body["offeset"] == body["offset"] == 0
    row = body["results"][0]
    assert {
        "id",
        "name",
        "type",
        "logo",
        "source",
        "mods_downloads",
        "mods_count",
        "creation_date",
    } <= set(row)
    assert (await cached.client.get('/list/games?sort=iNAME&type_app=["game"]')).status_code == 200
    assert_error(await cached.client.get("/list/games/?page_size=100"), 413, 1)
    genres = "[" + ",".join(str(i) for i in range(31)) + "]"
    assert_error(await cached.client.get(f"/list/games/?genres={genres}"), 413, 2)


async def test_list_tags_of_a_game(cached: Api) -> None:
    game = next(iter(cached.catalog.apps))
    body = (await cached.client.get(f"/list/tags/{game}")).json()
    assert set(body) == {"database_size", "offset", "results"}
    assert body["results"] and set(body["results"][0]) == {"id", "name"}
    assert_error(await cached.client.get(f"/list/tags/{game}?page_size=51"), 413, 1)


async def test_list_tags_of_mods(cached: Api) -> None:
    ids = cached.mod_ids()[:3]
    body = (await cached.client.get(f"/list/tags/mods/[{','.join(map(str, ids))}]")).json()
    assert set(body) <= {str(i) for i in ids} and body
    some = next(iter(body.values()))
    assert set(some[0]) == {"id", "name"}
    only = (await cached.client.get(f"/list/tags/mods/[{ids[0]}]?only_ids=true")).json()
    assert all(isinstance(t, int) for t in only[str(ids[0])])
    many = "[" + ",".join(str(i + 1) for i in range(81)) + "]"
    body = assert_error(await cached.client.get(f"/list/tags/mods/{many}"), 413, 2)
    assert body["message"] == "the maximum complexity of filters is 80 elements in sum"


async def test_list_genres_and_genres_of_games(cached: Api) -> None:
    body = (await cached.client.get("/list/genres")).json()
    assert body["database_size"] >= 3 and set(body["results"][0]) == {"id", "name"}
    assert (await cached.client.get("/list/genres/")).json() == body
    assert_error(await cached.client.get("/list/genres?page_size=51"), 413, 1)
    games = list(cached.catalog.apps)
    body = (await cached.client.get(f"/list/genres/games/{games}".replace(" ", ""))).json()
    assert set(body) == {str(g) for g in games}
    only = (await cached.client.get(f"/list/genres/games/[{games[0]}]?only_ids=1")).json()
    assert all(isinstance(g, int) for g in only[str(games[0])])
    many = "[" + ",".join(str(i + 1) for i in range(81)) + "]"
    assert_error(await cached.client.get(f"/list/genres/games/{many}"), 413, 2)


async def test_list_resources_of_mods(cached: Api) -> None:
    with_shots = [i for i in cached.mod_ids() if cached.catalog.items[i].screenshots][:2]
    url = f"/list/resources_mods/[{','.join(map(str, with_shots))}]"
    body = (await cached.client.get(url + "?page_size=50")).json()
    assert body["database_size"] >= 2
    row = body["results"][0]
    assert set(row) == {"date_event", "id", "url", "type", "owner_id"}
    assert len(row["date_event"]) == len("2020-01-01 00:00:00.000000")
    shots = (await cached.client.get(url + '?types_resources=["screenshot"]')).json()
    assert {r["type"] for r in shots["results"]} == {"screenshot"}
    assert_error(await cached.client.get(url + "?page_size=51"), 413, 1)
    # the 30 counts the types as sent: 31 times "logo" is over it (the original's 413)
    thirty = "[" + ",".join(['"logo"'] * 30) + "]"
    assert (await cached.client.get(url + f"?types_resources={thirty}")).status_code == 200
    many_types = "[" + ",".join(['"logo"'] * 31) + "]"
    assert_error(await cached.client.get(url + f"?types_resources={many_types}"), 413, 2)
    too_many = "[" + ",".join(str(i + 1) for i in range(51)) + "]"
    body = assert_error(await cached.client.get(f"/list/resources_mods/{too_many}"), 413, 1)
    assert body["message"] == "the size of the array is not correct"


# --- info ----------------------------------------------------------------------------------


async def test_info_mod(cached: Api) -> None:
    with_deps = next(i for i in cached.mod_ids() if cached.catalog.items[i].dependencies)
    url = f"/info/mod/{with_deps}?dependencies=true&game=true&dates=true&short_description=true"
    body = (await cached.client.get(url)).json()
    result = body["result"]
    assert result["condition"] == 0
    assert result["game"]["id"] == cached.catalog.items[with_deps].details.app_id
    assert result["game"]["name"]
    assert {
        "name",
        "size",
        "source",
        "downloads",
        "date_creation",
        "date_update",
        "short_description",
    } <= set(result)
    assert body["dependencies"] == list(cached.catalog.items[with_deps].dependencies)
    assert body["dependencies_count"] == len(cached.catalog.items[with_deps].dependencies)
    plain = (await cached.client.get(f"/info/mod/{with_deps}?general=false")).json()
    assert plain == {"result": {"condition": 0}}
    assert (await cached.client.get("/info/mod/1")).json() == {"result": None}


async def test_info_game_follows_the_parameter_names(cached: Api) -> None:
    """statistics=true adds mods_downloads and mods_count; dates=true adds creation_date."""
    game = next(iter(cached.catalog.apps))
    plain = (await cached.client.get(f"/info/game/{game}")).json()["result"]
    assert set(plain) == {"name", "type", "logo", "source"}
    stats = (await cached.client.get(f"/info/game/{game}?statistics=true")).json()["result"]
    assert set(stats) - set(plain) == {"mods_downloads", "mods_count"}
    assert stats["mods_count"] > 0
    dates = (await cached.client.get(f"/info/game/{game}?dates=true")).json()["result"]
    assert set(dates) - set(plain) == {"creation_date"}
    full = (await cached.client.get(f"/info/game/{game}?description=1&short_description=1")).json()
    assert {"description", "short_description"} <= set(full["result"])
    assert (await cached.client.get("/info/game/1")).json() == {"result": None}


async def test_info_queue_size_is_a_bare_integer(api: Api) -> None:
    api.steam.login_delay = 1.0
    assert (await api.client.get("/info/queue/size")).json() == 0
    for mod_id in api.mod_ids()[:3]:
        await api.client.get(f"/download/steam/{mod_id}")
    answer = await api.client.get("/info/queue/size/")
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == 3


async def test_condition_of_mods(cached: Api) -> None:
    ids = cached.mod_ids()[:2]
    body = (await cached.client.get(f"/condition/mod/[{ids[0]},{ids[1]},1]")).json()
    assert body == {str(ids[0]): 0, str(ids[1]): 0}
    assert (await cached.client.get(f"/condition/mod/{ids[0]},{ids[1]}")).json() == body
    too_many = "[" + ",".join(str(i + 1) for i in range(51)) + "]"
    body = assert_error(await cached.client.get(f"/condition/mod/{too_many}"), 413, 1)
    assert body["message"] == "the size of the array is not correct"
    assert_error(await cached.client.get("/condition/mod/[]"), 413, 1)


# --- statistics -------------------------------------------------------------------------------


async def test_statistics_count_each_endpoint(api: Api) -> None:
    """Each request counts under its endpoint's type, with a trailing slash."""
    for url in ("/list/mods", "/list/mods/", "/info/queue/size", "/"):
        await api.client.get(url)
    rows = (await api.client.get("/statistics/hour")).json()
    counts = {r["type"]: r["count"] for r in rows}
    assert counts["/list/mods/"] == 2
    assert counts["/info/queue/size/"] == 1
    assert counts["/"] == 1
    assert counts["start"] == 1
    assert rows[0]["date_time"].endswith(":00:00.000000")
    days = (await api.client.get("/statistics/day")).json()
    assert {r["type"] for r in days} >= {"/list/mods/", "/statistics/hour/"}
    assert len(days[0]["date"]) == 10


async def test_statistics_hour_errors(api: Api) -> None:
    body = assert_error(await api.client.get("/statistics/hour?start_hour=24"), 412, 1)
    assert body["message"] == "start_hour exits 24 hour format"
    body = assert_error(await api.client.get("/statistics/hour?end_hour=-1"), 412, 2)
    assert body["message"] == "end_hour exits 24 hour format"
    body = assert_error(await api.client.get("/statistics/hour?start_hour=5&end_hour=4"), 409, 3)
    assert body["message"] == "conflicting request"
    day = api.clock.now().date().isoformat()
    url = f"/statistics/hour?select_date={day}&start_hour=12&end_hour=12"
    assert (await api.client.get(url)).status_code == 200
    assert (await api.client.get("/statistics/hour?select_date=2001-01-01")).json() == []


async def test_statistics_day_errors(api: Api) -> None:
    url = "/statistics/day?start_date=2026-01-02&end_date=2026-01-01"
    body = assert_error(await api.client.get(url), 409, 3)
    assert body["message"] == "conflicting request"
    assert (
        await api.client.get("/statistics/day?start_date=2020-01-01&end_date=2020-01-01")
    ).json() == []
    # the default start, a week before the end, does not fall before year 1 (it was a 500)
    first = await api.client.get("/statistics/day?end_date=0001-01-01")
    assert (first.status_code, first.json()) == (200, [])


async def test_statistics_delay_and_summary(cached: Api) -> None:
    delay = (await cached.client.get("/statistics/delay")).json()
    assert set(delay) == {"fast", "full"} and delay["full"] > 0
    summary = (await cached.client.get("/statistics/info/all")).json()
    assert summary["mods"] == len(cached.mod_ids())
    assert summary["games"] == len(cached.catalog.apps)
    assert set(summary) == {
        "mods", "games", "genres", "mods_tags", "mods_dependencies", "statistics_days",
        "mods_sent_count",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        (None, "ru"),
        ("en-US,en;q=0.9", "en"),
        ("de-DE,de;q=0.9,en;q=0.5,ru;q=0.4", "en"),
        ("ru;q=0.2,en;q=0.1", "ru"),
        ("fr", "ru"),
        ("en;q=abc, ;;;, *", "ru"),
        ("x" * 5000, "ru"),
    ],
)
async def test_type_map_picks_the_language(api: Api, accept_language, language) -> None:
    headers = {} if accept_language is None else {"Accept-Language": accept_language}
    body = (await api.client.get("/statistics/info/type_map", headers=headers)).json()
    assert body["language"] == language
    assert body["result"]["/download/steam/"]
    assert body["result"]["files_sent"]


# --- the rest -------------------------------------------------------------------------------


async def test_root_redirects_to_docs(api: Api) -> None:
    answer = await api.client.get("/")
    assert answer.status_code == 307
    assert answer.headers["location"] == "/docs"


@pytest.mark.parametrize(
    "path",
    [
        "/list/mods", "/list/games", "/list/genres", "/info/queue/size", "/statistics/delay",
        "/statistics/hour", "/statistics/day", "/statistics/info/all", "/statistics/info/type_map",
        "/info/mod/1", "/info/game/1", "/list/tags/1", "/condition/mod/[1]",
        "/list/tags/mods/[1]", "/list/genres/games/[1]", "/list/resources_mods/[1]",
    ],
)  # fmt: skip
async def test_every_path_with_and_without_the_trailing_slash(api: Api, path: str) -> None:
    """The same answer, no redirect."""
    bare = await api.client.get(path)
    slashed = await api.client.get(path + "/")
    assert bare.status_code == slashed.status_code == 200
    assert bare.headers["content-type"] == "application/json"
    if "statistics" not in path:
        assert bare.json() == slashed.json()


async def test_unfetchable_mod_reports_the_failure(api: Api) -> None:
    """steamcmd says Access Denied: the mod leaves the queue, /info/mod tells why."""
    await api.client.get(f"/download/steam/{UNFETCHABLE_MOD_ID}")
    await api.workshop.wait_until([UNFETCHABLE_MOD_ID], [], timeout=30)
    info = (await api.client.get(f"/info/mod/{UNFETCHABLE_MOD_ID}")).json()
    assert info["result"] is None
    assert info["failure"]["reason"] == "access_denied"


@pytest.mark.parametrize("path", ["/download/steam/{}", "/update/steam/{}"])
async def test_head_never_queues_or_calls_steam(api: Api, path: str) -> None:
    """HEAD on an endpoint that may queue work is refused (405), with no side effect."""
    mod_id = api.mod_ids()[0]
    response = await api.client.head(path.format(mod_id))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert await api.workshop.storage.get_mod(mod_id) is None
    assert sum(api.steam.calls.values()) == 0
