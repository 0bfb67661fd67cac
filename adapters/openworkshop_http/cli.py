"""The ``openworkshop`` command: ``serve``, ``worker``, ``demo`` and ``fake-steam``.

Settings come from ``OPENWORKSHOP_*`` environment variables (``wiring.ServerSettings.from_env``);
the flags ``--host``, ``--port``, ``--data-dir``, ``--database``, ``--ssl-certfile``,
``--ssl-keyfile`` and ``--server`` override them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from openworkshop import Workshop
from openworkshop.errors import ApiError, SteamConfigurationError, WorkshopError
from openworkshop.testing import SteamCatalog
from openworkshop.testing.sample import PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID
from openworkshop_client import commands as client_commands
from openworkshop_http.app import create_app, downloads_off
from openworkshop_http.servers import (
    SERVERS,
    check_address,
    configure_logging,
    serve,
)
from openworkshop_http.settings import HttpSettings
from openworkshop_http.wiring import (
    ServerSettings,
    demo_workshop,
    describe_database,
    server_workshop,
)

__all__ = ["main"]

log = logging.getLogger("openworkshop")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0 to 65535; 0 picks a free one)")
    return port


def _version() -> str:
    try:
        return importlib.metadata.version("open-workshop")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "unknown"


_DEFAULTS = HttpSettings()
"""The defaults the flags' help names (declared once, in ``HttpSettings``)."""


_DATABASE_HELP = (
    "the catalog's database: sqlite:///path or postgresql://user@host/db "
    "(default: openworkshop.sqlite3 in the data folder; OPENWORKSHOP_DATABASE)"
)


def _add_server_flags(parser: argparse.ArgumentParser, *, what: str) -> None:
    parser.add_argument("--host", help=f"address to listen on (default {_DEFAULTS.host})")
    parser.add_argument(
        "--port",
        type=_port,
        help=f"port to listen on (default {_DEFAULTS.port}; 0 picks a free one)",
    )
    parser.add_argument("--data-dir", type=Path, help=what)
    parser.add_argument("--database", help=_DATABASE_HELP)
    parser.add_argument("--ssl-certfile", type=Path, help="serve HTTPS with this certificate")
    parser.add_argument("--ssl-keyfile", type=Path, help="... and this private key")
    parser.add_argument(
        "--server",
        choices=SERVERS,
        help=f"ASGI server (default {_DEFAULTS.server}; OPENWORKSHOP_SERVER)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning"],
        help="info (the default) logs each request and each download's change of state; "
        "warning only problems",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openworkshop",
        description="Open Workshop: a Steam Workshop mirror that speaks the original Open "
        "Workshop API.",
    )
    parser.add_argument("--version", action="version", version=f"openworkshop {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve_cmd = commands.add_parser(
        "serve",
        help="run the server",
        description="Run the server: SQLite storage (or the --database given) and archives "
        "in the data folder, mods from Steam. Settings: OPENWORKSHOP_* variables (docs/settings.md).",
    )
    _add_server_flags(serve_cmd, what=f"data folder (default ./{_DEFAULTS.data_dir})")
    serve_cmd.add_argument(
        "--no-worker",
        action="store_true",
        help="serve the API only: the downloads are left to `openworkshop worker` processes "
        "on the same database and data folder",
    )
    worker_cmd = commands.add_parser(
        "worker",
        help="download mods for the servers on the same database (no HTTP)",
        description="Take queued mods from the storage and download them (steamcmd), with no "
        "HTTP: any number of workers and `serve` processes can share one database and one "
        "data folder (docs/deploy.md). Settings: OPENWORKSHOP_* variables (docs/settings.md).",
    )
    worker_cmd.add_argument(
        "--data-dir", type=Path, help=f"data folder (default ./{_DEFAULTS.data_dir})"
    )
    worker_cmd.add_argument("--database", help=_DATABASE_HELP)
    worker_cmd.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning"],
        help="info (the default) logs each download's change of state; warning only problems",
    )
    demo_cmd = commands.add_parser(
        "demo",
        help="run the server against a fake Steam with a sample catalog (offline)",
        description="The same server wired to the shipped fake Steam and fake steamcmd with "
        "a sample catalog: every endpoint works offline, nothing reaches Valve.",
    )
    _add_server_flags(demo_cmd, what="data folder (default: a temporary one, removed at exit)")
    demo_cmd.add_argument(
        "--empty", action="store_true", help="do not request the sample mods at start"
    )
    commands.add_parser(
        "fake-steam",
        help="run the fake Steam and a fake steamcmd (see `openworkshop fake-steam -h`)",
        add_help=False,
    )
    client_commands.add_commands(commands)  # install, update, remove, status
    return parser


def _settings(args: argparse.Namespace, **overrides: Any) -> ServerSettings:
    """The settings from the environment and the command line's flags, with the port the
    server will listen on (a free one for port 0)."""
    flags = {
        "host": args.host,
        "port": args.port,
        "ssl_certfile": args.ssl_certfile,
        "ssl_keyfile": args.ssl_keyfile,
        "server": args.server,
        "database": args.database,
    }
    settings = ServerSettings.from_env(os.environ, **flags, **overrides)
    port = check_address(settings.http.host, settings.http.port)
    return attrs.evolve(settings, http=attrs.evolve(settings.http, port=port))


def _base_url(settings: HttpSettings) -> str:
    scheme = "https" if settings.ssl_certfile else "http"
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"{scheme}://{host}:{settings.port}"


def _app(workshop: Workshop, settings: ServerSettings) -> Any:
    return create_app(
        workshop, settings.http, steamcmd=settings.steam.steamcmd, manage_lifespan=False
    )


async def _serve(args: argparse.Namespace) -> None:
    settings = _settings(args, data_dir=args.data_dir)
    async with server_workshop(settings, workers=not args.no_worker) as workshop:
        print(
            f"Open Workshop {_version()} on {_base_url(settings.http)}, "
            f"data in {settings.http.data_dir.resolve()}, catalog in "
            f"{describe_database(settings.http.database, settings.http.data_dir)}",
            flush=True,
        )
        if not workshop.steam.can_download:
            log.warning(downloads_off(settings.steam.steamcmd))
        await _run(_app(workshop, settings), settings.http, args)


async def _worker(args: argparse.Namespace) -> None:
    settings = ServerSettings.from_env(os.environ, data_dir=args.data_dir, database=args.database)
    async with server_workshop(settings) as workshop:
        if not workshop.steam.can_download:
            named = settings.steam.steamcmd or "steamcmd"
            raise SteamConfigurationError(
                f"a worker downloads with steamcmd, and {named!r} was not found: install it "
                "(docs/deploy.md) or set OPENWORKSHOP_STEAMCMD to its path"
            )
        print(
            f"Open Workshop {_version()} worker, data in {settings.http.data_dir.resolve()}, "
            f"catalog in {describe_database(settings.http.database, settings.http.data_dir)}",
            flush=True,
        )
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):  # a graceful end on SIGTERM too
            loop.add_signal_handler(signal.SIGTERM, stopped.set)
        await stopped.wait()


async def _run(app: Any, settings: HttpSettings, args: argparse.Namespace) -> None:
    """Serve ``app`` where and how the settings say."""
    await serve(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=settings.ssl_certfile,
        ssl_keyfile=settings.ssl_keyfile,
        server=settings.server,
        log_level=args.log_level,
    )


def _demo_banner(base: str, catalog: SteamCatalog, requested: list[int], left: list[int]) -> str:
    some = requested[0] if requested else next(iter(catalog.items))
    game = next(iter(catalog.apps))
    lines = [
        f"Open Workshop demo on {base} — a fake Steam, nothing reaches Valve. Ctrl-C stops it.",
        f"  API docs:        {base}/docs",
        f"  the catalog:     {base}/list/mods/?page_size=50&dates=true",
        f"  one mod:         {base}/info/mod/{some}?dependencies=true&game=true",
        f"  its archive:     {base}/download/{some}",
        f"  games, tags:     {base}/list/games/  {base}/list/tags/{game}",
        f"  statistics:      {base}/statistics/info/all",
    ]
    if left:
        lines.append(
            f"  not asked yet:   {base}/download/steam/{left[0]} (then poll "
            f"{base}/condition/mod/[{left[0]}])"
        )
    lines.append(f"  a private mod:   {base}/download/steam/{PRIVATE_MOD_ID}")
    return "\n".join(lines)


async def _demo(args: argparse.Namespace) -> None:
    with contextlib.ExitStack() as stack:
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="openworkshop-demo-"))
            )
        listening = _settings(args).http
        overrides = {"host": listening.host, "port": listening.port}
        async with demo_workshop(Path(data_dir), environ=os.environ, overrides=overrides) as demo:
            ids = [i for i in demo.catalog.items if i not in (PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID)]
            left = ids[-1:]
            requested = [] if args.empty else ids[:-1]
            for mod_id in requested:
                with contextlib.suppress(ApiError):
                    await demo.workshop.request_download(mod_id)
            base = _base_url(listening)
            print(_demo_banner(base, demo.catalog, requested, left), flush=True)
            await _run(_app(demo.workshop, demo.settings), listening, args)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script ``openworkshop``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "fake-steam":
        from openworkshop_steam.fake import main as fake_steam_main

        return fake_steam_main(argv[1:])
    args = _parser().parse_args(argv)
    if args.command in client_commands.COMMANDS:
        return client_commands.run(args)
    configure_logging(args.log_level)
    run = {"serve": _serve, "worker": _worker}.get(args.command, _demo)
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        pass
    except (WorkshopError, OSError, ValueError) as exc:
        print(f"openworkshop {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
