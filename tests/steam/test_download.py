"""SteamWebSource.download with real subprocesses of the fake steamcmd (and legacy items over
loopback HTTP): one process per 25 items, every failure mapped to its reason, a hung steamcmd
killed with its whole process group, the password kept off every command line."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openworkshop.domain import DownloadItem, DownloadOutcome, FailureReason
from openworkshop.errors import SteamConfigurationError
from openworkshop.testing import CatalogItem, SteamCatalog
from openworkshop.testing.sample import PRIVATE_MOD_ID
from openworkshop_steam import SteamWebSource
from openworkshop_steam.fake import (
    ENV_GLUED,
    ENV_GUARD,
    ENV_HANG,
    ENV_PASSWORD,
    ENV_RATE_LIMIT,
    ENV_SELF_UPDATE,
    FakeSteam,
    install_fake_steamcmd,
)
from openworkshop_steam.steamcmd import item_folder

from .catalogs import alive, make_item

pytestmark = pytest.mark.anyio

R = FailureReason
Make = Callable[..., SteamWebSource]
Sessions = Callable[[], list[dict[str, Any]]]


def wanted(catalog: SteamCatalog, ids: list[int]) -> list[DownloadItem]:
    return [
        DownloadItem(
            app_id=catalog.items[i].details.app_id if i in catalog.items else 294100, mod_id=i
        )
        for i in ids
    ]


def assert_files(item: CatalogItem, folder: Path) -> None:
    """The folder holds exactly the item's files, byte for byte."""
    expected = {path: b"".join(chunks) for path, chunks in item.iter_files()}
    found = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    assert found == expected


def public(catalog: SteamCatalog) -> list[int]:
    return [i.id for i in catalog.items.values() if i.visible and not i.download_error]


async def test_one_session_for_25_items(
    source: SteamWebSource, catalog: SteamCatalog, sessions: Sessions, tmp_path: Path
) -> None:
    ids = public(catalog)[40:65]  # across two games
    folder = tmp_path / "downloads"
    outcomes = await source.download(wanted(catalog, ids), folder)
    assert list(outcomes) == ids
    for mod_id, outcome in outcomes.items():
        item = catalog.items[mod_id]
        assert outcome == DownloadOutcome(
            mod_id=mod_id, path=item_folder(folder.resolve(), item.details.app_id, mod_id)
        )
        assert outcome.path is not None
        assert_files(item, outcome.path)
    [session] = sessions()
    assert session["items"] == ids and session["login"] == "anonymous"
    argv = session["argv"]
    assert argv[:4] == ["+force_install_dir", str(folder.resolve()), "+login", "anonymous"]
    assert argv[-1] == "+quit" and argv.count("+workshop_download_item") == 25


async def test_30_items_two_sessions(
    source: SteamWebSource, catalog: SteamCatalog, sessions: Sessions, tmp_path: Path
) -> None:
    ids = public(catalog)[:30]
    outcomes = await source.download(wanted(catalog, ids), tmp_path / "dl")
    assert all(o.ok for o in outcomes.values())
    assert [len(s["items"]) for s in sessions()] == [25, 5]


@pytest.mark.parametrize("glued", [False, True], ids=["lines", "glued"])
async def test_every_failure_variant(
    make_source: Make, catalog: SteamCatalog, sessions: Sessions, tmp_path: Path, glued: bool
) -> None:
    """Each way an item fails gets its stable reason, in one session, glued lines or not."""
    texts = {
        501: ("Failure", R.UNKNOWN),
        502: ("Timeout", R.TIMEOUT),
        503: ("No Connection", R.NO_CONNECTION),
        504: ("Access Denied", R.ACCESS_DENIED),
        505: ("File Not Found", R.NOT_FOUND),
        506: ("I/O Operation Failed", R.IO_ERROR),
    }
    for mod_id, (text, _) in texts.items():
        catalog.add_item(make_item(mod_id, download_error=text))
    catalog.add_item(make_item(508, app_id=107410))  # Arma 3: no anonymous downloads
    good = public(catalog)[0]
    ids = [*texts, PRIVATE_MOD_ID, 7, 508, good]
    env = {ENV_GLUED: "1"} if glued else {}
    async with make_source(steamcmd_env=env) as source:
        outcomes = await source.download(wanted(catalog, ids), tmp_path / "dl")
    reasons = {k: o.reason for k, o in outcomes.items()}
    assert reasons == {
        **{k: reason for k, (_, reason) in texts.items()},
        PRIVATE_MOD_ID: R.ACCESS_DENIED,
        7: R.NOT_FOUND,
        508: R.UNKNOWN,
        good: None,
    }
    assert outcomes[502].detail == "Timeout" and outcomes[508].detail == "Failure"
    assert outcomes[good].ok and len(sessions()) == 1


async def test_rate_limited_at_login(
    make_source: Make, catalog: SteamCatalog, tmp_path: Path
) -> None:
    ids = public(catalog)[:3]
    async with make_source(steamcmd_env={ENV_RATE_LIMIT: "1"}) as source:
        outcomes = await source.download(wanted(catalog, ids), tmp_path / "dl")
    assert {o.reason for o in outcomes.values()} == {R.RATE_LIMITED}
    assert all("Rate Limit Exceeded" in o.detail for o in outcomes.values())


async def test_hung_steamcmd_is_killed_with_its_group(
    make_source: Make, catalog: SteamCatalog, sessions: Sessions, tmp_path: Path
) -> None:
    """At the timeout steamcmd and everything it started are gone; items time out.

    The timeout leaves the fake steamcmd ample time to start and hang (it needs a fraction of
    a second), so a busy machine does not kill it before it has started its child."""
    ids = public(catalog)[:2]
    async with make_source(steamcmd_env={ENV_HANG: "1"}, steamcmd_timeout=4.0) as source:
        started = time.monotonic()
        outcomes = await source.download(wanted(catalog, ids), tmp_path / "dl")
        elapsed = time.monotonic() - started
    assert elapsed >= 4.0  # not ended before its time
    assert {o.reason for o in outcomes.values()} == {R.TIMEOUT}
    [session] = sessions()
    for pid in (session["pid"], session["child_pid"]):
        deadline = time.monotonic() + 30  # a condition polled, not a window: gone soon
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pid), pid


async def test_first_run_self_update_is_retried(
    make_source: Make, catalog: SteamCatalog, sessions: Sessions, tmp_path: Path
) -> None:
    ids = public(catalog)[:2]
    async with make_source(steamcmd_env={ENV_SELF_UPDATE: "1"}) as source:
        outcomes = await source.download(wanted(catalog, ids), tmp_path / "dl")
        assert all(o.ok for o in outcomes.values())
        first, second = sessions()
        assert first.get("self_update") and not second.get("self_update")
        await source.download(wanted(catalog, ids[:1]), tmp_path / "dl")
    assert len(sessions()) == 3  # updated once: no more retries


async def test_account_uses_a_private_runscript(
    make_source: Make, catalog: SteamCatalog, sessions: Sessions, tmp_path: Path
) -> None:
    """The password reaches steamcmd in a 0600 file, never on its command line."""
    password = "hunter2 with spaces"
    catalog.add_item(make_item(700, app_id=107410))  # needs an owner: anonymous would fail
    async with make_source(
        username="bob", password=password, steamcmd_env={ENV_PASSWORD: password}
    ) as source:
        outcomes = await source.download(wanted(catalog, [700]), tmp_path / "dl")
    assert outcomes[700].ok
    [session] = sessions()
    assert session["login"] == "bob"
    assert session["argv"][0] == "+runscript" and len(session["argv"]) == 2
    assert not any("hunter2" in arg for arg in session["argv"])
    assert session["runscript_mode"] == 0o600
    assert gone(Path(session["runscript"]).parent)


async def test_wrong_password_needs_a_login(
    make_source: Make, catalog: SteamCatalog, tmp_path: Path
) -> None:
    async with make_source(
        username="bob", password="wrong", steamcmd_env={ENV_PASSWORD: "right"}
    ) as source:
        outcomes = await source.download(wanted(catalog, public(catalog)[:2]), tmp_path / "dl")
    assert {o.reason for o in outcomes.values()} == {R.LOGIN_REQUIRED}


async def test_steam_guard_prompt_ends_the_session_at_once(
    make_source: Make, catalog: SteamCatalog, tmp_path: Path
) -> None:
    """steamcmd would wait for a code forever: the session is ended as soon as it asks."""
    async with make_source(
        username="bob", password="pw", steamcmd_env={ENV_GUARD: "code"}, steamcmd_timeout=30
    ) as source:
        started = time.monotonic()
        outcomes = await source.download(wanted(catalog, public(catalog)[:1]), tmp_path / "dl")
    assert time.monotonic() - started < 25  # well before the 30 s timeout
    assert {o.reason for o in outcomes.values()} == {R.LOGIN_REQUIRED}


async def test_mobile_confirmation_that_never_comes(
    make_source: Make, catalog: SteamCatalog, tmp_path: Path
) -> None:
    async with make_source(
        username="bob", password="pw", steamcmd_env={ENV_GUARD: "mobile"}, steamcmd_timeout=4
    ) as source:  # time enough to reach the confirmation even on a busy machine
        outcomes = await source.download(wanted(catalog, public(catalog)[:1]), tmp_path / "dl")
    assert {o.reason for o in outcomes.values()} == {R.LOGIN_REQUIRED}


def gone(path: Path) -> bool:
    return not path.exists()


def stand_in(folder: Path, body: str) -> Path:
    """A steamcmd stand-in script: ``root`` is its force_install_dir, ``items`` its (app, id)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "steamcmd"
    script.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys\n"
        "args = sys.argv[1:]\n"
        "root = pathlib.Path(args[args.index('+force_install_dir') + 1])\n"
        "items = [(args[i + 1], args[i + 2]) for i, a in enumerate(args)"
        " if a == '+workshop_download_item']\n" + body
    )
    script.chmod(0o755)
    return script


async def test_the_folder_on_disk_is_trusted_over_the_text(
    make_source: Make, tmp_path: Path
) -> None:
    """Files but no line: a success. A success line but no files: a failure."""
    quiet = stand_in(
        tmp_path / "quiet",
        "for app, i in items:\n"
        "    d = root / 'steamapps/workshop/content' / app / i\n"
        "    d.mkdir(parents=True)\n"
        "    (d / 'f.txt').write_text('x')\n"
        "print('Downloading item', items[0][1], '...', end='')\n",
    )
    boastful = stand_in(
        tmp_path / "boastful",
        "for app, i in items:\n"
        '    print(f\'Success. Downloaded item {i} to "{root}/steamapps/workshop/content/{app}/{i}"'
        " (10 bytes)')\n",
    )
    items = [DownloadItem(app_id=294100, mod_id=1), DownloadItem(app_id=294100, mod_id=2)]
    async with make_source(steamcmd=str(quiet)) as source:
        outcomes = await source.download(items, tmp_path / "a")
    assert all(o.ok for o in outcomes.values())
    async with make_source(steamcmd=str(boastful)) as source:
        outcomes = await source.download(items, tmp_path / "b")
    assert {o.reason for o in outcomes.values()} == {R.UNKNOWN}
    assert "missing or empty" in outcomes[1].detail


async def test_silent_steamcmd_is_unknown(make_source: Make, tmp_path: Path) -> None:
    silent = stand_in(tmp_path / "silent", "print('Steam Console Client (c) Valve Corporation')\n")
    async with make_source(steamcmd=str(silent)) as source:
        outcomes = await source.download([DownloadItem(app_id=1, mod_id=2)], tmp_path / "dl")
    assert outcomes[2].reason is R.UNKNOWN and "said nothing" in outcomes[2].detail


async def test_a_stale_acf_does_not_fool_the_next_session(
    source: SteamWebSource, catalog: SteamCatalog, sessions: Sessions, tmp_path: Path
) -> None:
    """The caller removes the folder after archiving; steamcmd's ACF still lists the item. The
    next download must fetch it again, not believe the ACF (arma-server-web-admin #87)."""
    mod_id = public(catalog)[0]
    item = catalog.items[mod_id]
    for _ in range(2):
        outcomes = await source.download(wanted(catalog, [mod_id]), tmp_path / "dl")
        path = outcomes[mod_id].path
        assert path is not None
        assert_files(item, path)
        for f in sorted(path.rglob("*"), reverse=True):
            f.unlink() if f.is_file() else f.rmdir()
        path.rmdir()
    assert len(sessions()) == 2


async def test_legacy_item_over_http_without_steamcmd(
    make_source: Make, fake: FakeSteam, catalog: SteamCatalog, sessions: Sessions, tmp_path: Path
) -> None:
    """A legacy item (file_url set) is fetched over HTTP: no steamcmd needed at all."""
    catalog.add_item(
        make_item(
            600,
            app_id=322330,
            file_url="http://cloud-4.steamusercontent.com/ugc/1/0123/",
            files={"mod.zip": "PK-not-really-a-zip"},
            blobs={},
        )
    )
    catalog.add_item(make_item(601, file_url="http://cloud-4.steamusercontent.com/ugc/2/4567/"))
    async with make_source(steamcmd="no-such-steamcmd-here") as source:
        assert not source.can_download
        details = await source.details([600, 601])
        items = [
            DownloadItem(app_id=d.app_id, mod_id=d.id, file_url=d.file_url)
            for d in details.values()
            if d is not None
        ]
        assert all(i.file_url.startswith(fake.base_url) for i in items)
        outcomes = await source.download(items, tmp_path / "dl")
    single = outcomes[600].path
    assert single is not None and (single / "mod.zip").read_bytes() == b"PK-not-really-a-zip"
    several = outcomes[601].path
    assert several is not None and [p.name for p in several.iterdir()] == ["601_legacy.bin"]
    assert fake.calls["file"] == 2 and sessions() == []


async def test_legacy_failures(
    make_source: Make, fake: FakeSteam, catalog: SteamCatalog, tmp_path: Path
) -> None:
    catalog.add_item(make_item(602, file_url="http://cloud-4.steamusercontent.com/ugc/3/89/"))
    async with make_source() as source:
        [details] = (await source.details([602])).values()
        assert details is not None
        missing = DownloadItem(app_id=294100, mod_id=603, file_url=fake.base_url + "/ugc/9/NOPE/")
        outcomes = dict(await source.download([missing], tmp_path / "dl"))
        fake.inject("file", "truncate", times=1)
        cut = DownloadItem(app_id=294100, mod_id=602, file_url=details.file_url)
        outcomes.update(await source.download([cut], tmp_path / "dl"))
    assert outcomes[603].reason is R.NOT_FOUND
    assert outcomes[602].reason is R.NO_CONNECTION
    assert not item_folder((tmp_path / "dl").resolve(), 294100, 602).exists()


async def test_legacy_and_steamcmd_items_together(
    source: SteamWebSource,
    fake: FakeSteam,
    catalog: SteamCatalog,
    sessions: Sessions,
    tmp_path: Path,
) -> None:
    catalog.add_item(make_item(604, file_url="http://cloud-4.steamusercontent.com/ugc/4/AB/"))
    regular = public(catalog)[:2]
    [legacy] = (await source.details([604])).values()
    assert legacy is not None
    items = [
        *wanted(catalog, regular),
        DownloadItem(app_id=294100, mod_id=604, file_url=legacy.file_url),
    ]
    outcomes = await source.download(items, tmp_path / "dl")
    assert all(o.ok for o in outcomes.values()) and list(outcomes) == [*regular, 604]
    assert [s["items"] for s in sessions()] == [regular]


async def test_missing_steamcmd_is_a_configuration_error(make_source: Make, tmp_path: Path) -> None:
    async with make_source(steamcmd="no-such-steamcmd-here") as source:
        with pytest.raises(SteamConfigurationError, match="OPENWORKSHOP_STEAMCMD"):
            await source.download([DownloadItem(app_id=1, mod_id=2)], tmp_path / "dl")
    async with make_source(username="bob", password='a"b') as source:
        with pytest.raises(SteamConfigurationError, match="double quote"):
            await source.download([DownloadItem(app_id=1, mod_id=2)], tmp_path / "dl")


async def test_measure_follows_what_steamcmd_has_written(
    make_source: Make, fake: FakeSteam, catalog: SteamCatalog, tmp_path: Path
) -> None:
    """``measure`` counts an item's bytes in steamcmd's download folder while it comes in
    (the fake stops halfway until its gate file exists), then in its content folder; an
    item not begun is 0. No call to Steam."""
    item = make_item(4_200_000_001, blobs={"Data/big.bin": 2 << 20})
    catalog.add_item(item)
    gate = tmp_path / "gate"
    gate.mkdir()
    steamcmd = install_fake_steamcmd(
        tmp_path / "gated", catalog=fake.catalog_url, login_delay=0.02, gate=str(gate)
    )
    items = wanted(catalog, [item.id])
    folder = tmp_path / "downloads"
    total = item.content_size()
    async with make_source(steamcmd=str(steamcmd)) as source:
        assert await source.measure(items, folder) == {item.id: 0}
        download = asyncio.ensure_future(source.download(items, folder))
        calls = dict(fake.calls)
        while (await source.measure(items, folder))[item.id] < total // 2:
            assert not download.done(), download.result()
            await asyncio.sleep(0.01)  # polls for a state the fake holds until the gate opens
        assert await source.measure(items, folder) == {item.id: total // 2}
        (gate / f"{item.id}-2").touch()
        outcomes = await asyncio.wait_for(download, 60)
        assert outcomes[item.id].path is not None
        assert await source.measure(items, folder) == {item.id: total}
        steam_calls = {k: v for k, v in fake.calls.items() if k != "catalog"}  # steamcmd's own
        assert steam_calls == calls
