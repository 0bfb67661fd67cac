"""Archive responses: a safe Content-Disposition for any title, ETag = sha256, Range (206, 416),
If-None-Match (304), If-Range, HEAD, exact Content-Type, and each download counted once; for a
store with local files (FileResponse) and one without (a threaded stream). And what a client
sees after a failure: 202 with the reason unless Steam said the mod is missing; 503 with
Retry-After, and no count lost, while the database's disk is full."""

from __future__ import annotations

import email.message
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlite_utils import Database

from openworkshop import FileArchiveStore, ModState, Settings, Workshop
from openworkshop.domain import ItemDetails
from openworkshop.testing import CatalogItem, FakeClock, FakeSteamSource, sample_catalog
from openworkshop.testing.sample import PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID
from openworkshop_http import HttpSettings, create_app
from openworkshop_http.responses import content_disposition, etag_matches, safe_filename
from openworkshop_sqlite import SqliteStorage
from tests.http.conftest import Api, MakeApi, assert_error

pytestmark = pytest.mark.anyio

TITLES = {
    # title: the file name a client must end up with
    'He said "hi"': "He said hi.zip",
    "a/b\\c": "abc.zip",
    "line\nbreak\r\nHeader-Injection: 1": "line break Header-Injection: 1.zip",
    "tab\tand  spaces ": "tab and spaces.zip",
    "Ünïcode мод": "Ünïcode мод.zip",
    'Quote "Mod" / with: slash — ünïcode': "Quote Mod with: slash — ünïcode.zip",
    "evil\u202egnp.exe": "evilgnp.exe.zip",
    "../../etc/passwd": "etcpasswd.zip",
    "semi;colon, comma=1": "semi;colon, comma=1.zip",
    "100% done": "100% done.zip",
    "\x00\x07\x1b": None,  # nothing left: the mod id
    "": None,
    "ok\x7fdel": "okdel.zip",
    "Emoji 🎮 mod": "Emoji 🎮 mod.zip",
}
FIRST_ID = 3_100_000_000


def _parse_filename(header: str) -> str:
    message = email.message.EmailMessage()
    message["Content-Disposition"] = header
    name = message.get_filename()
    assert name is not None, header
    return name


@pytest.fixture
async def titled(make_api: MakeApi, request: pytest.FixtureRequest) -> Api:
    catalog = sample_catalog(mods_per_game=1)
    for n, title in enumerate(TITLES):
        catalog.add_item(
            CatalogItem(
                details=ItemDetails(
                    id=FIRST_ID + n,
                    app_id=294100,
                    title=title,
                    file_size=3,
                    hcontent_file="1",
                    time_created=1600000000,
                    time_updated=1600000000,
                ),
                files={"f.txt": "abc"},
            )
        )
    api = await make_api(catalog=catalog, archives=getattr(request, "param", "file"))
    await api.cache([FIRST_ID + n for n in range(len(TITLES))])
    return api


@pytest.mark.parametrize("titled", ["file", "memory"], indirect=True)
async def test_content_disposition_is_safe_for_any_title(titled: Api) -> None:
    """filename="..." alone for ASCII, filename*=UTF-8''... alone otherwise; no quote, slash,
    control or bidi character survives; a standard parser reads back the expected name."""
    for n, (title, expected) in enumerate(TITLES.items()):
        mod_id = FIRST_ID + n
        answer = await titled.client.get(f"/download/{mod_id}")
        assert answer.status_code == 200, title
        header = answer.headers["content-disposition"]
        assert header.isascii() and header.isprintable(), header
        assert header.startswith("attachment; ")
        assert (header.count("filename=") + header.count("filename*=")) == 1, header
        name = _parse_filename(header)
        assert name == (expected or f"{mod_id}.zip"), (title, header)
        if name.isascii():
            assert header == f'attachment; filename="{name}"'
        else:
            assert header.startswith("attachment; filename*=UTF-8''")
        assert not any(c in name for c in '"/\\\r\n\x00\u202e')


def test_safe_filename_keeps_readable_names_and_cuts_long_ones() -> None:
    assert safe_filename("RimWorld: Better Power", "1") == "RimWorld: Better Power"
    assert safe_filename("  ...  ", "42") == "42"
    assert len(safe_filename("x" * 1000, "1")) == 200


def test_etag_matching_follows_if_none_match() -> None:
    etag = '"abc"'
    assert etag_matches('"abc"', etag)
    assert etag_matches('W/"abc"', etag)
    assert etag_matches('"zzz", "abc"', etag)
    assert etag_matches("*", etag)
    assert not etag_matches('"abcd"', etag)
    assert not etag_matches("", etag)
    assert not etag_matches(None, etag)


def test_content_disposition_of_the_sample_title() -> None:
    """The sample catalog's tricky title, through the function the endpoint uses."""
    from openworkshop import Archive, ArchiveHandle, Mod
    from openworkshop.testing import MemoryArchiveStore

    handle = ArchiveHandle(
        mod=Mod(id=5, name='Quote "Mod" / with: slash — ünïcode'),
        archive=Archive(key="5/1.zip", size=1, sha256="0" * 64),
        path=None,
        store=MemoryArchiveStore(),
    )
    assert content_disposition(handle) == (
        "attachment; filename*=UTF-8''Quote%20Mod%20with%3A%20slash%20%E2%80%94%20%C3%BCn%C3%AFcode.zip"
    )


# --- Range, ETag, If-None-Match, HEAD ---------------------------------------------------------


@pytest.fixture(params=["file", "memory"])
async def one(make_api: MakeApi, request: pytest.FixtureRequest) -> tuple[Api, int, bytes]:
    """An api with one cached mod, and its archive's bytes."""
    api = await make_api(archives=request.param)
    mod_id = api.mod_ids()[0]
    await api.cache([mod_id])
    mod = await api.workshop.storage.get_mod(mod_id)
    with api.archives.open(mod.archive.key) as source:
        data = source.read()
    return api, mod_id, data


async def _downloads(api: Api, mod_id: int) -> int:
    return (await api.client.get(f"/info/mod/{mod_id}")).json()["result"]["downloads"]


async def test_full_download_headers(one) -> None:
    api, mod_id, data = one
    answer = await api.client.get(f"/download/{mod_id}")
    assert answer.status_code == 200
    assert answer.content == data
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-length"] == str(len(data))
    assert answer.headers["accept-ranges"] == "bytes"
    assert answer.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["access-control-expose-headers"] == "Content-Type,Content-Disposition"


async def test_ranges(one) -> None:
    """206 with Content-Range for first bytes, a suffix, an open end."""
    api, mod_id, data = one
    size = len(data)
    for header, part, content_range in [
        ("bytes=0-9", data[:10], f"bytes 0-9/{size}"),
        ("bytes=-10", data[-10:], f"bytes {size - 10}-{size - 1}/{size}"),
        ("bytes=10-", data[10:], f"bytes 10-{size - 1}/{size}"),
        (f"bytes=5-{size + 100}", data[5:], f"bytes 5-{size - 1}/{size}"),
    ]:
        answer = await api.client.get(f"/download/{mod_id}", headers={"Range": header})
        assert answer.status_code == 206, header
        assert answer.content == part, header
        assert answer.headers["content-range"] == content_range
        assert answer.headers["content-length"] == str(len(part))
        assert answer.headers["content-type"] == "application/zip"


async def test_range_past_the_end_is_416_in_the_seed_shape(one) -> None:
    api, mod_id, data = one
    answer = await api.client.get(f"/download/{mod_id}", headers={"Range": f"bytes={len(data)}-"})
    assert_error(answer, 416, 416)
    assert answer.headers["content-range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize("header", ["bytes=abc", "items=0-1", "bytes=", "bytes=5-1", "garbage"])
async def test_malformed_range_is_ignored(one, header: str) -> None:
    """A server may ignore a Range it cannot read: the whole archive, never a 400 or 500."""
    api, mod_id, data = one
    answer = await api.client.get(f"/download/{mod_id}", headers={"Range": header})
    assert answer.status_code == 200
    assert answer.content == data


async def test_if_range(one) -> None:
    """If-Range with the current ETag honours the range; with another, the whole archive."""
    api, mod_id, data = one
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    same = await api.client.get(
        f"/download/{mod_id}", headers={"Range": "bytes=0-3", "If-Range": etag}
    )
    assert same.status_code == 206 and same.content == data[:4]
    other = await api.client.get(
        f"/download/{mod_id}", headers={"Range": "bytes=0-3", "If-Range": '"old"'}
    )
    assert other.status_code == 200 and other.content == data


async def test_if_none_match(one) -> None:
    """304 with the ETag and no body when the client's copy is current; not counted."""
    api, mod_id, data = one
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    for header in (etag, f"W/{etag}", f'"old", {etag}', "*"):
        answer = await api.client.get(f"/download/{mod_id}", headers={"If-None-Match": header})
        assert answer.status_code == 304, header
        assert answer.content == b""
        assert answer.headers["etag"] == etag
        assert answer.headers["access-control-allow-origin"] == "*"
    steam = await api.client.get(f"/download/steam/{mod_id}", headers={"If-None-Match": etag})
    assert steam.status_code == 304
    stale = await api.client.get(f"/download/{mod_id}", headers={"If-None-Match": '"old"'})
    assert stale.status_code == 200 and stale.content == data
    assert await _downloads(api, mod_id) == 1


async def test_head_sends_headers_only_and_counts_nothing(one) -> None:
    api, mod_id, data = one
    answer = await api.client.head(f"/download/{mod_id}")
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["content-length"] == str(len(data))
    assert answer.headers["content-type"] == "application/zip"
    assert await _downloads(api, mod_id) == 0


async def test_each_download_counts_once(one) -> None:
    """A whole download and the first piece of a resumed one count; later pieces do not."""
    api, mod_id, _ = one
    await api.client.get(f"/download/{mod_id}")
    assert await _downloads(api, mod_id) == 1
    await api.client.get(f"/download/{mod_id}", headers={"Range": "bytes=0-99"})
    assert await _downloads(api, mod_id) == 2
    await api.client.get(f"/download/{mod_id}", headers={"Range": "bytes=100-"})
    assert await _downloads(api, mod_id) == 2
    await api.client.get(f"/download/steam/{mod_id}")
    assert await _downloads(api, mod_id) == 3
    await api.client.get(f"/download/{mod_id}", headers={"Range": "bytes=abc"})  # ignored
    assert await _downloads(api, mod_id) == 4
    await api.client.get(f"/download/{mod_id}", headers={"Range": "bytes=99999999-"})  # 416
    assert await _downloads(api, mod_id) == 4
    summary = (await api.client.get("/statistics/info/all")).json()
    assert summary["mods_sent_count"] == 4


async def test_multiple_ranges(one) -> None:
    """A local file answers several ranges as multipart/byteranges; a stream sends it all."""
    api, mod_id, data = one
    answer = await api.client.get(f"/download/{mod_id}", headers={"Range": "bytes=0-1,10-11"})
    if api.archives.local_path("x") is not None:
        assert answer.status_code == 206
        assert answer.headers["content-type"].startswith("multipart/byteranges; boundary=")
        assert data[0:2] in answer.content and data[10:12] in answer.content
    else:
        assert answer.status_code == 200 and answer.content == data


# --- after a failure ------------------------------------------------------------------------


async def test_a_refused_mod_answers_202_with_its_reason(api: Api) -> None:
    """steamcmd refused it: the next request is 202 with ``unsuccessful_attempts`` and the
    reason, the mod shows condition 3 and its failure while it waits; a private mod (Steam's
    details) is 404 error_id 2."""
    for mod_id in (UNFETCHABLE_MOD_ID, PRIVATE_MOD_ID):
        assert (await api.client.get(f"/download/steam/{mod_id}")).status_code == 202
    states = await api.workshop.wait_until([UNFETCHABLE_MOD_ID, PRIVATE_MOD_ID], [], timeout=30)
    assert states == {UNFETCHABLE_MOD_ID: None, PRIVATE_MOD_ID: None}
    missing = await api.client.get(f"/download/steam/{PRIVATE_MOD_ID}")
    assert assert_error(missing, 404, 2)["reason"] == "not_found"
    again = await api.client.get(f"/download/steam/{UNFETCHABLE_MOD_ID}")
    assert again.status_code == 202 and again.headers["retry-after"] == "1"
    assert again.json() == {
        "message": "request added to queue",
        "error_id": 0,
        "unsuccessful_attempts": True,
        "updating": False,
        "reason": "access_denied",
    }
    flood = await api.client.get(f"/download/steam/{UNFETCHABLE_MOD_ID}")
    assert flood.status_code == 202
    assert flood.json()["error_id"] == 3 and flood.json()["reason"] == "access_denied"
    condition = await api.client.get(f"/condition/mod/[{UNFETCHABLE_MOD_ID}]")
    assert condition.json() == {str(UNFETCHABLE_MOD_ID): 3}
    info = (await api.client.get(f"/info/mod/{UNFETCHABLE_MOD_ID}")).json()
    assert info["result"]["condition"] == 3 and info["unsuccessful_attempts"] is True
    assert info["failure"]["reason"] == "access_denied"
    assert api.steam.calls["download"] == 1  # it waits out the cool-off


class FillingDisk(SqliteStorage):
    """A real SQLite file on a disk that fills up: while ``full``, each write makes SQLite
    itself fail with SQLITE_FULL (the file capped at its size, then asked to grow), which the
    adapter translates as it would a full disk's."""

    full = False

    async def _write(self, work: Any, **how: Any) -> Any:
        if not self.full:
            return await super()._write(work, **how)

        def grow(db: Database) -> None:
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {pages}")
            try:
                db.execute("INSERT INTO flags (name, value) VALUES ('~', zeroblob(1 << 20))")
            finally:
                db.execute("PRAGMA max_page_count = 4294967294")

        return await super()._write(grow, **how)


@pytest.fixture
async def filling(tmp_path: Path) -> AsyncIterator[tuple[Api, FillingDisk]]:
    catalog = sample_catalog()
    storage = FillingDisk(tmp_path / "db.sqlite3")
    steam = FakeSteamSource(catalog)
    clock = FakeClock()
    archives = FileArchiveStore(tmp_path / "archives")
    settings = Settings(gather_window=0.0, retry_base=0.01, max_attempts=1)
    workshop = Workshop(
        storage=storage,
        steam=steam,
        archives=archives,
        clock=clock,
        settings=settings,
        downloads_dir=tmp_path / "downloads",
    )
    async with workshop:
        app = create_app(workshop, HttpSettings(), manage_lifespan=False)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(workshop, c, catalog, steam, archives, clock, settings, app), storage


async def test_a_full_database_answers_503_and_loses_no_download(
    filling: tuple[Api, FillingDisk],
) -> None:
    """SQLITE_FULL: a request that must write answers 503 with Retry-After in the error shape
    (not 500); archives the server has are still sent, and every download counted while the
    disk was full is written once there is room again."""
    api, storage = filling
    cached, new = api.mod_ids()[:2]
    await api.cache([cached])
    storage.full = True
    refused = await api.client.get(f"/download/steam/{new}")
    body = assert_error(refused, 503, 503)
    assert body["message"] == "the server cannot store data now, try again later"
    assert int(refused.headers["retry-after"]) >= 1
    for _ in range(2):
        sent = await api.client.get(f"/download/{cached}")
        assert sent.status_code == 200 and sent.content
    assert (await api.client.get("/statistics/day")).status_code == 200  # reads still work
    storage.full = False
    assert (await api.client.get(f"/download/steam/{new}")).status_code == 202
    days = (await api.client.get("/statistics/day")).json()  # flushes what was kept
    assert {r["type"]: r["count"] for r in days}["files_sent"] == 2
    info = (await api.client.get(f"/info/mod/{cached}")).json()
    assert info["result"]["downloads"] == 2
    states = await api.workshop.wait_until([new], [ModState.READY], timeout=30)
    assert states == {new: ModState.READY}
