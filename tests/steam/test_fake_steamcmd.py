"""The fake steamcmd behaves like steamcmd (docs/steam.md, "steamcmd"), run as a real process; and
``openworkshop fake-steam`` runs both fakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from openworkshop.testing import SteamCatalog
from openworkshop.testing.sample import PRIVATE_MOD_ID
from openworkshop_steam import SteamWebSource
from openworkshop_steam.fake import (
    ENV_CATALOG,
    ENV_GLUED,
    ENV_HOME,
    ENV_ITEM_DELAY,
    ENV_LOGIN_DELAY,
    install_fake_steamcmd,
    read_sessions,
    start_fake_steam,
)
from openworkshop_steam.steamcmd import item_folder, parse_output, parse_workshop_log

from .catalogs import make_item


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    catalog = SteamCatalog()
    catalog.add_item(make_item(11))
    catalog.add_item(make_item(12, download_error="Timeout"))
    catalog.add_item(make_item(13, visibility=2))
    path = tmp_path / "catalog.json"
    path.write_text(catalog.to_json())
    return path


@pytest.fixture
def run(tmp_path: Path, catalog_file: Path):
    """Run the fake steamcmd with a catalog file; return (exit code, stdout)."""
    steamcmd = install_fake_steamcmd(
        tmp_path / "bin", catalog=catalog_file, login_delay=0, item_delay=0
    )

    def run(*args: str, glued: bool = False, stdin: str = "") -> tuple[int, str]:
        env = {**os.environ, ENV_GLUED: "1" if glued else "0"}
        done = subprocess.run(
            [str(steamcmd), *args], input=stdin, capture_output=True, text=True, env=env, timeout=30
        )
        return done.returncode, done.stdout

    return run


def test_real_command_line(run, tmp_path: Path) -> None:
    """Exit 0 although items failed; real lines; files where steamcmd puts them."""
    root = tmp_path / "dl"
    code, out = run(
        "+force_install_dir", str(root), "+login", "anonymous",
        "+workshop_download_item", "294100", "11",
        "+workshop_download_item", "294100", "12",
        "+workshop_download_item", "294100", "13",
        "+workshop_download_item", "294100", "14",
        "+quit",
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert "Connecting anonymously to Steam Public...OK" in lines
    assert f'Success. Downloaded item 11 to "{item_folder(root, 294100, 11)}" (' in out
    assert "ERROR! Download item 12 failed (Timeout)." in lines
    assert "ERROR! Download item 13 failed (Access Denied)." in lines
    assert "ERROR! Download item 14 failed (File Not Found)." in lines
    assert lines[-1] == "Unloading Steam API...OK"
    assert (
        item_folder(root, 294100, 11) / "About/About.xml"
    ).read_text() == "<ModMetaData>11</ModMetaData>\n"
    acf = (root / "steamapps/workshop/appworkshop_294100.acf").read_text()
    assert '\t\t"11"\n' in acf and '"timeupdated"\t\t"1600000011"' in acf


def test_glued_lines(run, tmp_path: Path) -> None:
    code, out = run(
        "+force_install_dir", str(tmp_path / "dl"), "+login", "anonymous",
        "+workshop_download_item", "294100", "11", "+workshop_download_item", "294100", "14",
        "+quit", glued=True,
    )  # fmt: skip
    assert code == 0
    assert " bytes) Downloading item 14 ..." in out
    assert "failed (File Not Found).Unloading Steam API...OK" in out
    parsed = parse_output(out)
    assert parsed.results[11].ok and not parsed.results[14].ok


def test_windows_style_quoted_commands(run, tmp_path: Path) -> None:
    """``+"login anonymous"`` (one argument with spaces) works, as on Windows."""
    root = tmp_path / "dl"
    code, out = run(
        f"+force_install_dir {root}",
        "+login anonymous",
        "+workshop_download_item 294100 11",
        "+quit",
    )
    assert code == 0 and parse_output(out).results[11].ok


def test_force_install_dir_after_login_is_refused(run, tmp_path: Path) -> None:
    root = tmp_path / "dl"
    code, out = run(
        "+login", "anonymous", "+force_install_dir", str(root),
        "+workshop_download_item", "294100", "11", "+quit",
    )  # fmt: skip
    assert code == 0
    assert "Please use force_install_dir before logon!" in out
    assert not root.exists()
    assert item_folder(tmp_path / "bin", 294100, 11).is_dir()  # its own folder instead


def test_acf_listed_item_is_not_fetched_again(run, tmp_path: Path) -> None:
    """steamcmd believes its ACF: with the folder gone it still says Success."""
    root = tmp_path / "dl"
    args = (
        "+force_install_dir",
        str(root),
        "+login",
        "anonymous",
        "+workshop_download_item",
        "294100",
        "11",
        "+quit",
    )
    run(*args)
    folder = item_folder(root, 294100, 11)
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    folder.rmdir()
    code, out = run(*args)
    assert code == 0
    assert parse_output(out).results[11].ok and not folder.exists()


def test_workshop_log(run, tmp_path: Path) -> None:
    run(
        "+force_install_dir", str(tmp_path / "dl"), "+login", "anonymous",
        "+workshop_download_item", "294100", "11", "+workshop_download_item", "294100", "13", "+quit",
    )  # fmt: skip
    log = (tmp_path / "bin/logs/workshop_log.txt").read_text()
    results = [(x.app_id, x.mod_id, x.result) for x in parse_workshop_log(log)]
    assert results == [(294100, 11, "OK"), (294100, 13, "Access Denied")]


def test_runscript(run, tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    root = tmp_path / "dl"
    script.write_text(
        f'force_install_dir "{root}"\nlogin anonymous\nworkshop_download_item 294100 11\nquit\n'
    )
    code, out = run("+runscript", str(script))
    assert code == 0 and parse_output(out).results[11].ok


def test_without_quit_it_waits_at_its_prompt(run, tmp_path: Path) -> None:
    code, out = run("+login", "anonymous", stdin="")
    assert code == 0 and "Steam>" in out


HEAVY = ("aiohttp", "parsel", "lxml", "sqlite_utils", "starlette", "granian", "uvicorn", "httpx")


def test_starts_fast(tmp_path: Path, catalog_file: Path) -> None:
    """No heavy imports, so a session starts quickly: checked on what it imports (Python's
    import log), not on a stopwatch that a busy machine would fail."""
    steamcmd = install_fake_steamcmd(tmp_path / "bin", catalog=catalog_file)
    env = {**os.environ, ENV_LOGIN_DELAY: "0", ENV_ITEM_DELAY: "0", "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(
        [str(steamcmd), "+login", "anonymous", "+quit"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "json" in imported  # the import log is there
    assert sorted(imported & set(HEAVY)) == []


def test_environment_overrides_baked_settings(tmp_path: Path, catalog_file: Path) -> None:
    steamcmd = install_fake_steamcmd(tmp_path / "bin", catalog="/nonexistent.json", login_delay=0)
    env = {
        **os.environ,
        ENV_CATALOG: str(catalog_file),
        ENV_HOME: str(tmp_path / "home"),
        ENV_ITEM_DELAY: "0",
    }
    done = subprocess.run(
        [str(steamcmd), "+force_install_dir", str(tmp_path / "dl"), "+login", "anonymous",
         "+workshop_download_item", "294100", "11", "+quit"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert parse_output(done.stdout).results[11].ok
    assert (tmp_path / "home/logs/workshop_log.txt").exists()
    with pytest.raises(TypeError):
        install_fake_steamcmd(tmp_path / "bin", nonsense=1)


@pytest.mark.anyio
async def test_start_fake_steam_in_process(tmp_path: Path) -> None:
    """What ``openworkshop demo`` uses: both fakes, and the settings that point at them."""
    running = await start_fake_steam(steamcmd_dir=tmp_path / "fake", login_delay=0)
    try:
        env = running.environment()
        catalog = running.steam.catalog
        mod = next(i for i in catalog.items.values() if i.visible and not i.download_error)
        async with SteamWebSource(
            api_url=env["OPENWORKSHOP_STEAM_API_URL"],
            community_url=env["OPENWORKSHOP_STEAM_COMMUNITY_URL"],
            store_url=env["OPENWORKSHOP_STEAM_STORE_URL"],
            steamcmd=env["OPENWORKSHOP_STEAMCMD"],
        ) as source:
            from openworkshop.domain import DownloadItem

            found = await source.details([mod.id, PRIVATE_MOD_ID])
            assert found[mod.id] == mod.details and found[PRIVATE_MOD_ID] is None
            outcomes = await source.download(
                [DownloadItem(app_id=mod.details.app_id, mod_id=mod.id)], tmp_path / "dl"
            )
            assert outcomes[mod.id].ok
        [line] = running.session_log.read_text().splitlines()
        assert json.loads(line)["items"] == [mod.id]
    finally:
        await running.stop()


def test_fake_steam_command(tmp_path: Path) -> None:
    """``python -m openworkshop_steam.fake`` prints the settings and serves until stopped."""
    catalog = SteamCatalog()
    catalog.add_item(make_item(21))
    (tmp_path / "catalog.json").write_text(catalog.to_json())
    process = subprocess.Popen(
        [sys.executable, "-m", "openworkshop_steam.fake", "--port", "0", "--catalog",
         str(tmp_path / "catalog.json"), "--steamcmd-dir", str(tmp_path / "fake"), "--api-key", "K"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        settings: dict[str, str] = {}
        while "OPENWORKSHOP_STEAMCMD" not in settings:
            line = process.stdout.readline()
            assert line, "the fake Steam stopped early"
            if line.strip().startswith("export "):
                key, _, value = line.strip().removeprefix("export ").partition("=")
                settings[key] = value
        assert settings["OPENWORKSHOP_STEAMCMD"] == str(tmp_path / "fake" / "steamcmd")
        url = settings["OPENWORKSHOP_STEAM_STORE_URL"] + "/api/appdetails?appids=1"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert json.loads(response.read()) == {"1": {"success": False}}
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_logged_in_session_names_the_account_and_records_its_environment(
    tmp_path: Path, catalog_file: Path
) -> None:
    """Like a current steamcmd, the login line shows the account's SteamID (``[U:1:N]``,
    stable per name); the session log keeps the environment the fake was started with."""
    log = tmp_path / "sessions.jsonl"
    steamcmd = install_fake_steamcmd(
        tmp_path / "bin", catalog=catalog_file, login_delay=0, item_delay=0, session_log=str(log)
    )
    script = tmp_path / "script.txt"
    script.write_text(f'force_install_dir "{tmp_path / "dl"}"\nlogin "Bob" "pw"\nquit\n')
    env = {"PATH": os.environ["PATH"], "MARKER": "seen"}
    outs = [
        subprocess.run(
            [str(steamcmd), "+runscript", str(script)],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=True,
        ).stdout
        for _ in range(2)
    ]
    ids = {line for out in outs for line in out.splitlines() if line.startswith("Logging in user")}
    [line] = ids  # the same id both times
    assert line.startswith("Logging in user 'Bob' [U:1:") and "[U:1:0]" not in line
    assert line.endswith("] to Steam Public...OK")
    [first, _] = read_sessions(log)
    assert first["environ"]["MARKER"] == "seen" and first["environ"]["PATH"] == env["PATH"]
