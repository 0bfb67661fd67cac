"""Bad input everywhere: a 4xx in the original's error shape (with details), never a 500; unknown
paths and methods in the same shape; CORS on every answer; a bug is a JSON 500."""

from __future__ import annotations

import httpx
import pytest

from tests.http.conftest import Api, assert_error

pytestmark = pytest.mark.anyio

HUGE = "18446744073709551616"  # 2**64
MAX = "18446744073709551615"  # 2**64 - 1
TEN_THOUSAND = "[" + ",".join(str(i + 1) for i in range(10_000)) + "]"

BAD = {
    # ids that are not plain digits of an unsigned 64-bit number
    "non-numeric mod id": ("/download/steam/abc", 422),
    "non-numeric cached id": ("/download/abc", 422),
    "non-numeric update id": ("/update/steam/x1", 422),
    "non-numeric info id": ("/info/mod/12a", 422),
    "non-numeric game id": ("/info/game/game", 422),
    "non-numeric tag game": ("/list/tags/rimworld", 422),
    "2**64 download": (f"/download/steam/{HUGE}", 422),
    "2**64 cached": (f"/download/{HUGE}", 422),
    "2**64 update": (f"/update/steam/{HUGE}", 422),
    "2**64 info": (f"/info/mod/{HUGE}", 422),
    "2**64 game": (f"/info/game/{HUGE}", 422),
    "40 digits": ("/info/mod/" + "9" * 40, 422),
    "negative id": ("/info/mod/-1", 422),
    "plus sign": ("/info/mod/+1", 422),
    "float id": ("/info/mod/1.0", 422),
    "exponent id": ("/download/1e5", 422),
    "hex id": ("/info/game/0x10", 422),
    "underscore id": ("/info/mod/1_000", 422),
    "arabic digits": ("/info/mod/%D9%A1%D9%A2", 422),
    "emoji id": ("/info/mod/%F0%9F%92%A9", 422),
    "nul in id": ("/info/mod/1%00", 422),
    # pages
    "negative page": ("/list/mods/?page=-1", 422),
    "negative page_size": ("/list/mods/?page_size=-5", 413),
    "page_size zero": ("/list/genres?page_size=0", 413),
    "text page": ("/list/games/?page=two", 422),
    "float page_size": ("/list/mods/?page_size=10.5", 422),
    "huge page": (f"/list/mods/?page={HUGE}", 422),
    "huge page_size": ("/list/tags/1?page_size=" + "9" * 50, 422),
    "page twice": ("/list/mods/?page=1&page=2", 422),
    # JSON lists
    "unclosed list": ("/list/mods/?tags=[1,2", 422),
    "nested list": ("/list/mods/?tags=[[1]]", 422),
    "boolean in list": ("/list/mods/?games=[true]", 422),
    "null in list": ("/list/mods/?tags=[null]", 422),
    "object list": ('/list/mods/?tags={"a":1}', 422),
    "text in id list": ('/list/mods/?tags=["x"]', 422),
    "float in list": ("/list/games/?genres=[1.5]", 422),
    "negative in list": ("/list/mods/?allowed_ids=[-1]", 422),
    "2**64 in list": (f"/list/mods/?allowed_ids=[{HUGE}]", 422),
    "unclosed path list": ("/condition/mod/[1,", 422),
    "text in path list": ("/condition/mod/[abc]", 422),
    "negative in path list": ("/list/tags/mods/[-1]", 422),
    "2**64 in path list": (f"/list/genres/games/[{HUGE}]", 422),
    "object as path list": ('/list/resources_mods/{"a":1}', 422),
    "empty path list": ("/condition/mod/[]", 413),
    "bad resource type": ('/list/resources_mods/[1]?types_resources=["video"]', 422),
    # 10,000-element lists
    "10k condition": (f"/condition/mod/{TEN_THOUSAND}", 413),
    "10k resources": (f"/list/resources_mods/{TEN_THOUSAND}", 413),
    "10k tags of mods": (f"/list/tags/mods/{TEN_THOUSAND}", 413),
    "10k genres of games": (f"/list/genres/games/{TEN_THOUSAND}", 413),
    "10k tags": (f"/list/mods/?tags={TEN_THOUSAND}", 413),
    "10k allowed_ids": (f"/list/mods/?allowed_ids={TEN_THOUSAND}", 413),
    "10k genres": (f"/list/games/?genres={TEN_THOUSAND}", 413),
    "10k tag filter": (f"/list/tags/mods/[1]?tags={TEN_THOUSAND}", 413),
    "10k bad elements": ("/condition/mod/[" + ",".join(["x"] * 10_000) + "]", 422),
    "10k sources": ("/list/mods/?primary_sources=" + ",".join(["s"] * 10_000), 413),
    "10k distinct sources": (
        "/list/mods/?primary_sources=" + ",".join(f"s{i}" for i in range(10_000)),
        413,
    ),
    # sorts
    "unknown sort": ("/list/mods/?sort=FOO", 422),
    "unknown inverted sort": ("/list/mods/?sort=iFOO", 422),
    "bare i": ("/list/mods/?sort=i", 422),
    "lower-case sort": ("/list/mods/?sort=name", 422),
    "game sort on mods": ("/list/mods/?sort=MODS_COUNT", 422),
    "mod sort on games": ("/list/games/?sort=DOWNLOADS", 422),
    "relevance without q": ("/list/mods/?sort=RELEVANCE", 422),
    # dates and hours
    "month 13": ("/statistics/hour?select_date=2026-13-01", 422),
    "30 February": ("/statistics/day?start_date=2026-02-30", 422),
    "a word for a date": ("/statistics/day?end_date=yesterday", 422),
    "US date": ("/statistics/day?start_date=1/2/2026", 422),
    "five-digit year": ("/statistics/hour?select_date=99999-01-01", 422),
    "text hour": ("/statistics/hour?start_hour=noon", 422),
    "huge hour": ("/statistics/hour?end_hour=" + "9" * 40, 422),
    # booleans and text
    "yes for a boolean": ("/list/mods/?dates=yes", 422),
    "2 for a boolean": ("/info/mod/1?dependencies=2", 422),
    "boolean list": ("/info/game/1?statistics=[true]", 422),
    "name too long": ("/list/mods/?name=" + "a" * 300, 422),
    "q too long": ("/list/mods/?q=" + "b" * 300, 422),
    "unknown parameter": ("/list/mods/?pagesize=10", 422),
    "unknown parameter on info": ("/info/mod/1?full=true", 422),
    "bad percent escape": ("/list/mods/?page=%ZZ", 422),
    "nul in mod name": ("/list/mods/?name=ab%00cd", 422),
    "nul in game name": ("/list/games/?name=ab%00cd", 422),
    "nul in q": ("/list/mods/?q=%00", 422),
    "nul in a source": ("/list/mods/?primary_sources=st%00eam", 422),
    "nul in type_app": ("/list/games/?type_app=game%00", 422),
    "nul in a date": ("/statistics/day?end_date=2026-01-01%00", 422),
    "nul in a sort": ("/list/games/?sort=NAME%00", 422),
    "nul in a path list": ("/condition/mod/[1]%00", 422),
    "list nested 999 deep": ("/list/mods/?tags=" + "[" * 999 + "]" * 999, 422),
    "path list nested 999 deep": ("/condition/mod/" + "[" * 999 + "]" * 999, 422),
    "tags of mods nested 999 deep": ("/list/tags/mods/" + "[" * 999 + "1" + "]" * 999, 422),
    "list nested 30,000 deep": ("/list/games/?genres=" + "[" * 30_000 + "]" * 30_000, 422),
    # install plans and collections (our additions)
    "empty plan": ("/plan/[]", 422),
    "text in plan": ("/plan/[abc]", 422),
    "2**64 in plan": (f"/plan/[{HUGE}]", 422),
    "nested plan list": ("/plan/[[1]]", 422),
    "10k plan": (f"/plan/{TEN_THOUSAND}", 413),
    "501 plan": ("/plan/" + ",".join(["7"] * 501), 413),
    "plan queue not a boolean": ("/plan/[1]?queue=maybe", 422),
    "plan unknown parameter": ("/plan/[1]?dependencies=true", 422),
    "plan without ids": ("/plan", 405),
    "non-numeric collection": ("/info/collection/abc", 422),
    "2**64 collection": (f"/info/collection/{HUGE}", 422),
    "collection unknown parameter": ("/info/collection/1?items=true", 422),
    # the events feed's cursor and limit
    "cursor not ours": ("/events?after=abc", 422),
    "cursor with a leading zero": ("/events?after=c01", 422),
    "cursor in upper case": ("/events?after=C1", 422),
    "cursor too long": ("/events?after=c" + "z" * 13, 422),
    "cursor with a newline": ("/events?after=c1%0A", 422),
    "nul in a cursor": ("/events?after=c1%00", 422),
    "cursor twice": ("/events?after=c1&after=c2", 422),
    "limit zero": ("/events?limit=0", 422),
    "limit over 1000": ("/events?limit=1001", 422),
    "text limit": ("/events?limit=all", 422),
    "cursor past the newest event": ("/events?after=c5", 410),
    "unknown parameter on events": ("/events?since=c1", 422),
    "GET of the bulk check": ("/check/mods", 405),
    # live progress
    "empty progress list": ("/progress/[]", 413),
    "51 progress ids": ("/progress/[" + ",".join(str(i) for i in range(1, 52)) + "]", 413),
    "10k progress": (f"/progress/{TEN_THOUSAND}", 413),
    "text in progress": ("/progress/[abc]", 422),
    "2**64 in progress": (f"/progress/[{HUGE}]", 422),
    "nested progress list": ("/progress/[[1]]", 422),
    "nul in progress": ("/progress/[1]%00", 422),
    "progress unknown parameter": ("/progress/[1]?poll=1", 422),
    "progress without ids": ("/progress", 404),
    # paths that do not exist
    "unknown path": ("/nope", 404),
    "download without id": ("/download/steam/", 422),
    "download/steam as an id": ("/download/steam", 422),
    "list root": ("/list", 404),
    "tags of mods without list": ("/list/tags/mods/", 422),
    "deeper path": ("/info/mod/1/2", 404),
    "docs typo": ("/doc", 404),
    "static outside": ("/docs/static/../../etc/passwd", 404),
}


@pytest.mark.parametrize(("url", "status"), BAD.values(), ids=BAD.keys())
async def test_bad_input_is_a_4xx_in_the_seed_shape(api: Api, url: str, status: int) -> None:
    """Never a 500, never a silent default: the status api.md names, and details."""
    answer = await api.client.get(url)
    body = assert_error(answer, status)
    if status == 422:
        assert body["error_id"] == 4
        assert body["details"], body


BAD_PLAN_BODIES = {
    "not JSON": (b"[1,2", 422),
    "a list": (b"[1,2]", 422),
    "ids missing": (b'{"queue": true}', 422),
    "ids not a list": (b'{"ids": "1,2"}', 422),
    "empty ids": (b'{"ids": []}', 422),
    "a boolean id": (b'{"ids": [true]}', 422),
    "a negative id": (b'{"ids": [-1]}', 422),
    "2**64": (b'{"ids": [' + HUGE.encode() + b"]}", 422),
    "a float id": (b'{"ids": [1.5]}', 422),
    "a nested list": (b'{"ids": [[1]]}', 422),
    "queue not a boolean": (b'{"ids": [1], "queue": "yes"}', 422),
    "unknown key": (b'{"ids": [1], "depth": 3}', 422),
    "nested 30,000 deep": (b'{"ids": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", 422),
    "501 ids": (b'{"ids": [' + b",".join([b"7"] * 501) + b"]}", 413),
    "10k ids": (b'{"ids": ' + TEN_THOUSAND.encode() + b"}", 413),
    "over a MiB": (b'{"ids": [1], "x": "' + b"a" * (1 << 20) + b'"}', 422),
}


@pytest.mark.parametrize(("body", "status"), BAD_PLAN_BODIES.values(), ids=BAD_PLAN_BODIES.keys())
async def test_bad_plan_bodies_are_a_4xx_in_the_seed_shape(
    api: Api, body: bytes, status: int
) -> None:
    """``POST /plan`` with a body that is not ``{"ids": [...], "queue": bool}``: a 4xx
    naming what was wrong, never a 500."""
    answer = await api.client.post(
        "/plan", content=body, headers={"Content-Type": "application/json"}
    )
    body_json = assert_error(answer, status)
    assert body_json["details"], body_json
    if status == 413:
        assert body_json["error_id"] == 413


async def test_a_plan_query_on_post_is_refused(api: Api) -> None:
    answer = await api.client.post("/plan?queue=true", json={"ids": [1]})
    assert assert_error(answer, 422)["details"] == ["queue: unknown parameter"]


SHA = "ab" * 32

BAD_CHECKS = {
    # POST /check/mods: the body, each bad key named
    "no body": (b"", 422, ["body: not a JSON object of {mod id: sha256 or date_update}"]),
    "not JSON": (b"{1: 2", 422, ["body: not a JSON object of {mod id: sha256 or date_update}"]),
    "a list": (b"[1, 2]", 422, ["body: not a JSON object of {mod id: sha256 or date_update}"]),
    "nested 30,000 deep": (
        b"[" * 30_000 + b"]" * 30_000,
        422,
        ["body: not a JSON object of {mod id: sha256 or date_update}"],
    ),
    "text id": (b'{"abc": "' + SHA.encode() + b'"}', 422, ["'abc': not a Steam id"]),
    "2**64 id": (
        b'{"' + HUGE.encode() + b'": "' + SHA.encode() + b'"}',
        422,
        [f"{HUGE!r}: not a Steam id"],
    ),
    "short sha256": (
        b'{"5": "abc"}',
        422,
        ["5: not a sha256 (64 hex digits) or a date_update: 'abc'"],
    ),
    "number version": (b'{"5": 7}', 422, ["5: not a sha256 (64 hex digits) or a date_update: '7'"]),
    "null version": (
        b'{"5": null}',
        422,
        ["5: not a sha256 (64 hex digits) or a date_update: 'null'"],
    ),
    "bad date": (
        b'{"6": "2026-02-30 10:00:00"}',
        422,
        ["6: not a sha256 (64 hex digits) or a date_update: '2026-02-30 10:00:00'"],
    ),
    "every bad key named": (
        b'{"1": "' + SHA.encode() + b'", "x": "' + SHA.encode() + b'", "2": "no"}',
        422,
        ["'x': not a Steam id", "2: not a sha256 (64 hex digits) or a date_update: 'no'"],
    ),
    "1,001 mods": (
        ("{" + ",".join(f'"{i}": "{SHA}"' for i in range(1, 1002)) + "}").encode(),
        413,
        ["1001 mods sent; at most 1000 in one check"],
    ),
    "a body over 1 MiB": (
        b'{"1": "' + b" " * (1 << 20) + b'"}',
        413,
        ["the body is larger than 1048576 bytes"],
    ),
}


@pytest.mark.parametrize(("body", "status", "details"), BAD_CHECKS.values(), ids=BAD_CHECKS.keys())
async def test_a_bad_bulk_check_is_refused_naming_each_bad_key(
    api: Api, body: bytes, status: int, details: list[str]
) -> None:
    answer = await api.client.post(
        "/check/mods", content=body, headers={"Content-Type": "application/json"}
    )
    got = assert_error(answer, status, 4 if status == 422 else 413)
    assert got["details"] == details


async def test_a_bad_refresh_flag_on_the_bulk_check_is_refused(api: Api) -> None:
    answer = await api.client.post("/check/mods?refresh=maybe", json={"1": SHA})
    assert assert_error(answer, 422, 4)["details"] == [
        "refresh: not a boolean (true/false/1/0): 'maybe'"
    ]


def _repeated(element: str, count: int) -> dict[str, str]:
    """One list of ``count`` times ``element`` in each form the server accepts."""
    quoted = element if element.isdigit() else f'"{element}"'
    return {
        "json": "[" + ",".join([quoted] * count) + "]",
        "comma": ",".join([element] * count),
    }


LIMITS = {
    # the original counted the filters as sent, before any de-duplication (413, error_id 2)
    "tags": ("/list/mods/", "tags", "1", 30),
    "games": ("/list/mods/", "games", "7", 30),
    "sources": ("/list/mods/", "primary_sources", "steam", 30),
    "allowed_ids": ("/list/mods/", "allowed_ids", "1", 50),
    "genres": ("/list/games/", "genres", "1", 30),
    "app types": ("/list/games/", "type_app", "game", 30),
    "resource types": ("/list/resources_mods/[1]", "types_resources", "logo", 30),
    "tag filters and 1 mod": ("/list/tags/mods/[1]", "tags", "1", 79),
    "genre filters and 1 game": ("/list/genres/games/[1]", "genres", "1", 79),
}


def _params(form: str, name: str, element: str, count: int) -> list[tuple[str, str]]:
    if form == "repeated":
        return [(name, element)] * count
    return [(name, _repeated(element, count)[form])]


@pytest.mark.parametrize("form", ["json", "comma", "repeated"])
@pytest.mark.parametrize(("path", "name", "element", "limit"), LIMITS.values(), ids=LIMITS.keys())
async def test_limits_count_the_list_as_sent(
    api: Api, path: str, name: str, element: str, limit: int, form: str
) -> None:
    """``genres=[1,1,…]`` is as complex as it is long: one element over the limit is the
    original's 413 error_id 2, in every form; at the limit it is fine."""
    over = _params(form, name, element, limit + 1)
    body = assert_error(await api.client.get(path, params=over), 413, 2)
    assert body["message"].startswith("the maximum complexity of filters is")
    at_limit = await api.client.get(path, params=_params(form, name, element, limit))
    assert at_limit.status_code == 200, at_limit.text


@pytest.mark.parametrize(
    ("form", "count"), [("json", 10_000), ("comma", 10_000), ("repeated", 5_000)]
)
async def test_thousands_of_one_tag_are_too_complex(api: Api, form: str, count: int) -> None:
    """``/list/mods/?tags=[1,1,1,…]`` with 10,000 elements (5,000 repeated parameters: an
    httpx URL holds no more)."""
    answer = await api.client.get("/list/mods/", params=_params(form, "tags", "1", count))
    body = assert_error(answer, 413, 2)
    assert body["details"] == [f"tags: {count}, games: 0, primary_sources: 0 (sum {count})"]


@pytest.mark.parametrize("form", ["json", "comma"])
async def test_path_lists_count_the_ids_as_sent(api: Api, form: str) -> None:
    """Ids in a path count as sent: 51 times the same mod is more than 50 (error_id 1), and 80
    together with one filter more than 80 (error_id 2)."""
    fifty_one = _repeated("1", 51)[form]
    assert_error(await api.client.get(f"/condition/mod/{fifty_one}"), 413, 1)
    assert_error(await api.client.get(f"/list/resources_mods/{fifty_one}"), 413, 1)
    eighty = _repeated("1", 80)[form]
    assert (await api.client.get(f"/list/tags/mods/{eighty}")).status_code == 200
    assert_error(await api.client.get(f"/list/tags/mods/{eighty}?tags=1"), 413, 2)
    assert_error(await api.client.get(f"/list/genres/games/{eighty}?genres=1"), 413, 2)


@pytest.mark.parametrize("path", ["/list/mods/", "/list/games/"])
async def test_a_nul_in_a_name_is_named(api: Api, path: str) -> None:
    """The NUL reached SQLite and came back a 500; it is a malformed ``name``."""
    body = assert_error(await api.client.get(path + "?name=ab%00cd&page=x"), 422, 4)
    assert set(body["details"]) == {"name: contains a NUL character", "page: not an integer: 'x'"}


async def test_details_name_every_offending_parameter(api: Api) -> None:
    body = assert_error(
        await api.client.get("/list/mods/?page=-1&sort=FOO&tags=[x&dates=maybe&zzz=1"), 422, 4
    )
    named = {d.split(":")[0] for d in body["details"]}
    assert named == {"page", "sort", "tags", "dates", "zzz"}


async def test_empty_parameters_count_as_absent(api: Api) -> None:
    """As web forms send them: name=&sort=&dependencies= is the default listing."""
    empty = await api.client.get("/list/mods/?name=&sort=&dependencies=&tags=&page=")
    plain = await api.client.get("/list/mods/")
    assert empty.status_code == 200 and empty.json() == plain.json()
    hour = await api.client.get("/statistics/hour?select_date=&start_hour=&end_hour=")
    assert hour.status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/list/mods/", "/download/1", "/download/steam/1", "/docs"])
async def test_wrong_method_is_405_in_the_seed_shape(api: Api, method: str, path: str) -> None:
    answer = await api.client.request(method, path)
    body = assert_error(answer, 405, 405)
    assert "GET" in answer.headers["allow"]
    assert method in body["details"][0]


async def test_unknown_path_is_404_in_the_seed_shape(api: Api) -> None:
    body = assert_error(await api.client.get("/download/steam/1/extra"), 404, 404)
    assert body["message"] == "unknown path"
    assert body["details"] == ["no endpoint at /download/steam/1/extra"]
    head = await api.client.head("/nope")
    assert head.status_code == 404 and head.headers["access-control-allow-origin"] == "*"


async def test_cors_headers_on_every_kind_of_answer(api: Api) -> None:
    """JSON, errors, redirects, docs, static assets, preflight."""
    urls = ["/list/mods/", "/nope", "/", "/docs", "/openapi.json", "/docs/static/swagger-ui.css"]
    for url in urls:
        answer = await api.client.get(url)
        assert answer.headers["access-control-allow-origin"] == "*", url
        assert answer.headers["access-control-expose-headers"] == "Content-Type,Content-Disposition"
    preflight = await api.client.options(
        "/list/mods/",
        headers={
            "Origin": "https://launcher.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-client",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "x-client"


async def test_a_bug_is_a_json_500_with_cors(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception: the same error shape, status 500, CORS headers, no traceback."""

    async def broken(page):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api.workshop, "list_genres", broken)
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/list/genres")
    body = assert_error(answer, 500, 500)
    assert body["message"] == "internal server error"
    assert "secret" not in answer.text


async def test_queue_size_is_minus_one_when_it_cannot_be_counted(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The original's answer for a queue that cannot be counted."""
    from openworkshop.errors import StorageError

    async def broken():
        raise StorageError("disk on fire")

    monkeypatch.setattr(api.workshop, "queue_size", broken)
    answer = await api.client.get("/info/queue/size")
    assert answer.status_code == 200 and answer.json() == -1


async def test_ids_at_the_edge_of_the_range_are_fine(api: Api) -> None:
    """2**64 - 1 and 0 are ids: unknown ones, not malformed ones."""
    assert (await api.client.get(f"/info/mod/{MAX}")).json() == {"result": None}
    assert (await api.client.get("/info/game/0")).json() == {"result": None}
    assert (await api.client.get(f"/condition/mod/[{MAX},0]")).json() == {}
    assert_error(await api.client.get(f"/download/{MAX}"), 404, 1)
