#!/usr/bin/env python3
"""A fake ``steamcmd``: the real command line in, real-format lines out, files on disk.

It serves a :class:`~openworkshop.testing.catalog.SteamCatalog` (a JSON file, or the fake
Steam server's ``/_fake/catalog.json``) and behaves as docs/steam.md describes steamcmd:

- accepts ``+force_install_dir DIR +login anonymous +workshop_download_item APP ID … +quit``
  and ``+runscript FILE`` (``force_install_dir`` after ``login`` is refused, as by steamcmd);
- takes as long as a login takes, then writes each item's files under
  ``DIR/steamapps/workshop/content/APP/ID/`` (via ``…/workshop/downloads/``), keeps
  ``appworkshop_APP.acf`` and ``logs/workshop_log.txt`` like steamcmd, and prints
  ``Success. Downloaded item N to "PATH" (B bytes)``;
- fails items like Steam: ``File Not Found`` (missing), ``Access Denied`` (private), the
  item's ``download_error``, ``Failure`` for an app that refuses anonymous downloads;
- exits 0 after ``quit``, whatever failed.

Everything else is set by environment variables (``ENV_*`` below): the login delay, a hang,
a self-update on first run, ``Rate Limit Exceeded`` at login, glued lines, Steam Guard, and a
session log with one JSON line per session (its argv, login, items, pids and the environment it
was given), so tests can count sessions and logins and see what reached steamcmd.

This file runs as a script: it imports only the standard library and the core's catalog, so
it starts fast. :func:`install_fake_steamcmd` puts an executable ``steamcmd`` that runs it
into a folder.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ENV_CATALOG",
    "ENV_GATE",
    "ENV_GLUED",
    "ENV_GUARD",
    "ENV_HANG",
    "ENV_HOME",
    "ENV_ITEM_DELAY",
    "ENV_LOGIN_DELAY",
    "ENV_PARTS",
    "ENV_PASSWORD",
    "ENV_RATE_LIMIT",
    "ENV_SELF_UPDATE",
    "ENV_SESSION_LOG",
    "install_fake_steamcmd",
    "main",
    "read_sessions",
]

_PREFIX = "OPENWORKSHOP_FAKE_STEAMCMD_"
ENV_CATALOG = _PREFIX + "CATALOG"
"""A catalog JSON file (``SteamCatalog.to_json``), or an ``http://`` URL that serves one."""
ENV_LOGIN_DELAY = _PREFIX + "LOGIN_DELAY"
"""Seconds a login takes (default 1.5, as a real anonymous login)."""
ENV_ITEM_DELAY = _PREFIX + "ITEM_DELAY"
"""Seconds each item takes to download (default 0.2)."""
ENV_HANG = _PREFIX + "HANG"
"""``1``: after login, start a child process and hang forever on the first item."""
ENV_SELF_UPDATE = _PREFIX + "SELF_UPDATE"
"""``1``: the first run in ``ENV_HOME`` updates itself and loses the session's commands."""
ENV_RATE_LIMIT = _PREFIX + "RATE_LIMIT"
"""``1``: the login fails with ``FAILED (Rate Limit Exceeded)``."""
ENV_GLUED = _PREFIX + "GLUED"
"""``1``: result lines end without a newline, glued to the next text."""
ENV_SESSION_LOG = _PREFIX + "SESSION_LOG"
"""A file to append one JSON line to per session (argv, login, items, pids and the parent's,
environ)."""
ENV_PASSWORD = _PREFIX + "PASSWORD"
"""The password every account has; unset accepts any. A wrong one: ``Invalid Password``."""
ENV_GUARD = _PREFIX + "GUARD"
"""``code``: accounts ask for a Steam Guard code; ``mobile``: for a phone confirmation."""
ENV_HOME = _PREFIX + "HOME"
"""The fake's installation folder (self-update marker, ``logs/``, default install dir)."""
ENV_GATE = _PREFIX + "GATE"
"""A folder: each item is written in ``ENV_PARTS`` parts into its download folder, and before
part ``k`` (from 2) the fake waits until the file ``GATE/<item id>-<k>`` exists (a slow
download that a test moves on step by step, without a clock)."""
ENV_PARTS = _PREFIX + "PARTS"
"""Into how many parts ``ENV_GATE`` cuts each item (default 2)."""

VERSION = "1741737873"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _flag(name: str) -> bool:
    return _env(name).strip().lower() in ("1", "true", "yes", "on")


class _Console:
    """stdout as steamcmd writes it: flushed at once, lines optionally glued."""

    def __init__(self, out: IO[str], glued: bool) -> None:
        self._out = out
        self._glued = glued

    def write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def line(self, text: str = "") -> None:
        self.write(text + "\n")

    def result(self, text: str, glue: str) -> None:
        """A result line; glued mode leaves out its newline (``glue`` joins the next text)."""
        self.write(text + (glue if self._glued else "\n"))


# --- VDF (appworkshop_APP.acf) ------------------------------------------------------------


def parse_vdf(text: str) -> dict[str, Any]:
    """Valve's KeyValues text (``"key"\\t\\t"value"``, nested ``{ }``) as nested dicts."""
    tokens: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            end = text.index('"', i + 1)
            tokens.append(text[i + 1 : end])
            i = end + 1
        elif c in "{}":
            tokens.append(c)
            i += 1
        elif text.startswith("//", i):
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
        else:
            i += 1

    def block(pos: int) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        while pos < len(tokens) and tokens[pos] != "}":
            key = tokens[pos]
            if tokens[pos + 1] == "{":
                out[key], pos = block(pos + 2)
                pos += 1  # the closing brace
            else:
                out[key] = tokens[pos + 1]
                pos += 2
        return out, pos

    return block(0)[0]


def dump_vdf(data: Mapping[str, Any], depth: int = 0) -> str:
    """The inverse of :func:`parse_vdf`, with steamcmd's two TABs between key and value."""
    pad = "\t" * depth
    lines: list[str] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines += [
                f'{pad}"{key}"',
                f"{pad}{{",
                dump_vdf(value, depth + 1).rstrip("\n"),
                f"{pad}}}",
            ]
        else:
            lines.append(f'{pad}"{key}"\t\t"{value}"')
    return "\n".join(line for line in lines if line != "") + "\n"


# --- the session ----------------------------------------------------------------------


def _split_commands(argv: Sequence[str]) -> list[list[str]]:
    """``+cmd a b +cmd2`` → ``[[cmd, a, b], [cmd2]]``; ``+"login anonymous"`` works too."""
    commands: list[list[str]] = []
    for token in argv:
        if token.startswith("+"):
            commands.append(shlex.split(token[1:]) or [""])
        elif commands:
            commands[-1].append(token)
    return commands


def _read_runscript(path: Path) -> list[list[str]]:
    commands: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = shlex.split(line, comments=True)
        if words:
            commands.append(words)
    return commands


def _load_catalog() -> Any:
    from openworkshop.testing.catalog import SteamCatalog

    source = _env(ENV_CATALOG)
    if not source:
        return SteamCatalog()
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:
            return SteamCatalog.from_json(response.read().decode("utf-8"))
    return SteamCatalog.load(Path(source))


def _home() -> Path:
    home = Path(_env(ENV_HOME) or Path(tempfile.gettempdir()) / "openworkshop-fake-steamcmd")
    home.mkdir(parents=True, exist_ok=True)
    return home


class _Session:
    def __init__(self, argv: Sequence[str], console: _Console) -> None:
        self.argv = list(argv)
        self.console = console
        self.home = _home()
        self.root = self.home
        self.user: str | None = None
        self.logged_in = False
        self.catalog: Any = None
        self.record: dict[str, Any] = {
            "session": f"{os.getpid()}-{time.time_ns()}",
            "pid": os.getpid(),
            "ppid": os.getppid(),  # the server process that ran it
            "argv": self.argv,
            "items": [],
            # what steamcmd inherited, so tests can see that no secret reached it
            "environ": dict(os.environ),
        }
        self.logged = False

    # -- bookkeeping --

    def log_session(self) -> None:
        if self.logged:
            return
        self.logged = True
        path = _env(ENV_SESSION_LOG)
        if path:
            line = json.dumps(self.record) + "\n"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)

    def workshop_log(self, app_id: int, text: str) -> None:
        logs = self.home / "logs"
        logs.mkdir(exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with (logs / "workshop_log.txt").open("a", encoding="utf-8") as out:
            out.write(f"[{stamp}] [AppID {app_id}] {text}\n")

    # -- the run --

    def banner(self) -> None:
        c = self.console
        c.line(f"Redirecting stderr to '{self.home / 'logs' / 'stderr.txt'}'")
        c.line("[  0%] Checking for available updates...")
        c.line("[----] Verifying installation...")
        c.line(f"Steam Console Client (c) Valve Corporation - version {VERSION}")
        c.line("-- type 'quit' to exit --")
        c.line("Loading Steam API...OK")
        c.line()

    def self_update(self) -> bool:
        """On the first run with ENV_SELF_UPDATE: update, restart, and lose the commands."""
        marker = self.home / ".fake_steamcmd_updated"
        if not _flag(ENV_SELF_UPDATE) or marker.exists():
            return False
        c = self.console
        c.line(f"Redirecting stderr to '{self.home / 'logs' / 'stderr.txt'}'")
        c.line("[  0%] Checking for available updates...")
        for done, percent in ((0, "----"), (2137, "  0%"), (5002, " 50%"), (7057, " 89%")):
            c.line(f"[{percent}] Downloading update ({done} of 7057 KB)...")
        c.line("[100%] Download complete.")
        for step in ("Extracting package", "Installing update", "Cleaning up"):
            c.line(f"[----] {step}...")
        c.line("[----] Update complete, launching Steamcmd...")
        c.line("UpdateUI: skip show logo")
        c.line("steamcmd.sh[33]: Restarting steamcmd by request...")
        marker.touch()
        self.record["self_update"] = True
        return True

    def expand(self, commands: list[list[str]]) -> list[list[str]]:
        """The commands with each ``runscript`` replaced by the script's commands."""
        flat: list[list[str]] = []
        for words in commands:
            if words[0].lower() != "runscript":
                flat.append(words)
                continue
            script = Path(words[1]) if len(words) > 1 else Path()
            try:
                info = script.stat()
                nested = _read_runscript(script)
            except OSError:
                flat.append(["@error", f'ERROR! Failed to open runscript "{script}"'])
                continue
            self.record["runscript"] = str(script)
            self.record["runscript_mode"] = stat.S_IMODE(info.st_mode)
            flat.extend(nested)
        return flat

    def run(self, commands: list[list[str]]) -> int:
        commands = self.expand(commands)
        self.record["items"] = [
            int(w[2])
            for w in commands
            if w[0].lower() == "workshop_download_item" and len(w) > 2 and w[2].isdigit()
        ]
        updated = self.self_update()
        self.banner()
        for words in commands:
            name, args = words[0].lower(), words[1:]
            if name in ("quit", "exit"):
                return self.quit()
            if name == "force_install_dir":
                if self.user is not None:
                    self.console.line("Please use force_install_dir before logon!")
                    continue
                self.root = Path(args[0]).expanduser() if args else self.root
            elif name == "login":
                self.login(args)
                self.log_session()
            elif name == "workshop_download_item":
                if len(args) < 2 or not (args[0].isdigit() and args[1].isdigit()):
                    self.console.line("Usage: workshop_download_item <appid> <PublishedFileId>")
                elif self.logged_in and not updated:  # the restart lost the commands
                    self.download(int(args[0]), int(args[1]))
            elif name == "@error":
                self.console.line(args[0])
            elif not name.startswith("@"):
                self.console.line(f'Unknown command "{name}"')
        # no quit: steamcmd waits at its prompt until stdin ends
        self.console.write("Steam>")
        sys.stdin.read()
        return self.quit()

    def quit(self) -> int:
        self.log_session()
        self.console.line("Unloading Steam API...OK")
        return 0

    # -- login --

    def login(self, args: list[str]) -> bool:
        c = self.console
        user = args[0] if args else "anonymous"
        self.user = user
        self.record["login"] = user
        delay = float(_env(ENV_LOGIN_DELAY, "1.5") or 0)
        if user == "anonymous":
            c.write("Connecting anonymously to Steam Public...")
            time.sleep(delay)
            if _flag(ENV_RATE_LIMIT):
                c.line("FAILED (Rate Limit Exceeded)")
                return False
            c.line("OK")
        else:
            password = args[1] if len(args) > 1 else None
            c.line("Logging in using username/password.")
            c.write(f"Logging in user '{user}' [U:1:{_account_id(user)}] to Steam Public...")
            if password is None:
                c.line()
                c.line("Cached credentials not found.")
                c.write("password: ")
                if not sys.stdin.readline():
                    c.line("FAILED (Invalid Password)")
                    return False
            time.sleep(delay)
            if _flag(ENV_RATE_LIMIT):
                c.line("FAILED (Rate Limit Exceeded)")
                return False
            expected = _env(ENV_PASSWORD)
            if expected and password != expected:
                c.line("FAILED (Invalid Password)")
                return False
            guard = _env(ENV_GUARD).strip().lower()
            if guard == "code" and len(args) < 3:
                c.line()
                c.line(
                    "This computer has not been authenticated for your account using Steam Guard."
                )
                c.line(
                    "Please check your email for the message from Steam, and enter the Steam Guard"
                )
                c.line(" code from that message.")
                c.line("You can also enter this code at any time using 'set_steam_guard_code'")
                c.line(" at the console.")
                c.write("Steam Guard code:")
                if not sys.stdin.readline():
                    c.line("FAILED (Account Logon Denied)")
                    return False
            elif guard == "mobile":
                c.line()
                c.line("This account is protected by a Steam Guard mobile authenticator.")
                c.line("Please confirm the login in the Steam Mobile app on your phone.")
                c.line()
                c.write("Waiting for confirmation...")
                self.log_session()
                while True:
                    time.sleep(3600)
            c.line("OK")
        c.line("Waiting for client config...OK")
        c.line("Waiting for user info...OK")
        self.logged_in = True
        return True

    # -- downloads --

    def download(self, app_id: int, mod_id: int) -> None:
        c = self.console
        if _flag(ENV_HANG):
            child = subprocess.Popen(  # steamcmd.sh's binary, or a helper it left running
                [sys.executable, "-c", "import time\nwhile True: time.sleep(60)"],
                stdin=subprocess.DEVNULL,
            )
            self.record["child_pid"] = child.pid
            self.logged = False  # write the record again, now with the child's pid
            self.log_session()
            c.line(f"Downloading item {mod_id} ...")
            while True:
                time.sleep(3600)
        if self.catalog is None:
            self.catalog = _load_catalog()
        c.line(f"Downloading item {mod_id} ...")
        time.sleep(float(_env(ENV_ITEM_DELAY, "0.2") or 0))
        item = self.catalog.items.get(mod_id)
        app = self.catalog.apps.get(app_id)
        error: str | None = None
        if item is None:
            error = "File Not Found"
        elif not item.visible:
            error = "Access Denied"
        elif item.details.app_id != app_id or item.details.is_collection:
            error = "Failure"
        elif item.download_error:
            error = item.download_error
        elif self.user == "anonymous" and app is not None and not app.anonymous:
            error = "Failure"  # not in "Anonymous Dedicated Server Comp": unowned
        if error is not None:
            self.workshop_log(app_id, f"Download item {mod_id} result : {error}")
            c.result(f"ERROR! Download item {mod_id} failed ({error}).", "")
            return
        size = self.fetch(app_id, item)
        self.workshop_log(app_id, f"Download item {mod_id} result : OK")
        target = self.content(app_id, mod_id)
        c.result(f'Success. Downloaded item {mod_id} to "{target}" ({size} bytes)', " ")

    def content(self, app_id: int, mod_id: int) -> Path:
        return self.root / "steamapps" / "workshop" / "content" / str(app_id) / str(mod_id)

    def fetch(self, app_id: int, item: Any) -> int:
        workshop = self.root / "steamapps" / "workshop"
        acf_path = workshop / f"appworkshop_{app_id}.acf"
        acf: dict[str, Any] = {}
        if acf_path.exists():
            acf = parse_vdf(acf_path.read_text(encoding="utf-8")).get("AppWorkshop", {})
        key = str(item.id)
        installed = acf.get("WorkshopItemsInstalled", {}).get(key, {})
        target = self.content(app_id, item.id)
        if installed.get("timeupdated") == str(item.details.time_updated):
            # steamcmd trusts its ACF: listed as installed means nothing to fetch, even when
            # the folder is gone (Dahlgren/arma-server-web-admin #87)
            return int(installed.get("size", "0"))
        staging = workshop / "downloads" / str(app_id) / key
        if staging.exists():
            _rmtree(staging)
        staging.mkdir(parents=True)
        gate = _env(ENV_GATE)
        if gate:
            size = _write_gated(item, staging, Path(gate), int(_env(ENV_PARTS, "2") or 2))
        else:
            size = item.materialize(staging)
        if target.exists():
            _rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
        now = str(int(time.time()))
        manifest = item.details.hcontent_file or "-1"
        acf.setdefault("appid", str(app_id))
        acf["SizeOnDisk"] = str(size)
        acf["NeedsUpdate"] = "0"
        acf["NeedsDownload"] = "0"
        acf["TimeLastUpdated"] = now
        acf.setdefault("WorkshopItemsInstalled", {})[key] = {
            "size": str(size),
            "timeupdated": str(item.details.time_updated),
            "manifest": manifest,
        }
        acf.setdefault("WorkshopItemDetails", {})[key] = {
            "manifest": manifest,
            "timeupdated": str(item.details.time_updated),
            "timetouched": now,
            "latest_timeupdated": str(item.details.time_updated),
            "latest_manifest": manifest,
        }
        acf_path.write_text(dump_vdf({"AppWorkshop": acf}), encoding="utf-8")
        return size


def _write_gated(item: Any, staging: Path, gate: Path, parts: int) -> int:
    """The item's bytes in ``parts`` parts, each after its gate file exists."""
    total = item.content_size()
    parts = max(1, parts)
    written = 0
    for k in range(1, parts + 1):
        if k > 1:
            opened = gate / f"{item.id}-{k}"
            while not opened.exists():  # the test opens it when it has looked
                time.sleep(0.01)
        stop = None if k == parts else total * k // parts
        written += item.write_part(staging, total * (k - 1) // parts, stop)
    return written


def _account_id(user: str) -> int:
    """A stable 32-bit account id for a name (newer steamcmd prints ``[U:1:ID]``)."""
    return zlib.crc32(user.lower().encode()) or 1


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one fake steamcmd session with ``argv`` (without the program name)."""
    args = list(sys.argv[1:] if argv is None else argv)
    console = _Console(sys.stdout, _flag(ENV_GLUED))
    session = _Session(args, console)
    try:
        return session.run(_split_commands(args))
    except BrokenPipeError:
        return 1


# --- for launchers and tests ---------------------------------------------------------


def install_fake_steamcmd(
    folder: Path,
    *,
    catalog: str | Path | None = None,
    **env: str | float | bool,
) -> Path:
    """Write an executable fake ``steamcmd`` into ``folder``; return its path.

    ``catalog`` (a JSON file or a URL) and ``env`` (``login_delay=0.05``, ``glued=True`` …:
    the ``ENV_*`` names in lower case without the prefix) are baked in as defaults; the
    environment of each run still overrides them. The script runs this module with the
    current Python interpreter. ``folder`` also becomes the fake's home (``ENV_HOME``).
    """
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    defaults: dict[str, str] = {ENV_HOME: str(folder)}
    if catalog is not None:
        defaults[ENV_CATALOG] = str(catalog)
    for key, value in env.items():
        variable = _PREFIX + key.upper()
        if variable not in _SETTINGS:
            raise TypeError(f"unknown fake steamcmd setting {key!r}")
        defaults[variable] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    script = folder / "steamcmd"
    text = (
        f"#!{sys.executable}\n"
        "# A fake steamcmd for Open Workshop (openworkshop_steam.fake.steamcmd). Not Valve's.\n"
        "import os, runpy\n"
        f"for key, value in {defaults!r}.items():\n"
        "    os.environ.setdefault(key, value)\n"
        f"runpy.run_path({str(Path(__file__).resolve())!r}, run_name='__main__')\n"
    )
    script.write_text(text, encoding="utf-8")
    script.chmod(0o755)
    return script


_SETTINGS = frozenset(
    {
        ENV_CATALOG,
        ENV_LOGIN_DELAY,
        ENV_ITEM_DELAY,
        ENV_HANG,
        ENV_SELF_UPDATE,
        ENV_RATE_LIMIT,
        ENV_GLUED,
        ENV_SESSION_LOG,
        ENV_PASSWORD,
        ENV_GUARD,
        ENV_HOME,
        ENV_GATE,
        ENV_PARTS,
    }
)


def read_sessions(log: Path) -> list[dict[str, Any]]:
    """The sessions a session log (``ENV_SESSION_LOG``) recorded, one dict per line."""
    if not log.exists():
        return []
    sessions: dict[str, dict[str, Any]] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            sessions[record["session"]] = record  # a later line of a session completes it
    return list(sessions.values())


if __name__ == "__main__":
    sys.exit(main())
