"""``openworkshop install | update | remove | status``: the client on the command line.

Progress goes to the terminal as rich progress bars (the whole run and each mod: its place
in the server's queue, the server's download, the transfer), as plain lines when the output
is not a terminal, or as one JSON object a line with ``--json``. Every failure is one clear
line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TextIO

import attrs

from openworkshop.settings import read_settings, setting_named
from openworkshop_client.client import Client
from openworkshop_client.errors import ClientError, InstallFailed
from openworkshop_client.events import (
    Done,
    Event,
    Extracting,
    Failed,
    Queued,
    Removed,
    ServerDownloading,
    Skipped,
    Transferring,
    Verifying,
)
from openworkshop_client.settings import ClientSettings
from openworkshop_client.targets import parse_targets

__all__ = ["COMMANDS", "DEFAULT_SERVER_URL", "SERVER_URL_ENV", "add_commands", "run"]

COMMANDS = ("install", "update", "remove", "status")
_SERVER_URL = setting_named(ClientSettings, "server_url")
SERVER_URL_ENV: str = _SERVER_URL.env
DEFAULT_SERVER_URL: str = _SERVER_URL.default


def _common(parser: argparse.ArgumentParser, *, server: bool = True) -> None:
    if server:
        parser.add_argument(
            "--server",
            dest="server_url",
            default=read_settings(ClientSettings, os.environ).server_url,
            metavar="URL",
            help=f"the Open Workshop server (default ${SERVER_URL_ENV} or {DEFAULT_SERVER_URL})",
        )
    parser.add_argument("--json", action="store_true", help="one JSON object a line, for scripts")


def add_commands(commands: Any) -> None:
    """Add the client's commands to the ``openworkshop`` parser's subparsers."""
    install = commands.add_parser(
        "install",
        help="install mods (and what they require) into a mods folder",
        description="Install Workshop mods from an Open Workshop server into a mods folder: "
        "each dependency first, every archive checked (sha256) before it is used.",
    )
    install.add_argument(
        "targets",
        nargs="+",
        metavar="MOD",
        help="mod ids (1,2,3 or [1,2] too), collection ids or Workshop URLs "
        "(https://steamcommunity.com/sharedfiles/filedetails/?id=N)",
    )
    install.add_argument("--into", type=Path, required=True, help="the mods folder")
    install.add_argument("--transfers", type=int, default=4, help="archives at once (default 4)")
    _common(install)
    update = commands.add_parser(
        "update", help="update the mods of a folder to the server's versions"
    )
    update.add_argument("folder", type=Path, help="the mods folder")
    update.add_argument("--transfers", type=int, default=4, help="archives at once (default 4)")
    _common(update)
    remove = commands.add_parser("remove", help="remove mods from a mods folder")
    remove.add_argument("targets", nargs="+", metavar="MOD", help="mod ids or Workshop URLs")
    remove.add_argument("--from", dest="folder", type=Path, required=True, help="the mods folder")
    remove.add_argument(
        "--force", action="store_true", help="even when other installed mods require them"
    )
    _common(remove, server=False)
    status = commands.add_parser("status", help="the mods of a folder and whether they are current")
    status.add_argument("folder", type=Path, help="the mods folder")
    status.add_argument(
        "--offline", action="store_true", help="the folder's manifest only, without the server"
    )
    _common(status)


# --- views --------------------------------------------------------------------------------


def _describe(event: Event) -> str:
    match event:
        case Queued(position=None):
            return "queued on the server"
        case Queued(position=position):
            return f"queued on the server ({position} ahead)"
        case ServerDownloading(done=int(done), total=int(total)):
            return f"server downloading from Steam ({done} of {total} bytes)"
        case ServerDownloading():
            return "server downloading from Steam"
        case Transferring(done=done, total=total):
            return f"transferring {done} of {total if total is not None else '?'} bytes"
        case Verifying():
            return "verifying sha256"
        case Extracting():
            return "extracting"
        case Skipped():
            return "already current"
        case Removed():
            return "removed"
        case Done(sha256=sha256):
            return f"installed (sha256 {sha256[:12]})"
        case Failed(message=message):
            return f"failed: {message}"
    return type(event).__name__


def _event_json(event: Event) -> dict[str, Any]:
    data = attrs.asdict(event)
    data["phase"] = event.phase.name.lower()
    return {"event": type(event).__name__.lower(), **data}


@attrs.define
class LineView:
    """One line per change of a mod's step (a transfer: when it starts and ends)."""

    out: TextIO
    last: dict[int, str] = attrs.field(factory=dict)

    def __enter__(self) -> LineView:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __call__(self, event: Event) -> None:
        if isinstance(event, Transferring):
            ended = event.total is not None and event.done >= event.total
            key = "transfer-end" if ended else "transfer"
        else:
            key = type(event).__name__ + _describe(event)
        if self.last.get(event.mod_id) == key:
            return
        self.last[event.mod_id] = key
        print(f"{event.mod_id}: {_describe(event)}", file=self.out, flush=True)


@attrs.define
class JsonView:
    out: TextIO

    def __enter__(self) -> JsonView:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __call__(self, event: Event) -> None:
        print(json.dumps(_event_json(event)), file=self.out, flush=True)


class RichView:
    """A bar for the whole run (mods finished of mods known) and one for each mod."""

    def __init__(self, title: str) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        self.overall = self.progress.add_task(title, total=0)
        self.tasks: dict[int, Any] = {}
        self.finished: set[int] = set()

    def __enter__(self) -> RichView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: Event) -> None:
        task = self.tasks.get(event.mod_id)
        if task is None:
            task = self.tasks[event.mod_id] = self.progress.add_task(str(event.mod_id), total=None)
        text = f"{event.mod_id}: {_describe(event) if not isinstance(event, Transferring) else 'transferring'}"
        if isinstance(event, Transferring | ServerDownloading) and event.done is not None:
            self.progress.update(task, description=text, completed=event.done, total=event.total)
        else:
            self.progress.update(task, description=text)
        if isinstance(event, Done | Failed):
            self.finished.add(event.mod_id)
            if isinstance(event, Done) and not isinstance(event, Removed):
                total = self.progress.tasks[task].total
                if total:
                    self.progress.update(task, completed=total)
        self.progress.update(self.overall, total=len(self.tasks), completed=len(self.finished))


def _view(args: argparse.Namespace, title: str) -> Any:
    if args.json:
        return JsonView(sys.stdout)
    if sys.stdout.isatty():
        return RichView(title)
    return LineView(sys.stdout)


# --- the commands -------------------------------------------------------------------------


def _print(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data) if args.json else text, flush=True)


async def _install(args: argparse.Namespace) -> None:
    ids = parse_targets(args.targets)
    async with Client(args.server_url, max_transfers=args.transfers) as client:
        with _view(args, "install") as view:
            mods = await client.install(ids, into=args.into, progress=view)
    names = ", ".join(f"{m.id} {m.name}".strip() for m in mods)
    _print(
        args,
        {"event": "result", "installed": [m.to_json() for m in mods]},
        f"{len(mods)} mods in {args.into}: {names}",
    )


async def _update(args: argparse.Namespace) -> None:
    async with Client(args.server_url, max_transfers=args.transfers) as client:
        with _view(args, "update") as view:
            mods = await client.update(args.folder, progress=view)
    text = f"updated {len(mods)}: " + ", ".join(str(m.id) for m in mods) if mods else "all current"
    _print(args, {"event": "result", "updated": [m.to_json() for m in mods]}, text)


async def _remove(args: argparse.Namespace) -> None:
    ids = parse_targets(args.targets)
    async with Client(DEFAULT_SERVER_URL) as client:  # removing asks no server
        removed = await client.remove(ids, args.folder, force=args.force)
    _print(
        args,
        {"event": "result", "removed": removed},
        "removed " + ", ".join(map(str, removed)),
    )


async def _status(args: argparse.Namespace) -> None:
    async with Client(args.server_url) as client:
        found = await client.status(args.folder, check=not args.offline)
    if args.json:
        for item in found:
            print(json.dumps({**item.mod.to_json(), "state": item.state}), flush=True)
        return
    if not found:
        print(f"no mods installed by Open Workshop in {args.folder}", flush=True)
    for item in found:
        print(f"{item.mod.id}\t{item.state}\t{item.mod.version}\t{item.mod.name}", flush=True)


_RUN: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, None]]] = {
    "install": _install,
    "update": _update,
    "remove": _remove,
    "status": _status,
}


def run(args: argparse.Namespace) -> int:
    """Run a client command parsed by ``add_commands``'s parsers; the exit status."""
    try:
        asyncio.run(_RUN[args.command](args))
    except KeyboardInterrupt:
        print(f"openworkshop {args.command}: interrupted; the folder is as it was", file=sys.stderr)
        return 130
    except (ClientError, ValueError, OSError) as exc:
        lines = (
            [str(e) for e in exc.failures.values()]
            if isinstance(exc, InstallFailed)
            else [str(exc)]
        )
        if isinstance(exc, InstallFailed):
            lines.append("nothing was installed")
        if args.json:
            reason = getattr(exc, "reason", type(exc).__name__)
            print(json.dumps({"event": "error", "reason": reason, "message": str(exc)}), flush=True)
        for line in lines:
            print(f"openworkshop {args.command}: {line}", file=sys.stderr)
        return 1
    return 0
