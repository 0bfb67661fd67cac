"""Legacy items' ``file_url``: fetched only from Valve's UGC hosts (redirects included), and
never more than the size limit, however the server streams it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from openworkshop.domain import DownloadItem, FailureReason
from openworkshop.settings import Settings, read_settings
from openworkshop_steam import SteamSettings, SteamWebSource
from openworkshop_steam.source import DEFAULT_LEGACY_HOSTS, _allowed
from openworkshop_steam.steamcmd import item_folder
from tests.http.conftest import free_port

pytestmark = pytest.mark.anyio

R = FailureReason
MiB = 1 << 20


class Files:
    """A loopback HTTP server standing for a file host; counts what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.port = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.asked.append(request.path)
        if request.path == "/redirect-away":
            raise web.HTTPFound(f"http://localhost:{self.port}/file")
        if request.path == "/redirect-here":
            raise web.HTTPFound("/file")
        if request.path == "/declared":
            return web.Response(body=b"x" * (2 * MiB))
        if request.path == "/endless":  # chunked: no Content-Length to refuse early
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            for _ in range(64):
                await response.write(b"y" * (64 << 10))
            await response.write_eof()
            return response
        if request.path.startswith("/named/"):
            # a quoted-string: each backslash escaped, so the name holds one
            name = request.path.removeprefix("/named/").replace("BS", "\\\\")
            disposition = f'attachment; filename="{name}"'
            return web.Response(body=b"named", headers={"Content-Disposition": disposition})
        return web.Response(body=b"PK-legacy")


@pytest.fixture
async def files() -> AsyncIterator[Files]:
    served = Files()
    app = web.Application()
    app.router.add_get("/{tail:.*}", served.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.port = runner.addresses[0][1]
    try:
        yield served
    finally:
        await runner.cleanup()


def source_for(files: Files, **kwargs: object) -> SteamWebSource:
    """A source whose configured Steam is the loopback server (so 127.0.0.1 is allowed,
    ``localhost`` is not) with no other legacy hosts."""
    base = f"http://127.0.0.1:{files.port}"
    return SteamWebSource(
        api_url=base, community_url=base, store_url=base, legacy_hosts=(), **kwargs
    )  # type: ignore[arg-type]


def item(url: str, mod_id: int = 700) -> DownloadItem:
    return DownloadItem(app_id=294100, mod_id=mod_id, file_url=url)


async def test_a_file_url_on_another_host_is_not_fetched(files: Files, tmp_path: Path) -> None:
    async with source_for(files) as source:
        outcomes = await source.download(
            [
                item(f"http://localhost:{files.port}/file", 700),
                item("file:///etc/passwd", 701),
                item(f"http://127.0.0.1:{files.port}/file", 702),
            ],
            tmp_path / "dl",
        )
    assert outcomes[700].reason is R.ACCESS_DENIED
    assert "'localhost' is not one Valve serves legacy files from" in outcomes[700].detail
    assert "OPENWORKSHOP_LEGACY_HOSTS" in outcomes[700].detail
    assert outcomes[701].reason is R.ACCESS_DENIED
    assert outcomes[702].ok
    assert files.asked == ["/file"]  # only the allowed one was asked for
    assert not item_folder((tmp_path / "dl").resolve(), 294100, 700).exists()


async def test_a_redirect_is_followed_only_to_an_allowed_host(files: Files, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{files.port}"
    async with source_for(files) as source:
        outcomes = await source.download(
            [item(f"{base}/redirect-away", 703), item(f"{base}/redirect-here", 704)],
            tmp_path / "dl",
        )
    assert outcomes[703].reason is R.ACCESS_DENIED and "'localhost'" in outcomes[703].detail
    path = outcomes[704].path
    assert path is not None and (path / "704_legacy.bin").read_bytes() == b"PK-legacy"
    assert sorted(files.asked) == ["/file", "/redirect-away", "/redirect-here"]


async def test_a_legacy_file_over_the_limit_fails_for_good(files: Files, tmp_path: Path) -> None:
    """Refused on its Content-Length, or cut off while it streams without one: the item
    fails (not a transient reason, so it is not fetched again) and nothing stays on disk."""
    base = f"http://127.0.0.1:{files.port}"
    async with source_for(files, max_download_size=MiB) as source:
        outcomes = await source.download(
            [item(f"{base}/declared", 705), item(f"{base}/endless", 706)], tmp_path / "dl"
        )
    for mod_id in (705, 706):
        outcome = outcomes[mod_id]
        assert outcome.reason is R.TOO_LARGE and not outcome.reason.transient
        assert "more than the limit of 1048576 (OPENWORKSHOP_MAX_MOD_SIZE)" in outcome.detail
        assert not item_folder((tmp_path / "dl").resolve(), 294100, mod_id).exists()
    assert "2097152 bytes" in outcomes[705].detail


async def test_a_disposition_name_the_archive_would_refuse_is_not_used(
    files: Files, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{files.port}/named"
    async with source_for(files) as source:
        outcomes = await source.download(
            [item(f"{base}/..BS..BSevil.bat", 707), item(f"{base}/mod.zip", 708)],
            tmp_path / "dl",
        )
    for mod_id, name in ((707, "707_legacy.bin"), (708, "mod.zip")):
        path = outcomes[mod_id].path
        assert path is not None and [p.name for p in path.iterdir()] == [name]


def test_valves_ugc_hosts_and_their_subdomains_only() -> None:
    hosts = DEFAULT_LEGACY_HOSTS
    assert _allowed("http://cloud-4.steamusercontent.com/ugc/46504330037938199/AB/", hosts)
    assert _allowed("https://steamusercontent-a.akamaihd.net/ugc/1/2/", hosts)
    assert _allowed("http://CLOUD-3.SteamUserContent.com./ugc/1/2/", hosts)
    assert not _allowed("http://evilsteamusercontent.com/ugc/1/", hosts)
    assert not _allowed("http://steamusercontent.com.evil.example/ugc/1/", hosts)
    assert not _allowed("ftp://cloud-4.steamusercontent.com/ugc/1/", hosts)
    assert not _allowed("http://akamaihd.net/ugc/1/", hosts)


def test_the_settings_reach_the_source() -> None:
    env = {
        "OPENWORKSHOP_LEGACY_HOSTS": "files.example, cdn.example",
        "OPENWORKSHOP_MAX_MOD_SIZE": "5",
    }
    source = SteamWebSource.from_settings(
        read_settings(SteamSettings, env), max_download_size=Settings.from_env(env).max_mod_size
    )
    assert {"files.example", "cdn.example", "api.steampowered.com"} <= source._legacy_hosts
    assert "steamusercontent.com" not in source._legacy_hosts
    assert source._max_download_size == 5


async def test_a_legacy_host_that_cannot_be_reached_is_not_named(
    files: Files, tmp_path: Path
) -> None:
    """A failure detail is public (/info/mod): the host and port go to the log only."""
    closed = f"http://127.0.0.1:{free_port()}/file"
    async with source_for(files) as source:
        outcomes = await source.download([item(closed, 709)], tmp_path / "dl")
    outcome = outcomes[709]
    assert outcome.reason is R.NO_CONNECTION
    assert outcome.detail == "cannot reach the legacy file's host"
