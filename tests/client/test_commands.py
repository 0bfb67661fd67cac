"""``openworkshop install | update | remove | status`` as real processes against the real
server: JSON lines for scripts, plain lines off a terminal, one clear line per failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from openworkshop.testing.sample import PRIVATE_MOD_ID
from tests.client.conftest import CLI, Server, files_in, files_of

SCRIPT = Path(sys.executable).with_name("openworkshop")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_install_status_remove_on_the_command_line(server: Server, tmp_path: Path) -> None:
    folder = tmp_path / "mods"
    url = f"https://steamcommunity.com/sharedfiles/filedetails/?id={CLI[1]}"
    done = _run(
        "install", str(CLI[0]), url, "--into", str(folder), "--server", server.url, "--json"
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert {e["event"] for e in events} >= {"queued", "transferring", "verifying", "done"}
    assert {m["id"] for m in events[-1]["installed"]} == set(CLI)
    for mod_id in CLI:
        assert files_in(folder / str(mod_id)) == files_of(server.catalog, mod_id)

    status = _run("status", str(folder), "--server", server.url)
    assert status.returncode == 0, status.stderr
    assert [line.split("\t")[:2] for line in status.stdout.splitlines()] == [
        [str(CLI[0]), "current"],
        [str(CLI[1]), "current"],
    ]
    update = _run("update", str(folder), "--server", server.url)  # plain lines: not a tty
    assert update.returncode == 0, update.stderr
    assert update.stdout.splitlines()[-1] == "all current"
    assert f"{CLI[0]}: already current" in update.stdout

    removed = _run("remove", str(CLI[0]), "--from", str(folder))
    assert removed.returncode == 0, removed.stderr
    assert not (folder / str(CLI[0])).exists() and (folder / str(CLI[1])).is_dir()


def test_failures_are_one_clear_line(server: Server, tmp_path: Path) -> None:
    folder = str(tmp_path / "mods")
    refused = _run("install", str(PRIVATE_MOD_ID), "--into", folder, "--server", server.url)
    assert refused.returncode == 1
    assert f"openworkshop install: mod {PRIVATE_MOD_ID} cannot be downloaded: not found" in (
        refused.stderr
    )
    assert "nothing was installed" in refused.stderr
    unreachable = _run("install", "1", "--into", folder, "--server", "http://127.0.0.1:9")
    assert unreachable.returncode == 1
    assert "the Open Workshop server at http://127.0.0.1:9 cannot be reached" in unreachable.stderr
    bad = _run("install", "https://example.com/?id=1", "--into", folder, "--server", server.url)
    assert bad.returncode == 1 and "not a Steam Workshop item URL" in bad.stderr
    missing = _run("remove", "5", "--from", folder)
    assert missing.returncode == 1 and "not installed in this folder: 5" in missing.stderr
    assert "Traceback" not in refused.stderr + unreachable.stderr + bad.stderr + missing.stderr


def test_the_example_launcher_installs_and_updates(server: Server, tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "launcher.py"
    folder = tmp_path / "mods"
    run = [sys.executable, str(example), server.url, str(folder)]
    installed = subprocess.run([*run, str(CLI[0])], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    assert f"{CLI[0]}: installed" in installed.stdout
    assert files_in(folder / str(CLI[0])) == files_of(server.catalog, CLI[0])
    updated = subprocess.run([*run, "--update"], capture_output=True, text=True, timeout=300)
    assert updated.returncode == 0, updated.stderr
    assert "0 mods updated" in updated.stdout and f"{CLI[0]}  current" in updated.stdout
